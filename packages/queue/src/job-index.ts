import { type JobStatus, jobStatuses } from "@provisioner/api-contract";
import { Job, type JobState, type Queue, type RedisClient } from "bullmq";
import { trimSucceededJobLua } from "./finished-job.ts";
import { type JobData, storedJobData } from "./job-data.ts";
import { jobStateLua, stateKeyCount, stateKeysOf } from "./job-states.ts";
import { type AccountQueue, createDatabaseJob, jobOptionsFor, type QueueSet } from "./queues.ts";
import { luaCommand, type RedisCall } from "./redis.ts";

/**
 * Every job newest first, for `GET /v1/jobs`: one sorted set per status and account queue
 * (`job-index:<status>:{queue}`), named with the queue's hash tag so it shares the queue's slot
 * (its MULTI with the queue's adds stays in one slot on a cluster). Every member scores 0 and is
 * named `<submittedAt, zero-padded>:<job id>`, so ZREVRANGEBYLEX reads newest first (jobs of one
 * millisecond by id, highest first) from any member on, in O(log n + page), and a member is a
 * position that survives jobs changing state, finishing or being removed around it, and means
 * the same in every index. A `status` filter reads only that status's indexes; the unfiltered
 * listing merges every status's (each account's read in one script call, so a job moving
 * between them is seen once), so a page costs O(statuses × accounts × (log n + page)).
 *
 * A member sits in exactly one status index, moved as its job's status changes: the add script
 * puts a new job in `queued`, the runner's lane-clock script moves a starting job to `running`
 * (lanes.ts), the worker's events move it on (job-status.ts, folded into the batch script for a
 * batch's job), replay moves its new life to `queued`, discard and pruning drop it. BullMQ moves
 * jobs in its own scripts (a delayed job promoted to waiting, a stalled job put back, a killed
 * worker's missed event), so a status index can lag: a reader checks each candidate's real
 * status and moves a misplaced member where it belongs (`placeMembers`). A lag costs a job its
 * place in its new status's listing until its next event or a read of the index it sits in.
 * A move places only a member whose job exists in that life (its hash holds data submitted at
 * the member's time), so a late event of a removed job or of a replayed job's earlier life adds
 * nothing back.
 *
 * Earlier versions also kept an all-jobs index (`job-index:{queue}`, the same members); the
 * first worker of this version lists the jobs only it held (from before the status indexes) in
 * their status's index, then deletes it (status.ts `adoptUnlistedJobs`).
 */
export const statusIndexKeyOf = (queues: QueueSet, queueName: string, status: JobStatus) =>
  `${queues.config.prefix}:job-index:${status}:${queueName}`;
/** The all-jobs index of earlier versions: read once to adopt what only it lists, then deleted. */
export const legacyIndexKeyOf = (queues: QueueSet, queueName: string) =>
  `${queues.config.prefix}:job-index:${queueName}`;
/** Set once a queue's jobs from before the status indexes are listed in them (or it had none). */
export const adoptedKeyOf = (queues: QueueSet, queueName: string) =>
  `${queues.config.prefix}:job-index-adopted:${queueName}`;
/**
 * The keys `placeMemberLua` expects: the queue's job key prefix (BullMQ's `queue.toKey("")`: a
 * job's hash is it followed by the id; in the queue's slot, as the indexes), then each status's
 * index, in `jobStatuses` order.
 */
export const indexKeysOf = (queues: QueueSet, queueName: string) => [
  `${queues.config.prefix}:${queueName}:`,
  ...jobStatuses.map((status) => statusIndexKeyOf(queues, queueName, status)),
];
/** A status's position among the status index keys (1-based, as Lua counts); 0 for none. */
export const statusPosition = (status: string | undefined) => jobStatuses.indexOf(status as JobStatus) + 1;

/**
 * Lua shared by every script that moves a member (this file, batches.ts, failed-jobs.ts, lanes.ts).
 * `placeMember(base, member, target, from)`: KEYS[base] is the queue's job key prefix, KEYS[base + i]
 * the index of the i-th status. Target 0 drops the member from every index; otherwise the
 * member, if its job exists in the member's life, leaves every other status index for the
 * target's, and with `from` > 0 only while it is still in that status's index (a reader's
 * repair, which must not undo an event that moved the job meanwhile). A job's life is its data's
 * `submittedAt` (job-data.ts writes it first, as "t", so it is read without decoding the data;
 * data of earlier versions is decoded); data that names none (not ours) is judged by its
 * existence alone. A member sits in one index at most, so the search for the one it leaves
 * stops where it is found, starting with the status a job usually comes from (a repair knows:
 * its `from`). A member placed
 * in `succeeded` trims its job's hash of what only a waiting or running job reads
 * (finished-job.ts): every move to `succeeded` (the worker's event, folded into a batch's script
 * or not, and a reader's repair) passes here, in the same script call.
 */
export const placeMemberLua = `${trimSucceededJobLua}
local searchOrder = ${luaSearchOrder()}
local function livesAs(base, member)
  local data = redis.call("HGET", KEYS[base] .. string.sub(member, 17), "data")
  if not data then return false end
  local life = string.match(data, '^{"v":2,"t":(%d+)')
  if not life then
    local ok, decoded = pcall(cjson.decode, data)
    if ok and type(decoded) == "table" and type(decoded.submittedAt) == "number" then
      life = string.format("%.0f", decoded.submittedAt)
    end
  end
  return life == nil or life == (string.match(string.sub(member, 1, 15), "^0*(%d+)$") or "0")
end
local function placeMember(base, member, target, from)
  if target == 0 then
    for i = base + 1, base + ${jobStatuses.length} do redis.call("ZREM", KEYS[i], member) end
    return 1
  end
  if from > 0 and not redis.call("ZSCORE", KEYS[base + from], member) then return 0 end
  if not livesAs(base, member) then return 0 end
  if from > 0 then
    redis.call("ZREM", KEYS[base + from], member)
  else
    for _, i in ipairs(searchOrder[target]) do
      if redis.call("ZREM", KEYS[base + i], member) == 1 then break end
    end
  end
  redis.call("ZADD", KEYS[base + target], 0, member)
  if target == ${statusPosition("succeeded")} then trimSucceededJob(KEYS[base] .. string.sub(member, 17)) end
  return 1
end
`;

/**
 * For each target status (Lua's 1-based positions), the other statuses in the order a moving
 * member is looked for: `running` first, as every status but `running` (and a replay's
 * `queued`) is reached from it, and `queued` first for `running`.
 */
function luaSearchOrder(): string {
  const rows = jobStatuses.map((target) => {
    const first: JobStatus = target === "running" ? "queued" : "running";
    const order = [first, ...jobStatuses.filter((status) => status !== first)].filter((status) => status !== target);
    return `{${order.map(statusPosition).join(", ")}}`;
  });
  return `{${rows.join(", ")}}`;
}

export const indexMemberOf = (submittedAt: number, id: string) => `${String(submittedAt).padStart(15, "0")}:${id}`;

const memberPattern = /^(\d{15}):([a-z]+-[\w-]{1,200})$/;
export function parseIndexMember(member: string): { submittedAt: number; id: string } | undefined {
  const match = memberPattern.exec(member);
  return match ? { submittedAt: Number(match[1]), id: match[2] as string } : undefined;
}

// Runs in the same MULTI as the jobs' adds, just before them: only a job that does not exist
// yet (not a repeat of its key) gets a member, in the `queued` index, and each existing job
// answers its stored data and its BullMQ state, so the caller tells a new job from a repeat,
// and answers a repeat's status, without reading anything back. KEYS: the queued index, the
// queue's state keys (`stateKeysOf`), then each job's key; ARGV: each job's member, then each
// job's id. Answers two lists, an entry a job in each: its data and its state, both "" when new.
// The state is what BullMQ's getStateV2 script answers (job-states.ts `jobStateLua`).
// (A replay moves its job's member itself: failed-jobs.ts.)
const indexNewJobsScript = `${jobStateLua}
local stateKeys = {${Array.from({ length: stateKeyCount }, (_, i) => `KEYS[${i + 2}]`).join(", ")}}
local first = ${stateKeyCount + 1}
local count = #KEYS - first
local stored, states = {}, {}
for i = 1, count do
  local data = redis.call("HGET", KEYS[first + i], "data")
  if data then
    stored[i] = data
    states[i] = stateOf(stateKeys, ARGV[count + i])
  else
    stored[i] = ""
    states[i] = ""
    redis.call("ZADD", KEYS[1], 0, ARGV[i])
  end
end
return {stored, states}
`;
// KEYS: indexKeysOf. ARGV: a mode, then triples (member, target position, from position).
// Modes: "move"; "adopt" (only a member no status index holds yet: listing jobs from before
// the status indexes, which never overrides a move an event made meanwhile).
const placeScript = `${placeMemberLua}
local mode = ARGV[1]
local placed = 0
for i = 2, #ARGV, 3 do
  local member = ARGV[i]
  local listed = false
  if mode == "adopt" then
    for k = 2, #KEYS do
      if redis.call("ZSCORE", KEYS[k], member) then listed = true end
    end
  end
  if not listed then placed = placed + placeMember(1, member, tonumber(ARGV[i + 1]), tonumber(ARGV[i + 2])) end
end
return placed
`;
// KEYS: one queue's status indexes. ARGV: the exclusive upper bound, the page size. Answers each
// index's page, one after the other: read in one call, so a member that moves between indexes
// meanwhile is in exactly one of them. (The merge is the caller's: Lua compares strings by the
// server's locale.)
const readScript = `
local members = {}
for i = 1, #KEYS do
  for _, member in ipairs(redis.call("ZREVRANGEBYLEX", KEYS[i], ARGV[1], "-", "LIMIT", 0, ARGV[2])) do
    members[#members + 1] = member
  end
end
return members
`;

const indexCommand = luaCommand<unknown>("provisionerIndexNewJobs", indexNewJobsScript);
const placeCommand = luaCommand<number>("provisionerPlaceMembers", placeScript, jobStatuses.length + 1);
const readCommand = luaCommand<string[]>("provisionerReadIndexes", readScript, jobStatuses.length);

/** What already stood under a job's id: its stored data, and its BullMQ state as the MULTI found it. */
export interface ExistingJob {
  data: string;
  state: JobState | "unknown";
}

/**
 * Adds jobs to one account's queue and the new ones to its index, in one MULTI: a job is
 * never in the queue without its member, and a repeat of an existing job's key adds
 * neither (BullMQ keeps the existing job). Each job comes with its lane priority (lanes.ts).
 * Answers, for each job, the data and state of the job already stored under its id before
 * this call, or `undefined` when its id was free (a repeat of an id within `jobs` reads as
 * free: the first of them is the one BullMQ keeps).
 */
export function addJobsIndexed(
  queues: QueueSet,
  queue: Queue,
  client: RedisClient,
  jobs: readonly { id: string; data: JobData; priority: number }[],
): Promise<(ExistingJob | undefined)[]> {
  if (jobs.length === 0) return Promise.resolve([]);
  try {
    // Built and sent before this returns (nothing here waits), so the caller's next chunk is
    // prepared while Redis runs this one, and calls made in order send their MULTIs in order.
    return existingJobsOf(sendIndexed(queues, queue, client, jobs));
  } catch (error) {
    return Promise.reject(error);
  }
}

function sendIndexed(
  queues: QueueSet,
  queue: Queue,
  client: RedisClient,
  jobs: readonly { id: string; data: JobData; priority: number }[],
) {
  const args: string[] = [statusIndexKeyOf(queues, queue.name, "queued"), ...stateKeysOf(queue)];
  const members: string[] = [];
  const ids: string[] = [];
  for (const { id, data } of jobs) {
    args.push(queue.toKey(id));
    members.push(indexMemberOf(data.submittedAt, id));
    ids.push(id);
  }
  // Defined before the MULTI is made: `client` is BullMQ's for the queue, on the shared
  // connection, and a MULTI knows the scripts its connection knew when it was made.
  const index = indexCommand.call(queues.connection, [args.length, ...args, ...members, ...ids]);
  const multi = client.multi();
  multi.runCommand(index.command, index.args);
  for (const { id, data, priority } of jobs) {
    const options = jobOptionsFor(queues.config, data, priority);
    // BullMQ queues the add on the MULTI before its first await (its own addJobs relies on
    // that too), and its answer comes back in exec's replies: not awaited here.
    new Job(queue, createDatabaseJob, storedJobData(data), options, id).addJob(multi).catch(() => {});
  }
  return multi.exec() as Promise<[Error | null, unknown][] | null>;
}

async function existingJobsOf(exec: Promise<[Error | null, unknown][] | null>): Promise<(ExistingJob | undefined)[]> {
  const replies = (await exec) ?? [];
  for (const [error, reply] of replies) {
    if (error) throw error;
    if (typeof reply === "number" && reply < 0) throw new Error(`BullMQ refused a job (code ${reply})`);
  }
  const [stored, states] = (replies[0]?.[1] ?? []) as unknown[];
  if (!Array.isArray(stored) || !Array.isArray(states)) throw new Error("the index script answered no lists");
  return stored.map((data, i) =>
    typeof data === "string" && data !== "" ? { data, state: states[i] as JobState | "unknown" } : undefined,
  );
}

/**
 * Up to `count` members after `after` (exclusive; the newest when absent), newest first,
 * across `accounts`, from one status's indexes or, without a status, every status's: a page from
 * each index, merged. Members are positions in one global order, so the merge's last member is a
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
  // One call per queue, not one pipeline: on a cluster the indexes live in different slots.
  const pages = await Promise.all(
    accounts.map(({ queue }) =>
      status
        ? queues.connection.zrevrangebylex(statusIndexKeyOf(queues, queue.name, status), max, "-", "LIMIT", 0, count)
        : readCommand.run(queues.connection, ...indexKeysOf(queues, queue.name).slice(1), max, count),
    ),
  );
  // Each page is sorted and members are fixed-width up to the id, so a sort of the union is the
  // merge; a member an earlier version left in two indexes counts once.
  return [...new Set(pages.flat())].sort((a, b) => (a < b ? 1 : a > b ? -1 : 0)).slice(0, count);
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
 * Puts existing jobs in one queue's status indexes at their status: a rebuild of indexes lost
 * or never written (tests that build jobs with BullMQ alone). A job that does not exist in the
 * life given is left out. Chunk large rebuilds: it is one script call.
 */
export async function indexJobs(
  queues: QueueSet,
  queueName: string,
  jobs: readonly { id: string; submittedAt: number; status: JobStatus }[],
): Promise<number> {
  if (jobs.length === 0) return 0;
  const placements = jobs.map(({ id, submittedAt, status }) => ({ member: indexMemberOf(submittedAt, id), status }));
  return place(queues, queueName, "move", placements);
}

/**
 * Lists members that no status index holds yet at the status given (`adoptUnlisted`, for jobs
 * from before the status indexes); a member an event placed meanwhile is left where it is.
 */
export async function adoptMembers(queues: QueueSet, queueName: string, placements: readonly Placement[]) {
  if (placements.length === 0) return 0;
  return place(queues, queueName, "adopt", placements);
}

/** `placeMembers` as a call to send with others (redis.ts `sendTogether`). */
export const placeMembersCall = (queues: QueueSet, queueName: string, placements: readonly Placement[]) =>
  placeCall(queues, queueName, "move", placements);

async function place(queues: QueueSet, queueName: string, mode: "adopt" | "move", placements: readonly Placement[]) {
  return placeCommand.run(queues.connection, ...placeCall(queues, queueName, mode, placements).args);
}

function placeCall(
  queues: QueueSet,
  queueName: string,
  mode: "adopt" | "move",
  placements: readonly Placement[],
): RedisCall {
  return placeCommand.call(queues.connection, [
    ...indexKeysOf(queues, queueName),
    mode,
    ...placements.flatMap(({ member, status, from }) => [member, statusPosition(status), statusPosition(from)]),
  ]);
}
