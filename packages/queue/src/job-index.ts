import { type JobStatus, jobStatuses } from "@provisioner/api-contract";
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
 *
 * Beside it, one index per status (`job-index:<status>:{queue}`) with the same members, so a
 * `status` filter reads only jobs of that status, in O(log n + page) too. A member sits in
 * exactly one status index, moved as its job's status changes: the add script puts a new job
 * in `queued`, the runner's lane-clock script moves a starting job to `running` (lanes.ts), the
 * worker's events move it on (job-status.ts, folded into the batch script for a batch's job),
 * replay moves its new life to `queued`, discard and pruning drop it. BullMQ moves
 * jobs in its own scripts (a delayed job promoted to waiting, a stalled job put back, a killed
 * worker's missed event), so a status index can lag: a reader checks each candidate's real
 * status and moves a misplaced member where it belongs (`placeMembers`). A lag costs a job its
 * place in its new status's listing until its next event or a read of the index it sits in.
 * The all-jobs index decides which members exist: a move places only a member it holds, so a
 * late event of a removed job or of a replayed job's earlier life adds nothing back.
 */
export const indexKeyOf = (queues: QueueSet, queueName: string) => `${queues.config.prefix}:job-index:${queueName}`;
export const statusIndexKeyOf = (queues: QueueSet, queueName: string, status: JobStatus) =>
  `${queues.config.prefix}:job-index:${status}:${queueName}`;
/** Set once a queue's jobs from before the status indexes are listed in them (or it had none). */
export const adoptedKeyOf = (queues: QueueSet, queueName: string) =>
  `${queues.config.prefix}:job-index-adopted:${queueName}`;
/** The all-jobs index, then each status's, in `jobStatuses` order: the keys `placeMemberLua` expects. */
export const indexKeysOf = (queues: QueueSet, queueName: string) => [
  indexKeyOf(queues, queueName),
  ...jobStatuses.map((status) => statusIndexKeyOf(queues, queueName, status)),
];
/** A status's position among the status index keys (1-based, as Lua counts); 0 for none. */
export const statusPosition = (status: string | undefined) => jobStatuses.indexOf(status as JobStatus) + 1;

/**
 * Lua shared by every script that moves a member (this file, batches.ts, failed-jobs.ts, lanes.ts).
 * `placeMember(base, member, target, from)`: KEYS[base] is the all-jobs index, KEYS[base + i]
 * the index of the i-th status. Target 0 drops the member from every index; otherwise the
 * member, if the all-jobs index holds it, leaves every other status index for the target's,
 * and with `from` > 0 only while it is still in that status's index (a reader's repair,
 * which must not undo an event that moved the job meanwhile).
 */
export const placeMemberLua = `
local function placeMember(base, member, target, from)
  if target == 0 then
    for i = base, base + ${jobStatuses.length} do redis.call("ZREM", KEYS[i], member) end
    return 1
  end
  if not redis.call("ZSCORE", KEYS[base], member) then return 0 end
  if from > 0 and not redis.call("ZSCORE", KEYS[base + from], member) then return 0 end
  for i = 1, ${jobStatuses.length} do
    if i ~= target then redis.call("ZREM", KEYS[base + i], member) end
  end
  redis.call("ZADD", KEYS[base + target], 0, member)
  return 1
end
`;

export const indexMemberOf = (submittedAt: number, id: string) => `${String(submittedAt).padStart(15, "0")}:${id}`;

const memberPattern = /^(\d{15}):([a-z]+-[\w-]{1,200})$/;
export function parseIndexMember(member: string): { submittedAt: number; id: string } | undefined {
  const match = memberPattern.exec(member);
  return match ? { submittedAt: Number(match[1]), id: match[2] as string } : undefined;
}

const indexCommand = "provisionerIndexNewJobs";
const placeCommand = "provisionerPlaceMembers";
// Runs in the same MULTI as the jobs' adds, just before them: only a job that does not exist
// yet (not a repeat of its key) gets a member, in the all-jobs index and the `queued` one, and
// each existing job answers its stored data, so the caller tells a new job from a repeat
// without reading it back. A queue whose index this version starts marks itself as having
// no older jobs to adopt (status.ts `adoptUnlistedJobs`). KEYS: the index, the queued index,
// the adopted mark, then each job's key; ARGV: each job's member. Answers one entry a job: ""
// when new, else its data. (A replay moves its job's member itself: failed-jobs.ts.)
const indexNewJobsScript = `
if redis.call("ZCARD", KEYS[1]) == 0 then redis.call("SET", KEYS[3], "1") end
local count = #KEYS - 3
local stored = {}
for i = 1, count do
  local data = redis.call("HGET", KEYS[i + 3], "data")
  if data then
    stored[i] = data
  else
    stored[i] = ""
    redis.call("ZADD", KEYS[1], 0, ARGV[i])
    redis.call("ZADD", KEYS[2], 0, ARGV[i])
  end
end
return stored
`;
// KEYS: indexKeysOf. ARGV: a mode, then triples (member, target position, from position).
// Modes: "move"; "add" (each member joins the all-jobs index first: a rebuild); "adopt" (only a
// member no status index holds yet: listing jobs from before the status indexes, which never
// overrides a move an event made meanwhile).
const placeScript = `${placeMemberLua}
local mode = ARGV[1]
local placed = 0
for i = 2, #ARGV, 3 do
  local member = ARGV[i]
  local listed = false
  if mode == "add" then redis.call("ZADD", KEYS[1], 0, member) end
  if mode == "adopt" then
    for k = 2, #KEYS do
      if redis.call("ZSCORE", KEYS[k], member) then listed = true end
    end
  end
  if not listed then placed = placed + placeMember(1, member, tonumber(ARGV[i + 1]), tonumber(ARGV[i + 2])) end
end
return placed
`;

const taught = new WeakSet<RedisConnection>();
/** Teaches the queues' shared connection the scripts once; ioredis loads each on first use. */
function teach(connection: RedisConnection): void {
  if (taught.has(connection)) return;
  connection.defineCommand(indexCommand, { lua: indexNewJobsScript });
  connection.defineCommand(placeCommand, { numberOfKeys: jobStatuses.length + 1, lua: placeScript });
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
    jobs.length + 3,
    indexKeyOf(queues, queue.name),
    statusIndexKeyOf(queues, queue.name, "queued"),
    adoptedKeyOf(queues, queue.name),
    ...jobs.map(({ id }) => queue.toKey(id)),
    ...jobs.map(({ id, data }) => indexMemberOf(data.submittedAt, id)),
  ]);
  for (const { id, data, priority } of jobs) {
    const options = jobOptionsFor(queues.config, data, priority);
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
 * across `accounts`, from the all-jobs index or one status's: a page from each queue's
 * index, merged. Members are positions in one global order, so the merge's last member is a
 * cursor valid for every index.
 */
export async function readIndex(
  queues: QueueSet,
  accounts: readonly AccountQueue[],
  status: JobStatus | undefined,
  after: string | undefined,
  count: number,
): Promise<string[]> {
  const max = after === undefined ? "+" : `(${after}`;
  const keyOf = (name: string) => (status ? statusIndexKeyOf(queues, name, status) : indexKeyOf(queues, name));
  // One command per queue, not one pipeline: on a cluster the indexes live in different slots.
  const pages = await Promise.all(
    accounts.map(({ queue }) => queues.connection.zrevrangebylex(keyOf(queue.name), max, "-", "LIMIT", 0, count)),
  );
  // Each page is sorted and members are fixed-width up to the id, so a sort of the union is the merge.
  return pages
    .flat()
    .sort((a, b) => (a < b ? 1 : a > b ? -1 : 0))
    .slice(0, count);
}

export interface Placement {
  member: string;
  /** Where the member belongs; `undefined` drops it from every index (its job is gone). */
  status: JobStatus | undefined;
  /** Only while the member is still in this status's index (a reader's repair). */
  from?: JobStatus | undefined;
}

/**
 * Moves members of one queue's indexes where they belong, in one script call: what the
 * worker's events (job-status.ts), a reader's repairs and pruning send.
 */
export async function placeMembers(queues: QueueSet, queueName: string, placements: readonly Placement[]) {
  if (placements.length === 0) return 0;
  return place(queues, queueName, "move", placements);
}

/**
 * Puts existing jobs in one queue's indexes at their status, members included: a rebuild of
 * indexes lost or never written (jobs from before the status indexes, tests that build jobs
 * with BullMQ alone). Chunk large rebuilds: it is one script call.
 */
export async function indexJobs(
  queues: QueueSet,
  queueName: string,
  jobs: readonly { id: string; submittedAt: number; status: JobStatus }[],
): Promise<number> {
  if (jobs.length === 0) return 0;
  const placements = jobs.map(({ id, submittedAt, status }) => ({ member: indexMemberOf(submittedAt, id), status }));
  return place(queues, queueName, "add", placements);
}

/**
 * Lists members that no status index holds yet at the status given (`adoptUnlisted`, for jobs
 * from before the status indexes); a member an event placed meanwhile is left where it is.
 */
export async function adoptMembers(queues: QueueSet, queueName: string, placements: readonly Placement[]) {
  if (placements.length === 0) return 0;
  return place(queues, queueName, "adopt", placements);
}

async function place(
  queues: QueueSet,
  queueName: string,
  mode: "add" | "adopt" | "move",
  placements: readonly Placement[],
) {
  teach(queues.connection);
  const connection = queues.connection as RedisConnection & {
    [placeCommand](...args: (string | number)[]): Promise<number>;
  };
  return connection[placeCommand](
    ...indexKeysOf(queues, queueName),
    mode,
    ...placements.flatMap(({ member, status, from }) => [member, statusPosition(status), statusPosition(from)]),
  );
}
