import {
  classifyJobFault,
  createProviderClient,
  type ProviderClient,
  type ProviderName,
  providerNames,
} from "@provisioner/provider-client";
import type { RedisConnection } from "@provisioner/queue";
import {
  adoptUnlistedJobs,
  attemptRecordOf,
  backoffType,
  type FinishOutcome,
  finishedJobRetention,
  indexDeath,
  type JobStatus,
  type ProviderSettings,
  type QueueSet,
  queueCallback,
  readJobData,
  reconcileBatches,
  recordJobStatus,
  settingsOf,
} from "@provisioner/queue";
import { type Job, Worker } from "bullmq";
import type { Logger } from "pino";
import { fullJitterDelay } from "./backoff.ts";
import { startCallbackWorker } from "./callbacks.ts";
import {
  type JobData,
  type JobResult,
  type JobReturnValue,
  outcomeOfResult,
} from "./jobs/create-database/definition.ts";
import { createDatabaseHandler } from "./jobs/create-database/handler.ts";
import { createIdentityLocks } from "./jobs/create-database/identity-lock.ts";
import { createWorkerMetrics, type WorkerMetrics } from "./metrics.ts";
import { createRunner } from "./runner.ts";

export interface WorkerTuning {
  /** How long a job's lock lasts before it counts as stalled; renewed at half that. Default 30 s. */
  lockDurationMs?: number;
  /** How often stalled jobs (of a killed worker) are looked for. Default 30 s. */
  stalledIntervalMs?: number;
  /** Stalls a job survives before it is failed. Default 5: a crash is not the job's fault. */
  maxStalledCount?: number;
  /** How long a killed worker's identity lock keeps other jobs for that database waiting. Default 15 s. */
  identityLeaseMs?: number;
  /** How often each queue's open batches are reconciled with their jobs' states (batches.ts). Default 10 s. */
  batchReconcileMs?: number;
}

export interface StartWorkersOptions {
  queues: QueueSet;
  connection: RedisConnection;
  logger: Logger;
  /** Only these providers; default every provider with at least one account. */
  providers?: readonly ProviderName[] | undefined;
  tuning?: WorkerTuning | undefined;
  /** `whsec_…` key that signs job-end callbacks (Standard Webhooks). */
  callbackSigningSecret?: string | undefined;
}

export interface RunningWorkers {
  /** One Worker per account queue served, by queue name (`{provider.account}`). */
  readonly workers: ReadonlyMap<string, Worker<JobData, JobReturnValue>>;
  /** This process's metrics (metrics.ts), for `/metrics` on METRICS_PORT. */
  readonly metrics: WorkerMetrics;
  /**
   * Stops taking jobs and waits for the running ones, returning within `graceMs`: calls
   * and callback deliveries still running when the hand-back reserve begins are cancelled
   * and handed back (no attempt spent) for another worker. Closing again waits for the
   * first close.
   */
  close(graceMs?: number): Promise<void>;
}

/**
 * BullMQ's fetch honours a queue-wide pause (`queue.rateLimit`, set when an account answers
 * 429) only for a worker that has a limiter; without one, another slot can take the job
 * straight back. Where no rate limit is configured, a limit this high never trips by itself.
 */
const limiterFor = (settings: ProviderSettings) =>
  settings.rateLimit
    ? { max: settings.rateLimit.max, duration: settings.rateLimit.durationMs }
    : { max: Number.MAX_SAFE_INTEGER, duration: 60_000 };

/**
 * The `dead` callback of the one death the runner never sees: BullMQ fails a job that
 * stalled past `maxStalledCount` itself (its deferred failure), when a worker next takes
 * it, without running the processor. Every other final failure is thrown by the runner,
 * which queues the callback then, so this is the one extra trigger. It cannot duplicate:
 * `deferredFailure` is set only on that failure, and the callback's id is the job's id and
 * generation, so a repeat (another worker, a restart) is a no-op.
 */
function notifyStalledDeaths(worker: Worker<JobData, JobReturnValue>, queues: QueueSet, logger: Logger): void {
  worker.on("failed", (job, error) => {
    if (!job?.deferredFailure) return;
    const { data } = readJobData(job);
    const reason = classifyJobFault(data.provider, { fault: "stalled", failedReason: error.message });
    indexDeath(queues, queues.queueOf(data.provider, data.account), job.id as string, reason.kind)
      .then(() =>
        queueCallback(queues, job.id as string, data, {
          status: "dead",
          error: attemptRecordOf(reason, job.attemptsMade),
        }),
      )
      .catch((failure: Error) =>
        logger.error({ jobId: job.id, err: { message: failure.message } }, "could not queue a stalled job's callback"),
      );
  });
}

/**
 * Records each job's transitions as BullMQ reports them (a retry, completed, a final failure:
 * `finishedOn` set, stalled deaths included) in the job listing's status indexes and, for a
 * batch's job, its batch's counts; a job's end is counted too, in this process and in the
 * deployment-wide counts the API's /metrics reads: one write per event (packages/queue
 * job-status.ts). A job's start is recorded by the runner, with its lane clock.
 *
 * BullMQ emits `completed`, and `failed` with `finishedOn` set (a final failure: the job is
 * now in the failed set), only after its script has moved the job, which succeeds once per
 * job life for the worker holding the job's lock; a retry is a `failed` without `finishedOn`,
 * and a job whose move was refused (lock lost) emits nothing here. So a job's end is never
 * counted twice; a worker killed between the move and the write misses that one count, and
 * leaves a stale status: the batch reconciliation on `batchReconcileMs` corrects the counts,
 * and `GET /v1/jobs` moves a member it finds in the wrong status index. A replay is a new
 * life and counts again when it ends.
 */
function trackStatuses(
  worker: Worker<JobData, JobReturnValue>,
  queues: QueueSet,
  metrics: WorkerMetrics,
  logger: Logger,
): void {
  const record = (
    job: Job<JobData, JobReturnValue>,
    status: JobStatus,
    { outcome, finished }: { outcome?: JobResult["outcome"] | undefined; finished?: FinishOutcome | undefined } = {},
  ) => {
    if (finished) {
      const { provider, account } = readJobData(job).data;
      metrics.jobsFinished.inc({ provider, account, outcome: finished });
    }
    recordJobStatus(queues, job, status, { outcome, finished }).catch((error: Error) =>
      logger.warn({ jobId: job.id, err: { message: error.message } }, "could not record a job's status"),
    );
  };
  worker.on("completed", (job, result) => {
    const outcome = outcomeOfResult(result);
    record(job, "succeeded", { outcome, finished: outcome });
  });
  worker.on("failed", (job) => {
    if (!job) return;
    if (job.finishedOn) record(job, "dead", { finished: "dead" });
    else record(job, "retrying");
  });
}

/**
 * Lists the jobs retained from before the job listing's status indexes in them, once per
 * queue (packages/queue status.ts `adoptUnlistedJobs`), in the background: it reads every
 * such job once. Shutdown stops it between chunks; the next start goes on.
 */
async function adoptUnlisted(
  queues: QueueSet,
  queueNames: readonly string[],
  logger: Logger,
  stop: () => boolean,
): Promise<void> {
  for (const { queue } of queues.accounts.filter((entry) => queueNames.includes(entry.queue.name))) {
    try {
      const adopted = await adoptUnlistedJobs(queues, queue, { stop });
      if (adopted > 0) logger.info({ queue: queue.name, adopted }, "listed older jobs in the status indexes");
    } catch (error) {
      logger.warn({ queue: queue.name, err: { message: (error as Error).message } }, "could not list older jobs");
    }
  }
}

/** Whether `promise` settles within `ms` (it is observed either way, so a late rejection is no unhandled one). */
async function settlesWithin(promise: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const settled = promise.then(
    () => true,
    () => true,
  );
  const expired = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), Math.max(0, ms));
  });
  try {
    return await Promise.race([settled, expired]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * The end of the grace period kept for handing cancelled jobs back and closing
 * connections, so the process is gone when an orchestrator's matching kill timeout fires.
 */
const handBackReserveMs = (graceMs: number) => Math.min(5_000, Math.round(graceMs / 2));

/**
 * One BullMQ Worker per account queue of the providers served, each with that account's
 * concurrency, rate limit and backoff (its provider's settings and its own overrides), so
 * one account's limit, 429 pause or import never holds up another's jobs. Provider clients
 * are created (and their accounts validated) here, so bad configuration stops the process
 * before it takes a job.
 */
export async function startWorkers(options: StartWorkersOptions): Promise<RunningWorkers> {
  const { queues, connection, logger, tuning = {} } = options;
  const { config } = queues;
  const wanted = options.providers ?? providerNames.filter((p) => Object.keys(config.accounts[p]).length > 0);
  const workers = new Map<string, Worker<JobData, JobReturnValue>>();
  const clients: ProviderClient[] = [];
  const metrics = createWorkerMetrics();
  const locks = createIdentityLocks({ connection, prefix: config.prefix, leaseMs: tuning.identityLeaseMs });

  for (const { provider, account, queue } of queues.accounts.filter((entry) => wanted.includes(entry.provider))) {
    const settings = settingsOf(config, provider, account);
    const client = createProviderClient(
      config.accounts[provider][account] as (typeof config.accounts)[typeof provider][string],
      { observeCall: metrics.observeCall },
    );
    clients.push(client);
    // Only this account's client: data that names another account fails as `account-missing`.
    const accountClients = new Map([[account, client]]);
    const worker = new Worker<JobData, JobReturnValue>(
      queue.name,
      createRunner({
        queues,
        provider,
        queue,
        settings,
        logger,
        metrics,
        handle: createDatabaseHandler({ queues, provider, clients: accountClients, settings, locks, logger }),
      }),
      {
        connection,
        prefix: config.prefix,
        concurrency: settings.concurrency,
        limiter: limiterFor(settings),
        ...finishedJobRetention(config),
        settings: {
          backoffStrategy: (attemptsMade, type) =>
            type === backoffType ? fullJitterDelay(settings.backoff, attemptsMade) : 0,
        },
        lockDuration: tuning.lockDurationMs ?? 30_000,
        stalledInterval: tuning.stalledIntervalMs ?? 30_000,
        maxStalledCount: tuning.maxStalledCount ?? 5,
      },
    );
    worker.on("error", (error) => logger.error({ provider, account, err: { message: error.message } }, "worker error"));
    notifyStalledDeaths(worker, queues, logger);
    trackStatuses(worker, queues, metrics, logger);
    workers.set(queue.name, worker);
  }
  let reconciling = false;
  const reconciler = setInterval(async () => {
    if (reconciling) return;
    reconciling = true;
    try {
      for (const worker of workers.values()) {
        const queue = queues.accounts.find((entry) => entry.queue.name === worker.name)?.queue;
        if (queue) await reconcileBatches(queues, queue);
      }
    } catch (error) {
      logger.warn({ err: { message: (error as Error).message } }, "batch reconciliation failed; retrying later");
    } finally {
      reconciling = false;
    }
  }, tuning.batchReconcileMs ?? 10_000);
  reconciler.unref();
  const callbacks = startCallbackWorker({
    queues,
    connection,
    logger,
    metrics,
    signingSecret: options.callbackSigningSecret,
  });
  await Promise.all([...workers.values(), callbacks].map((worker) => worker.waitUntilReady()));
  let closing: Promise<void> | undefined;
  const adopting = adoptUnlisted(queues, [...workers.keys()], logger, () => closing !== undefined);

  const closeAll = async (graceMs: number) => {
    const ends = Date.now() + graceMs;
    clearInterval(reconciler);
    await adopting;
    await Promise.all(
      [...workers.values(), callbacks].map(async (worker: Worker) => {
        const deadline = setTimeout(() => worker.cancelAllJobs("shutting down"), graceMs - handBackReserveMs(graceMs));
        try {
          // BullMQ's close waits for its blocking connection to end, which a connection left
          // reconnecting (a Redis Cluster master restarted under load) may never do: the
          // promise is to return within the grace, so past it the worker is left to the caller's
          // closing of the shared connection (or the process's exit). A job it still held is
          // retried once its lock expires, like a killed worker's.
          if (!(await settlesWithin(worker.close(), ends - Date.now()))) {
            logger.warn({ queue: worker.name }, "worker did not close within the grace period; leaving it");
          }
        } finally {
          clearTimeout(deadline);
        }
      }),
    );
    await Promise.all(clients.map((client) => client.close()));
  };
  return {
    workers,
    metrics,
    close(graceMs = 30_000) {
      closing ??= closeAll(graceMs);
      return closing;
    },
  };
}
