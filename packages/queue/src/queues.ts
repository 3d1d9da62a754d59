import { sha256 } from "@provisioner/json";
import { type ProviderName, providerNames } from "@provisioner/provider-client";
import { type JobsOptions, Queue, type WorkerOptions } from "bullmq";
import { type CallbackJob, callbackQueueName } from "./callback-job.ts";
import { type ProvisionerConfig, settingsOf } from "./config.ts";
import type { JobData } from "./job-data.ts";
import type { JobReturnValue } from "./job-result.ts";
import type { RedisConnection } from "./redis.ts";
import { type Keyring, parseKeyring } from "./secrets.ts";

/** The one job name on every account queue. */
export const createDatabaseJob = "create-database";
/** The custom backoff type: BullMQ calls `backoffStrategy` only for a custom type name. */
export const backoffType = "full-jitter";

/** One provider account's queue: its jobs, its Worker, its limiter and its 429 pause are its own. */
export interface AccountQueue {
  provider: ProviderName;
  account: string;
  queue: Queue<JobData, JobReturnValue>;
}

/**
 * One queue per (provider, account), so one account's outage, rate limit or bulk import
 * never holds up another's jobs. Its failed jobs are the dead letters (failed-jobs.ts).
 */
export interface QueueSet {
  config: ProvisionerConfig;
  keyring: Keyring;
  connection: RedisConnection;
  /** Every configured account's queue, providers in order. */
  accounts: readonly AccountQueue[];
  /** The accounts' queues of `provider`, or of every provider. */
  accountsOf(provider?: ProviderName): readonly AccountQueue[];
  /** The queue of a configured account; throws for one that is not configured. */
  queueOf(provider: ProviderName, account?: string): Queue<JobData, JobReturnValue>;
  /** The queue a job id names, when its account is configured. */
  queueOfJobId(id: string): AccountQueue | undefined;
  /** Notices of jobs' ends, for their `callbackUrl`. */
  callbacks: Queue<CallbackJob>;
  close(): Promise<void>;
}

/**
 * The one place a queue's name is made: `{provider.account}`. The braces are a Redis
 * Cluster hash tag, so every key of one queue (and every key the product keeps beside it,
 * named with `hashTagOf`) lives in one slot while different queues spread over the slots.
 * BullMQ forbids `:` in a name; account names are restricted to `[A-Za-z0-9_-]` (config.ts).
 */
export const queueNameOf = (provider: ProviderName, account: string) => `{${provider}.${account}}`;

/**
 * Opens every account's queue on one shared connection. `onError` hears the queues'
 * connection errors; without a listener BullMQ prints each reconnect failure to the console.
 */
export function openQueues(
  config: ProvisionerConfig,
  connection: RedisConnection,
  onError: (error: Error) => void = () => {},
): QueueSet {
  const options = { connection, prefix: config.prefix };
  const accounts: AccountQueue[] = providerNames.flatMap((provider) =>
    Object.keys(config.accounts[provider]).map((account) => ({
      provider,
      account,
      queue: new Queue<JobData, JobReturnValue>(queueNameOf(provider, account), options),
    })),
  );
  const byName = new Map(accounts.map((entry) => [entry.queue.name, entry]));
  const callbacks = new Queue<CallbackJob>(callbackQueueName, options);
  const all = [...accounts.map(({ queue }) => queue), callbacks];
  for (const queue of all) queue.on("error", onError);
  return {
    config,
    keyring: parseKeyring(config.encryptionKey),
    connection,
    accounts,
    accountsOf: (provider) => (provider ? accounts.filter((entry) => entry.provider === provider) : accounts),
    queueOf(provider, account = "default") {
      const entry = byName.get(queueNameOf(provider, account));
      if (!entry) throw new Error(`${provider} has no account named ${account}`);
      return entry.queue;
    },
    queueOfJobId(id) {
      const parsed = parseJobId(id);
      return parsed && byName.get(queueNameOf(parsed.provider, parsed.account));
    },
    callbacks,
    async close() {
      await Promise.all(all.map((queue) => queue.close()));
    },
  };
}

/** Every queue that holds create-database jobs: what the dashboard shows and lists walk. */
export function providerQueues(queues: QueueSet): Queue<JobData, JobReturnValue>[] {
  return queues.accounts.map(({ queue }) => queue);
}

/**
 * A job's id: provider, account, then a hash of the idempotency key, so the id names its
 * queue (a status read is one look-up) and is deterministic: BullMQ itself refuses a second
 * job for one key, atomically, however many arrive.
 */
export function jobIdFor(provider: ProviderName, account: string, idempotencyKey: string): string {
  const digest = sha256(`${provider}\u0000${account}\u0000${idempotencyKey}`);
  return `${provider}-${account}-${digest.slice(0, 32)}`;
}

// Provider names hold no `-`, and the digest is 32 hex digits, so the account is what is between.
const jobIdPattern = /^([a-z]+)-([A-Za-z0-9_-]{1,64})-([0-9a-f]{32})$/;
function parseJobId(id: string): { provider: ProviderName; account: string } | undefined {
  const match = jobIdPattern.exec(id);
  const provider = match?.[1];
  if (!match || !provider || !(providerNames as readonly string[]).includes(provider)) return undefined;
  return { provider: provider as ProviderName, account: match[2] as string };
}

/**
 * Attempts, backoff and lane priority (lanes.ts) for a new job of one account. Stored in each
 * job's hash, so it holds only what differs between jobs or must outlive a configuration
 * change: the id is BullMQ's own (passed beside the options, not in them), and retention is
 * the Worker's (`finishedJobRetention`).
 */
export function jobOptionsFor(
  config: ProvisionerConfig,
  data: Pick<JobData, "provider" | "account">,
  priority: number,
): JobsOptions {
  return {
    priority,
    attempts: settingsOf(config, data.provider, data.account).attempts,
    backoff: { type: backoffType },
  };
}

/**
 * How long finished jobs are kept: the options of every account queue's Worker. BullMQ applies
 * a Worker's `removeOnComplete`/`removeOnFail` to every job that finishes under it and sets no
 * retention of its own (jobs queued by earlier versions carry theirs in their options, which
 * BullMQ prefers; they are the same ages), so ~90 bytes of options are not stored per job. A
 * completed job is kept `completedMs` (its idempotency key answers repeats meanwhile), a failed
 * one, the dead letter, `deadLetterMs`; `pruneDeadLetters` removes failed jobs past theirs too.
 */
export function finishedJobRetention(
  config: ProvisionerConfig,
): Pick<WorkerOptions, "removeOnComplete" | "removeOnFail"> {
  return {
    removeOnComplete: { age: Math.ceil(config.retention.completedMs / 1000) },
    removeOnFail: { age: Math.ceil(config.retention.deadLetterMs / 1000) },
  };
}
