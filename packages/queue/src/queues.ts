import { createHash } from "node:crypto";
import { type ProviderName, providerNames } from "@provisioner/provider-client";
import { type JobsOptions, Queue } from "bullmq";
import { type CallbackJob, callbackQueueName } from "./callback-job.ts";
import type { ProvisionerConfig } from "./config.ts";
import type { JobData, JobResult } from "./job-data.ts";
import type { RedisConnection } from "./redis.ts";
import { type Keyring, parseKeyring } from "./secrets.ts";

/** The one job name on every provider queue. */
export const createDatabaseJob = "create-database";
/** The custom backoff type: BullMQ calls `backoffStrategy` only for a custom type name. */
export const backoffType = "full-jitter";

/**
 * One queue per provider, so one provider's outage or rate limit never holds up
 * another's jobs. Its failed jobs are the dead letters (failed-jobs.ts).
 */
export interface QueueSet {
  config: ProvisionerConfig;
  keyring: Keyring;
  connection: RedisConnection;
  byProvider: Record<ProviderName, Queue<JobData, JobResult>>;
  /** Notices of jobs' ends, for their `callbackUrl`. */
  callbacks: Queue<CallbackJob>;
  close(): Promise<void>;
}

/**
 * Opens every queue on one shared connection. `onError` hears the queues' connection
 * errors; without a listener BullMQ prints each reconnect failure to the console.
 */
export function openQueues(
  config: ProvisionerConfig,
  connection: RedisConnection,
  onError: (error: Error) => void = () => {},
): QueueSet {
  const options = { connection, prefix: config.prefix };
  const byProvider = Object.fromEntries(
    providerNames.map((provider) => [provider, new Queue<JobData, JobResult>(provider, options)]),
  ) as QueueSet["byProvider"];
  const callbacks = new Queue<CallbackJob>(callbackQueueName, options);
  for (const queue of [...Object.values(byProvider), callbacks]) queue.on("error", onError);
  return {
    config,
    keyring: parseKeyring(config.encryptionKey),
    connection,
    byProvider,
    callbacks,
    async close() {
      await Promise.all([...Object.values(byProvider), callbacks].map((queue) => queue.close()));
    },
  };
}

/** Every queue that holds create-database jobs: what the dashboard shows and lists walk. */
export function providerQueues(queues: QueueSet): Queue<JobData, JobResult>[] {
  return Object.values(queues.byProvider);
}

/**
 * A job's id: the provider, then a hash of account and idempotency key. Deterministic,
 * so BullMQ itself refuses a second job for one key, atomically, however many arrive.
 */
export function jobIdFor(provider: ProviderName, account: string, idempotencyKey: string): string {
  const digest = createHash("sha256").update(`${provider}\u0000${account}\u0000${idempotencyKey}`).digest("hex");
  return `${provider}-${digest.slice(0, 32)}`;
}

export function providerOfJobId(id: string): ProviderName | undefined {
  const provider = id.slice(0, id.indexOf("-"));
  return (providerNames as readonly string[]).includes(provider) ? (provider as ProviderName) : undefined;
}

/** Attempts, backoff and retention for a new job of `provider`. */
export function jobOptionsFor(config: ProvisionerConfig, provider: ProviderName, jobId: string): JobsOptions {
  return {
    jobId,
    attempts: config.providers[provider].attempts,
    backoff: { type: backoffType },
    removeOnComplete: { age: Math.ceil(config.retention.completedMs / 1000) },
    // A failed job is the dead letter, kept for the dead-letter retention; meanwhile its id
    // keeps answering repeats of its key.
    removeOnFail: { age: Math.ceil(config.retention.deadLetterMs / 1000) },
  };
}
