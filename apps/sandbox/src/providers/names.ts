/** The providers the sandbox speaks for; each is mounted under `/<name>`. */
export const PROVIDER_NAMES = ["artie", "bridgeport", "prisma"] as const;
export type ProviderName = (typeof PROVIDER_NAMES)[number];

/**
 * What a provider call does, as far as faults and stats are concerned: `create`
 * makes a database, `find` is a look-up a client uses to reconcile after a failure.
 */
export const OPERATION_NAMES = ["create", "find"] as const;
export type OperationName = (typeof OPERATION_NAMES)[number];
