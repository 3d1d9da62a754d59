import {
  isProviderError,
  type ProviderClient,
  type ProviderError,
  type ProviderName,
  parseProviderInput,
  secretInputFields,
} from "@provisioner/provider-client";
import {
  type AttemptError,
  decryptFields,
  decryptValue,
  encryptValue,
  isDeadLettered,
  type ProviderSettings,
  type QueueSet,
  queueCallback,
  recordDeadLetter,
} from "@provisioner/queue";
import { DelayedError, type Job, type Processor, UnrecoverableError, Worker } from "bullmq";
import type { Logger } from "pino";
import {
  type JobData,
  type JobProgress,
  type JobResult,
  jobDataSchema,
  jobProgressSchema,
  provisioningPollMs,
} from "./jobs/create-database/definition.ts";
import { createDatabase } from "./jobs/create-database/handler.ts";
import { type IdentityLocks, isIdentityBusy } from "./jobs/create-database/identity-lock.ts";

export interface RunnerDeps {
  queues: QueueSet;
  provider: ProviderName;
  /** One client per configured account of this provider. */
  clients: ReadonlyMap<string, ProviderClient>;
  settings: ProviderSettings;
  /** Serialise creates of one identity across every worker. */
  locks: IdentityLocks;
  logger: Logger;
}

/**
 * The one boundary where provider errors become BullMQ decisions. BullMQ owns when a
 * job runs again; the error owns whether:
 * - not retryable, or job data that fails validation: the dead letters, then
 *   UnrecoverableError, so no further provider call is made;
 * - 429: the whole provider queue waits out Retry-After, and no attempt is spent;
 * - another retryable error with Retry-After (503, BRIDGEPORT's in-progress 409): this
 *   job waits that long, and no attempt is spent;
 * - any other retryable error: rethrown, and BullMQ backs off with full jitter;
 *   on the last attempt the job is parked before it is failed;
 * - another job is creating the same database (its identity's lock is held): this job
 *   waits a short jittered while, and no attempt is spent.
 */
export function createRunner(deps: RunnerDeps): Processor<JobData, JobResult> {
  const { queues, provider, logger } = deps;
  const queue = queues.byProvider[provider];

  return async (job, token, signal) => {
    const id = job.id as string;
    const attempt = job.attemptsMade + 1;
    const log = logger.child({ jobId: id, provider, attempt });

    const parsed = jobDataSchema.safeParse(job.data);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      return die(
        job,
        { kind: "invalid", code: "INVALID_JOB_DATA", message: `job data ${issue?.path.join(".")}: ${issue?.message}` },
        attempt,
      );
    }
    const data = parsed.data;
    const rerun = job.attemptsMade > 0 || job.attemptsStarted > 1 || data.generation > 0;

    // This life of the job was parked by a run that died before BullMQ heard of it.
    if (rerun && (await isDeadLettered(queues, id, data.generation))) {
      throw new UnrecoverableError("already in the dead letters");
    }
    if (Date.now() - data.submittedAt > deps.settings.maxAgeMs) {
      return die(
        job,
        {
          kind: "expired",
          code: "MAX_AGE_EXCEEDED",
          message: `job is older than its maximum age of ${deps.settings.maxAgeMs} ms`,
        },
        attempt,
      );
    }
    const client = deps.clients.get(data.account);
    if (!client) {
      return die(
        job,
        {
          kind: "invalid",
          code: "ACCOUNT_NOT_CONFIGURED",
          message: `no ${provider} account named "${data.account}" is configured on this worker`,
        },
        attempt,
      );
    }

    let input: ReturnType<typeof parseProviderInput>;
    try {
      input = parseProviderInput(provider, decryptFields(queues.keyring, data.input, secretInputFields[provider]));
    } catch (error) {
      const failure = isProviderError(error) ? error : undefined;
      return die(
        job,
        {
          kind: "invalid",
          code: failure?.code ?? "UNDECRYPTABLE_INPUT",
          message: failure?.message ?? "job input cannot be decrypted with the configured keys",
        },
        attempt,
      );
    }

    const progress = jobProgressSchema.safeParse(job.progress);
    const earlier = progress.success ? progress.data : undefined;
    try {
      const { outcome, database } = await createDatabase({
        client,
        account: data.account,
        locks: deps.locks,
        input,
        idempotencyKey: data.providerKey ?? id,
        rerun,
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
        // It exists; wait for the provider to finish without spending an attempt.
        const mark: JobProgress = { created: outcome === "created", provisioningRun: job.attemptsStarted };
        if (sealed) mark.secrets = sealed;
        await job.updateProgress(mark);
        await job.moveToDelayed(Date.now() + provisioningPollMs, token);
        throw new DelayedError();
      }
      log.info({ outcome }, "database ready");
      const result: JobResult = { outcome, resource: database.resource, completedAt: new Date().toISOString() };
      if (sealed) result.secrets = sealed;
      await queueCallback(queues, id, data, { status: "succeeded", outcome, resource: database.resource });
      return result;
    } catch (error) {
      if (error instanceof DelayedError) throw error;
      if (isIdentityBusy(error)) {
        log.debug({ waitMs: error.retryAfterMs }, "another job is creating this database; waiting");
        await job.moveToDelayed(Date.now() + error.retryAfterMs, token);
        throw new DelayedError();
      }
      if (!isProviderError(error)) {
        // Not the provider's answer (a Redis blip, a bug): let BullMQ retry it, and say so.
        log.error(
          { err: { name: (error as Error).name, message: (error as Error).message } },
          "job run failed outside the provider call",
        );
        throw error;
      }
      return decide(job, token, error, attempt, signal);
    }
  };

  async function decide(
    job: Job<JobData, JobResult>,
    token: string | undefined,
    error: ProviderError,
    attempt: number,
    signal?: AbortSignal,
  ): Promise<never> {
    const log = logger.child({
      jobId: job.id,
      provider,
      attempt,
      kind: error.kind,
      code: error.code,
      status: error.status,
    });
    if (signal?.aborted) {
      // Shutdown cut the run short, so whatever the call ended with (ABORTED, a timeout, a
      // reset) says nothing about the job: hand it back for another worker, no attempt spent.
      log.warn("handing job back on shutdown");
      await job.moveToDelayed(Date.now(), token);
      throw new DelayedError();
    }
    const record = attemptError(error, attempt);
    await job.log(JSON.stringify(record));
    if (!error.retryable) return die(job, record, attempt, error);

    if (error.kind === "rate_limited") {
      const waitMs = error.retryAfterMs ?? deps.settings.backoff.baseMs;
      log.warn({ waitMs }, "provider rate limit: pausing the queue");
      await queue.rateLimit(waitMs);
      throw Worker.RateLimitError();
    }
    if (error.retryAfterMs !== undefined) {
      log.warn({ waitMs: error.retryAfterMs }, "provider asked to retry later");
      await job.moveToDelayed(Date.now() + error.retryAfterMs, token);
      throw new DelayedError();
    }
    if (attempt >= (job.opts.attempts ?? 1)) {
      log.warn("out of attempts");
      await recordDeadLetter(queues, job, record);
    } else {
      log.info("retryable failure; backing off");
    }
    throw error;
  }

  async function die(
    job: Job<JobData, JobResult>,
    reason: Omit<AttemptError, "at" | "attempt" | "retryable"> | AttemptError,
    attempt: number,
    cause?: unknown,
  ): Promise<never> {
    const record: AttemptError =
      "at" in reason ? reason : { ...reason, at: new Date().toISOString(), attempt, retryable: false };
    if (!("at" in reason)) await job.log(JSON.stringify(record));
    logger.warn({ jobId: job.id, provider, attempt, kind: record.kind, code: record.code }, "job is dead");
    await recordDeadLetter(queues, job, record);
    const final = new UnrecoverableError(record.message);
    if (cause !== undefined) final.cause = cause;
    throw final;
  }
}

/** The record of one failed attempt: what the provider said, never what we sent. */
function attemptError(error: ProviderError, attempt: number): AttemptError {
  const record: AttemptError = {
    at: new Date().toISOString(),
    attempt,
    kind: error.kind,
    retryable: error.retryable,
    message: error.message,
  };
  if (error.status !== undefined) record.status = error.status;
  if (error.code !== undefined) record.code = error.code;
  if (error.retryAfterMs !== undefined) record.retryAfterMs = error.retryAfterMs;
  return record;
}
