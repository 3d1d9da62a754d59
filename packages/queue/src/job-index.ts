import type { ProviderName } from "@provisioner/provider-client";
import { Job } from "bullmq";
import type { JobData } from "./job-data.ts";
import { createDatabaseJob, jobOptionsFor, type QueueSet } from "./queues.ts";
import type { RedisConnection } from "./redis.ts";

/**
 * Every job newest first, for `GET /v1/jobs`: one sorted set for all providers and one per
 * provider. Every member scores 0 and is named `<submittedAt, zero-padded>:<job id>`, so
 * ZREVRANGEBYLEX reads newest first (jobs of one millisecond by id, highest first) from any
 * member on, in O(log n + page), and a member is a position that survives jobs changing
 * state, finishing or being removed around it.
 */
export const indexKeyOf = (queues: QueueSet, scope: ProviderName | "all") =>
  `${queues.config.prefix}:job-index:${scope}`;

export const indexMemberOf = (submittedAt: number, id: string) => `${String(submittedAt).padStart(15, "0")}:${id}`;

const memberPattern = /^(\d{15}):([a-z]+-[\w-]{1,200})$/;
export function parseIndexMember(member: string): { submittedAt: number; id: string } | undefined {
  const match = memberPattern.exec(member);
  return match ? { submittedAt: Number(match[1]), id: match[2] as string } : undefined;
}

const indexCommand = "provisionerIndexNewJobs";
// Runs in the same MULTI as the jobs' adds, just before them: only a job that does not exist
// yet (not a repeat of its key) gets a member. KEYS: the two indexes, then each job's key;
// ARGV: each job's member. (A replay moves its job's member itself: failed-jobs.ts.)
const indexNewJobsScript = `
local count = #KEYS - 2
for i = 1, count do
  if redis.call("EXISTS", KEYS[i + 2]) == 0 then
    redis.call("ZADD", KEYS[1], 0, ARGV[i])
    redis.call("ZADD", KEYS[2], 0, ARGV[i])
  end
end
return count
`;

const taught = new WeakSet<RedisConnection>();
/** Teaches the queues' shared connection the script once; ioredis loads it on first use. */
function teach(connection: RedisConnection): void {
  if (taught.has(connection)) return;
  connection.defineCommand(indexCommand, { lua: indexNewJobsScript });
  taught.add(connection);
}

/**
 * Adds jobs to a provider's queue and the new ones to the index, in one MULTI: a job is
 * never in the queue without its member, and a repeat of an existing job's key adds
 * neither (BullMQ keeps the existing job).
 */
export async function addJobsIndexed(
  queues: QueueSet,
  provider: ProviderName,
  jobs: readonly { id: string; data: JobData }[],
): Promise<void> {
  if (jobs.length === 0) return;
  const queue = queues.byProvider[provider];
  teach(queues.connection);
  // BullMQ's client for the queue is the shared connection, so its MULTI knows the script.
  const multi = (await queue.getBackend().client).multi();
  multi.runCommand(indexCommand, [
    jobs.length + 2,
    indexKeyOf(queues, "all"),
    indexKeyOf(queues, provider),
    ...jobs.map(({ id }) => queue.toKey(id)),
    ...jobs.map(({ id, data }) => indexMemberOf(data.submittedAt, id)),
  ]);
  for (const { id, data } of jobs) {
    await new Job(queue, createDatabaseJob, data, jobOptionsFor(queues.config, provider, id), id).addJob(multi);
  }
  for (const [error, reply] of (await multi.exec()) ?? []) {
    if (error) throw error;
    if (typeof reply === "number" && reply < 0) throw new Error(`BullMQ refused a job (code ${reply})`);
  }
}

/** Up to `count` members after `after` (exclusive; the newest when absent), newest first. */
export function readIndex(
  queues: QueueSet,
  provider: ProviderName | undefined,
  after: string | undefined,
  count: number,
): Promise<string[]> {
  const max = after === undefined ? "+" : `(${after}`;
  return queues.connection.zrevrangebylex(indexKeyOf(queues, provider ?? "all"), max, "-", "LIMIT", 0, count);
}

/** Drops members whose job is gone (its retention ended, or it was discarded). */
export async function pruneIndex(queues: QueueSet, stale: readonly { member: string; provider: ProviderName }[]) {
  if (stale.length === 0) return;
  const multi = queues.connection.multi();
  for (const { member, provider } of stale) {
    multi.zrem(indexKeyOf(queues, "all"), member).zrem(indexKeyOf(queues, provider), member);
  }
  await multi.exec();
}
