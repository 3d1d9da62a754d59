/** The providers the sandbox speaks for; each is mounted under `/<name>`. */
export const PROVIDER_NAMES = ["artie", "bridgeport", "prisma"] as const;
export type ProviderName = (typeof PROVIDER_NAMES)[number];

/**
 * What a provider call does, as far as faults and stats are concerned: `create`
 * makes a database, or is another write that needs a write token (Prisma's connection
 * mint and revoke); `find` is a look-up (of databases, or of Prisma's connections).
 */
export const OPERATION_NAMES = ["create", "find"] as const;
export type OperationName = (typeof OPERATION_NAMES)[number];
