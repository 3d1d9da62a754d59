import {
  identityKeyOf,
  isConflict,
  type ProviderClient,
  type ProviderInputs,
  type ProvisionedDatabase,
  providerError,
} from "@provisioner/provider-client";
import type { IdentityLocks } from "./identity-lock.ts";

export interface CreateDatabaseContext {
  client: ProviderClient;
  /** The provider account's name: part of the identity that one lock covers. */
  account: string;
  locks: IdentityLocks;
  input: ProviderInputs[keyof ProviderInputs];
  /** What the provider sees: BRIDGEPORT's Idempotency-Key, the seed of Prisma's logicalId. */
  idempotencyKey: string;
  /** A previous run of this job may have reached the provider, so look before creating. */
  rerun: boolean;
  /** A previous run saw the provider accept the create (it is provisioning now). */
  createdEarlier: boolean;
  /** A previous run kept the database's credentials (the create answer's), so none are minted. */
  credentialsKept: boolean;
  /** Names credentials minted for an adopted database; the same on every run of the job. */
  credentialsLabel: string;
  signal?: AbortSignal | undefined;
}

export interface CreateDatabaseOutcome {
  outcome: "created" | "deduplicated";
  database: ProvisionedDatabase;
}

/**
 * Makes sure the database exists, creating it at most once per identity: the identity's
 * lock keeps jobs under other keys out while this one looks and creates (IdentityBusyError
 * when one is in); after any run that may have reached the provider, and always for a
 * provider that does not refuse duplicates, the name is looked up first; a conflict
 * adopts the database that holds the name. An adopted database whose credentials were
 * never seen gets freshly minted ones. Throws the provider's classified error; deciding
 * what happens next is the runner's job.
 */
export function createDatabase(context: CreateDatabaseContext): Promise<CreateDatabaseOutcome> {
  const { client, account, input } = context;
  const identity = { provider: client.provider, account, key: identityKeyOf(client.provider, input as never) };
  return context.locks.hold(identity, context.signal, async (signal) => {
    const made = await lookOrCreate({ ...context, signal });
    return withCredentials({ ...context, signal }, made);
  });
}

async function lookOrCreate(context: CreateDatabaseContext): Promise<CreateDatabaseOutcome> {
  const { client, input, idempotencyKey, signal } = context;
  const identity = client.identityOf(input as never, { idempotencyKey });

  if (context.rerun || !client.refusesDuplicates) {
    const existing = await client.findDatabase(identity as never, { signal });
    if (existing) return settle(client, existing, context.createdEarlier ? "created" : "deduplicated");
  }

  try {
    const created = await client.createDatabase(input as never, { idempotencyKey, signal });
    return settle(client, created, "created");
  } catch (error) {
    if (!isConflict(error)) throw error;
    const existing = await client.findDatabase(identity as never, { signal });
    // The provider says the name is taken but will not show it: nothing to adopt.
    if (!existing) throw error;
    return settle(client, existing, "deduplicated");
  }
}

/**
 * Prisma shows connection strings only in the create answer: a database adopted after a
 * 409 or a lost answer would leave the job with no way to connect, so it mints its own,
 * once the database is ready (a provisioning one is minted for on a later run).
 */
async function withCredentials(
  context: CreateDatabaseContext,
  made: CreateDatabaseOutcome,
): Promise<CreateDatabaseOutcome> {
  const { client, signal } = context;
  const { database } = made;
  const connectable = Object.keys(database.secrets).length > 0 || context.credentialsKept;
  if (!client.mintCredentials || connectable || database.status !== "ready") return made;
  const secrets = await client.mintCredentials(database, { label: context.credentialsLabel, signal });
  return { ...made, database: { ...database, secrets } };
}

function settle(
  client: ProviderClient,
  database: ProvisionedDatabase,
  outcome: CreateDatabaseOutcome["outcome"],
): CreateDatabaseOutcome {
  if (database.status === "failed") {
    throw providerError({
      provider: client.provider,
      kind: "unknown",
      retryable: false,
      code: "PROVISIONING_FAILED",
      message: `${client.provider} reports that database ${database.name} failed to provision`,
    });
  }
  return { outcome, database };
}
