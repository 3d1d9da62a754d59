import { isProviderError, type ProviderName } from "@provisioner/provider-client";
import {
  type AttemptError,
  attemptRecordOf,
  indexDeath,
  type ProviderSettings,
  type QueueSet,
  queueCallback,
  recordJobStart,
  recordJobStatus,
  statusOfJob,
} from "@provisioner/queue";
import { DelayedError, type Job, type Processor, type Queue, UnrecoverableError, Worker } from "bullmq";
import type { Logger } from "pino";
import {
  type JobData,
  type JobReturnValue,
  provisioningPollMs,
  readJobData,
  storedJobResult,
} from "./jobs/create-database/definition.ts";
import type { RunOutcome } from "./jobs/create-database/handler.ts";
import { isIdentityBusy } from "./jobs/create-database/identity-lock.ts";
import type { WorkerMetrics } from "./metrics.ts";

export interface RunnerDeps {
  queues: QueueSet;
  provider: ProviderName;
  /** The account's queue this runner serves: a 429 pauses it, and only it. */
  queue: Queue;
  settings: Pick<ProviderSettings, "backoff">;
  logger: Logger;
  metrics: Pick<WorkerMetrics, "jobAttempts" | "rateLimitPauses">;
  /** The job's work (handler.ts): throws a classified ProviderError when it fails. */
  handle: (job: Job<JobData, JobReturnValue>, signal?: AbortSignal) => Promise<RunOutcome>;
}

/**
 * The one boundary where a run's outcome becomes a BullMQ decision. BullMQ owns when a job
 * runs again; the error owns whether. No attempt is spent when:
 * - the database is still provisioning: asked about again shortly;
 * - another job holds the database's identity lock: a short jittered wait;
 * - shutdown cut the run short: handed back at once for another worker;
 * - 429: the account's queue waits out Retry-After (other accounts' queues run on);
 * - another retryable error with Retry-After (503, BRIDGEPORT's in-progress 409): this job waits that long.
 * Otherwise a retryable error is rethrown and BullMQ backs off with full jitter; one that is
 * not retryable becomes UnrecoverableError. Either way a failure that is final (BullMQ's
 * terms: UnrecoverableError, or `attemptsMade >= opts.attempts`) queues the `dead` callback
 * as it is thrown; BullMQ's failed set is the dead letter (packages/queue failed-jobs.ts).
 */
export function createRunner(deps: RunnerDeps): Processor<JobData, JobReturnValue> {
  const { queues, provider, queue, logger } = deps;

  return async (job, token, signal) => {
    const attempt = job.attemptsMade + 1;
    // Most runs log nothing: the job's child logger is made by the first line that needs it.
    let child: Logger | undefined;
    const log = () => (child ??= logger.child({ jobId: job.id, provider, attempt }));
    // The account's lane clock moves as each job starts, so waiting bulk jobs' turns come
    // (lanes.ts); the same write lists the job as running and counts a batch's job running
    // (job-status.ts). Not awaited: the run does not need the new clock, and the write goes out
    // on the same connection ahead of the job's next ones (Redis runs them in order), so it
    // costs the job no round trip. A failure only delays other jobs' turns (the listing's
    // repair and the batch reconciliation fix the job's status); it is logged.
    recordJobStart(queues, queue, job).catch((error: Error) =>
      log().warn({ err: { message: error.message } }, "could not record the job's start"),
    );
    // BullMQ emits no event for these moves, so the job's status is recorded here (job-status.ts);
    // a provisioning poll stays `running`, which its start recorded.
    const waitFor = async (ms: number): Promise<never> => {
      await job.moveToDelayed(Date.now() + ms, token);
      if (statusOfJob("delayed", job) === "retrying") await recordJobStatus(queues, job, "retrying");
      throw new DelayedError();
    };
    let outcome: RunOutcome;
    try {
      outcome = await deps.handle(job, signal);
    } catch (error) {
      if (isIdentityBusy(error)) {
        log().debug({ waitMs: error.retryAfterMs }, "another job is creating this database; waiting");
        return waitFor(error.retryAfterMs);
      }
      if (!isProviderError(error)) {
        // Not the provider's answer (a Redis blip, a bug): let BullMQ retry it, and say so.
        log().error(
          { err: { name: (error as Error).name, message: (error as Error).message } },
          "run failed outside the provider call",
        );
        throw error;
      }
      const failure = log().child({ kind: error.kind, code: error.code, status: error.status });
      if (signal?.aborted) {
        // Whatever the call ended with (ABORTED, a timeout, a reset) says nothing about the job.
        failure.warn("handing job back on shutdown");
        return waitFor(0);
      }
      deps.metrics.jobAttempts.inc({ provider, kind: error.kind });
      const record = attemptRecordOf(error, attempt);
      await job.log(JSON.stringify(record));
      if (!error.retryable) {
        failure.warn("job is dead");
        await die(job, record);
        const final = new UnrecoverableError(error.message);
        final.cause = error;
        throw final;
      }
      if (error.kind === "rate_limited") {
        const waitMs = error.retryAfterMs ?? deps.settings.backoff.baseMs;
        failure.warn({ waitMs }, "provider rate limit: pausing the account's queue");
        deps.metrics.rateLimitPauses.inc({ provider, account: readJobData(job).data.account });
        await queue.rateLimit(waitMs);
        // BullMQ puts the job back to waiting as this is thrown, after this write.
        await recordJobStatus(queues, job, "queued");
        throw Worker.RateLimitError();
      }
      if (error.retryAfterMs !== undefined) {
        failure.warn({ waitMs: error.retryAfterMs }, "provider asked to retry later");
        return waitFor(error.retryAfterMs);
      }
      if (attempt >= (job.opts.attempts ?? 1)) {
        failure.warn("out of attempts; job is dead");
        await die(job, record);
      } else {
        failure.info("retryable failure; backing off");
      }
      throw error;
    }
    if ("done" in outcome) return storedJobResult(outcome.done);
    return waitFor(provisioningPollMs);
  };

  /**
   * A final failure, as it is thrown: its entry in the dead letters' kind index, then its
   * job-end notice, whose id (job id and generation) makes a repeat a no-op.
   */
  async function die(job: Job<JobData, JobReturnValue>, reason: AttemptError): Promise<void> {
    await indexDeath(queues, queue, job.id as string, reason.kind);
    await queueCallback(queues, job.id as string, readJobData(job).data, { status: "dead", error: reason });
  }
}
