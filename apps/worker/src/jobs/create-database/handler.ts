import {
  classifyJobFault,
  identityKeyOf,
  isConflict,
  type ProviderClient,
  type ProviderInputs,
  type ProviderName,
  type ProvisionedDatabase,
  parseProviderInput,
  secretInputFields,
} from "@provisioner/provider-client";
import {
  decryptFields,
  decryptValue,
  encryptValue,
  type ProviderSettings,
  type QueueSet,
  queueCallback,
} from "@provisioner/queue";
import type { Job } from "bullmq";
import type { Logger } from "pino";
import {
  type JobData,
  type JobProgress,
  type JobResult,
  type JobReturnValue,
  jobProgressSchema,
  readJobData,
} from "./definition.ts";
import type { IdentityLocks } from "./identity-lock.ts";

export interface HandlerDeps<P extends ProviderName> {
  queues: QueueSet;
  provider: P;
  /** One client per configured account of this provider. */
  clients: ReadonlyMap<string, ProviderClient<P>>;
  settings: ProviderSettings;
  /** Serialise creates of one identity across every worker. */
  locks: IdentityLocks;
  logger: Logger;
}

/** What one run came to: the job's result, or a database the provider is still provisioning. */
export type RunOutcome = { done: JobResult } | { provisioning: true };

/**
 * One run of a create-database job: reads and checks the job's data, decrypts and parses
 * its input, makes sure the database exists, keeps its credentials (encrypted) and
 * notifies the job's callbackUrl when it succeeds. Every failure is thrown as a classified
 * ProviderError; what it means to BullMQ is the runner's to decide.
 */
export function createDatabaseHandler<P extends ProviderName>(deps: HandlerDeps<P>) {
  const { queues, provider, settings } = deps;
  // The one line every job writes, and its only fields are the job's id, its provider and its
  // outcome, none of which can hold a secret: it skips the redaction that guards every other
  // line (two thirds of the line's cost, about 12 µs a job). Nothing else is logged through it.
  const readyLog = deps.logger.child({}, { redact: [] });
  const logReady = (jobId: string, outcome: JobResult["outcome"]) =>
    readyLog.info({ jobId, provider, outcome }, "database ready");
  const fault = (reason: Parameters<typeof classifyJobFault>[1]) => classifyJobFault(provider, reason);

  return async (job: Job<JobData, JobReturnValue>, signal?: AbortSignal): Promise<RunOutcome> => {
    const id = job.id as string;
    const read = readJobData(job);
    if (!read.valid) throw fault({ fault: "invalid-data", problem: read.problem });
    const { data } = read;
    if (Date.now() - data.submittedAt > settings.maxAgeMs)
      throw fault({ fault: "expired", maxAgeMs: settings.maxAgeMs });
    const client = deps.clients.get(data.account);
    if (!client) throw fault({ fault: "account-missing", account: data.account });
    let plain: Record<string, unknown>;
    try {
      plain = decryptFields(queues.keyring, data.input, secretInputFields[provider]);
    } catch {
      throw fault({ fault: "undecryptable" });
    }
    const input = parseProviderInput(provider, plain);

    const progress = jobProgressSchema.safeParse(job.progress);
    const earlier = progress.success ? progress.data : undefined;
    const { outcome, database } = await createDatabase({
      client,
      account: data.account,
      locks: deps.locks,
      input,
      idempotencyKey: data.providerKey ?? id,
      rerun: job.attemptsMade > 0 || job.attemptsStarted > 1 || data.generation > 0,
      createdEarlier: earlier?.created ?? false,
      credentialsKept: earlier?.secrets !== undefined,
      credentialsLabel: `provisioner-job-${id}`,
      signal,
    });
    // Prisma returns connection strings only in the create answer; keep them through the wait.
    const secrets = {
      ...(earlier?.secrets ? (decryptValue(queues.keyring, earlier.secrets) as Record<string, string>) : {}),
      ...database.secrets,
    };
    const sealed = Object.keys(secrets).length > 0 ? encryptValue(queues.keyring, secrets) : undefined;
    if (database.status === "provisioning") {
      const mark: JobProgress = { created: outcome === "created", provisioningRun: job.attemptsStarted };
      if (sealed) mark.secrets = sealed;
      await job.updateProgress(mark);
      return { provisioning: true };
    }
    logReady(id, outcome);
    const result: JobResult = { outcome, resource: database.resource };
    if (sealed) result.secrets = sealed;
    await queueCallback(queues, id, data, { status: "succeeded", outcome, resource: database.resource });
    return { done: result };
  };
}

interface CreateDatabaseContext<P extends ProviderName> {
  client: ProviderClient<P>;
  /** The provider account's name: part of the identity that one lock covers. */
  account: string;
  locks: IdentityLocks;
  input: ProviderInputs[P];
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

interface CreateDatabaseOutcome {
  outcome: "created" | "deduplicated";
  database: ProvisionedDatabase;
}

/**
 * Makes sure the database exists, creating it at most once per identity. After any run that
 * may have reached the provider, and always for a provider that does not refuse duplicates,
 * the name is looked up first; a conflict adopts the database that holds the name. An
 * adopted database whose credentials were never seen gets freshly minted ones. Throws the
 * provider's classified error.
 *
 * Where the provider refuses a second create of a name (every provider but Artie), that
 * refusal is what keeps an identity to one database: two jobs under different keys both
 * create, one is refused and adopts, with or without a lock. Only where it does not (Artie)
 * does the identity's lock keep jobs under other keys out while this one looks and creates
 * (IdentityBusyError when one is in); elsewhere it would cost every job a Redis round trip
 * before its provider call, and guard nothing the provider does not.
 */
function createDatabase<P extends ProviderName>(context: CreateDatabaseContext<P>): Promise<CreateDatabaseOutcome> {
  const { client, account, input } = context;
  const ensure = async (signal: AbortSignal | undefined) => {
    const made = await lookOrCreate({ ...context, signal });
    return withCredentials({ ...context, signal }, made);
  };
  if (client.refusesDuplicates) return ensure(context.signal);
  const identity = { provider: client.provider, account, key: identityKeyOf(client.provider, input) };
  return context.locks.hold(identity, context.signal, ensure);
}

async function lookOrCreate<P extends ProviderName>(context: CreateDatabaseContext<P>): Promise<CreateDatabaseOutcome> {
  const { client, input, idempotencyKey, signal } = context;
  const identity = client.identityOf(input, { idempotencyKey });

  if (context.rerun || !client.refusesDuplicates) {
    const existing = await client.findDatabase(identity, { signal });
    if (existing) return settle(client, existing, context.createdEarlier ? "created" : "deduplicated");
  }

  try {
    const created = await client.createDatabase(input, { idempotencyKey, signal });
    return settle(client, created, "created");
  } catch (error) {
    if (!isConflict(error)) throw error;
    const existing = await client.findDatabase(identity, { signal });
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
async function withCredentials<P extends ProviderName>(
  context: CreateDatabaseContext<P>,
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
    throw classifyJobFault(client.provider, { fault: "provisioning-failed", name: database.name });
  }
  return { outcome, database };
}
