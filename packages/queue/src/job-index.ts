import { Job, type Queue } from "bullmq";
import type { JobData } from "./job-data.ts";
import { type AccountQueue, createDatabaseJob, jobOptionsFor, type QueueSet } from "./queues.ts";
import type { RedisConnection } from "./redis.ts";

/**
 * Every job newest first, for `GET /v1/jobs`: one sorted set per account queue, named with
 * the queue's hash tag so it shares the queue's slot (its MULTI with the queue's adds stays
 * in one slot on a cluster). Every member scores 0 and is named `<submittedAt, zero-padded>:<job id>`,
 * so ZREVRANGEBYLEX reads newest first (jobs of one millisecond by id, highest first) from
 * any member on, in O(log n + page), and a member is a position that survives jobs changing
 * state, finishing or being removed around it, and means the same in every queue's index.
 */
export const indexKeyOf = (queues: QueueSet, queue: Queue) => `${queues.config.prefix}:job-index:${queue.name}`;

export const indexMemberOf = (submittedAt: number, id: string) => `${String(submittedAt).padStart(15, "0")}:${id}`;

const memberPattern = /^(\d{15}):([a-z]+-[\w-]{1,200})$/;
export function parseIndexMember(member: string): { submittedAt: number; id: string } | undefined {
  const match = memberPattern.exec(member);
  return match ? { submittedAt: Number(match[1]), id: match[2] as string } : undefined;
}

const indexCommand = "provisionerIndexNewJobs";
// Runs in the same MULTI as the jobs' adds, just before them: only a job that does not exist
// yet (not a repeat of its key) gets a member, and each existing job answers its stored data,
// so the caller tells a new job from a repeat without reading it back. KEYS: the index, then
// each job's key; ARGV: each job's member. Answers one entry a job: "" when new, else its data.
// (A replay moves its job's member itself: failed-jobs.ts.)
const indexNewJobsScript = `
local count = #KEYS - 1
local stored = {}
for i = 1, count do
  local data = redis.call("HGET", KEYS[i + 1], "data")
  if data then
    stored[i] = data
  else
    stored[i] = ""
    redis.call("ZADD", KEYS[1], 0, ARGV[i])
  end
end
return stored
`;

const taught = new WeakSet<RedisConnection>();
/** Teaches the queues' shared connection the script once; ioredis loads it on first use. */
function teach(connection: RedisConnection): void {
  if (taught.has(connection)) return;
  connection.defineCommand(indexCommand, { lua: indexNewJobsScript });
  taught.add(connection);
}

/**
 * Adds jobs to one account's queue and the new ones to its index, in one MULTI: a job is
 * never in the queue without its member, and a repeat of an existing job's key adds
 * neither (BullMQ keeps the existing job). Each job comes with its lane priority (lanes.ts).
 * Answers, for each job, the data already stored under its id before this call, or
 * `undefined` when its id was free (a repeat of an id within `jobs` reads as free: the
 * first of them is the one BullMQ keeps).
 */
export async function addJobsIndexed(
  queues: QueueSet,
  queue: Queue,
  jobs: readonly { id: string; data: JobData; priority: number }[],
): Promise<(string | undefined)[]> {
  if (jobs.length === 0) return [];
  teach(queues.connection);
  // BullMQ's client for the queue is the shared connection, so its MULTI knows the script.
  const multi = (await queue.getBackend().client).multi();
  multi.runCommand(indexCommand, [
    jobs.length + 1,
    indexKeyOf(queues, queue),
    ...jobs.map(({ id }) => queue.toKey(id)),
    ...jobs.map(({ id, data }) => indexMemberOf(data.submittedAt, id)),
  ]);
  for (const { id, data, priority } of jobs) {
    const options = jobOptionsFor(queues.config, data, id, priority);
    // BullMQ queues the add on the MULTI before its first await (its own addJobs relies on
    // that too), and its answer comes back in exec's replies: not awaited here, so nothing
    // yields between this call's first line and its exec, and calls made in order send their
    // MULTIs in order.
    new Job(queue, createDatabaseJob, data, options, id).addJob(multi).catch(() => {});
  }
  const replies = ((await multi.exec()) ?? []) as [Error | null, unknown][];
  for (const [error, reply] of replies) {
    if (error) throw error;
    if (typeof reply === "number" && reply < 0) throw new Error(`BullMQ refused a job (code ${reply})`);
  }
  const stored = replies[0]?.[1];
  if (!Array.isArray(stored)) throw new Error("the index script answered no list");
  return stored.map((data) => (typeof data === "string" && data !== "" ? data : undefined));
}

/**
 * Up to `count` members after `after` (exclusive; the newest when absent), newest first,
 * across `accounts`: a page from each queue's index, merged. Members are positions in one
 * global order, so the merge's last member is a cursor valid for every index.
 */
export async function readIndex(
  queues: QueueSet,
  accounts: readonly AccountQueue[],
  after: string | undefined,
  count: number,
): Promise<string[]> {
  const max = after === undefined ? "+" : `(${after}`;
  // One command per queue, not one pipeline: on a cluster the indexes live in different slots.
  const pages = await Promise.all(
    accounts.map(({ queue }) =>
      queues.connection.zrevrangebylex(indexKeyOf(queues, queue), max, "-", "LIMIT", 0, count),
    ),
  );
  // Each page is sorted and members are fixed-width up to the id, so a sort of the union is the merge.
  return pages
    .flat()
    .sort((a, b) => (a < b ? 1 : a > b ? -1 : 0))
    .slice(0, count);
}

/** Drops members whose job is gone (its retention ended, or it was discarded). */
export async function pruneIndex(queues: QueueSet, stale: readonly { member: string; queue: Queue }[]) {
  if (stale.length === 0) return;
  await Promise.all(stale.map(({ member, queue }) => queues.connection.zrem(indexKeyOf(queues, queue), member)));
}
