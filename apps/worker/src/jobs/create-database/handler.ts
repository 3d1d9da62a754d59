import {
  isConflict,
  type ProviderClient,
  type ProviderInputs,
  type ProvisionedDatabase,
  providerError,
} from "@provisioner/provider-client";

export interface CreateDatabaseContext {
  client: ProviderClient;
  input: ProviderInputs[keyof ProviderInputs];
  /** What the provider sees: BRIDGEPORT's Idempotency-Key, the seed of Prisma's logicalId. */
  idempotencyKey: string;
  /** A previous run of this job may have reached the provider, so look before creating. */
  rerun: boolean;
  /** A previous run saw the provider accept the create (it is provisioning now). */
  createdEarlier: boolean;
  signal?: AbortSignal | undefined;
}

export interface CreateDatabaseOutcome {
  outcome: "created" | "deduplicated";
  database: ProvisionedDatabase;
}

/**
 * Makes sure the database exists, creating it at most once: after any run that may have
 * reached the provider, and always for a provider that does not refuse duplicates, the
 * name is looked up first; a conflict adopts the database that holds the name. Throws the provider's classified error; deciding what happens
 * next is the runner's job.
 */
export async function createDatabase(context: CreateDatabaseContext): Promise<CreateDatabaseOutcome> {
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
