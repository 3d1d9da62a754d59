import { jobStatuses, type Lane } from "@provisioner/api-contract";
import type { Queue } from "bullmq";
import { indexKeysOf, indexMemberOf, placeMemberLua, statusPosition } from "./job-index.ts";
import type { QueueSet } from "./queues.ts";
import { luaCommand, type RedisCall } from "./redis.ts";

// Scheduling within one account's queue, with BullMQ's own priorities (lower runs first,
// FIFO within one priority, 1..2^21-1). Each account queue keeps a virtual clock beside it:
// - an interactive job gets the clock: ahead of every waiting bulk job whose turn has not come;
// - the k-th bulk job of a request gets clock + 1 + k * bulkStride, so a batch submitted while
//   another runs takes priorities interleaved with the rest of the first: round robin;
// - every job that starts moves the clock to max(clock + 1, its priority). Interactive jobs
//   therefore queue behind bulk jobs whose turn has come, and under a steady interactive
//   stream a waiting bulk job's turn comes after at most bulkStride interactive starts per
//   bulk job ahead of it: bulk keeps at least 1 start in bulkStride + 1 and never starves.
// One queue per account (not one per lane) keeps one concurrency and one rate limit per account.

/** Interactive starts per bulk start while both lanes wait. */
export const bulkStride = 4;
/** BullMQ's highest priority. */
const priorityLimit = 2 ** 21 - 1;
/**
 * When the clock passes this, it and every job's priority in the queue are shifted down
 * (order kept) so the next batch still fits under BullMQ's limit: once per ~1M starts.
 */
export const rebaseAbove = 2 ** 20;

/** The clock's key: named with the queue's hash tag, so it shares the queue's slot. */
export const laneClockKeyOf = (queues: QueueSet, queue: Queue) => `${queues.config.prefix}:lane-clock:${queue.name}`;

// Reads of a clock in flight, by connection and key: a submission that arrives while one is
// on its way shares it, as if it had arrived a moment earlier (it is concurrent with that
// read). Under 50 concurrent submissions this turns a GET a request into a few a round trip.
const inFlight = new WeakMap<QueueSet["connection"], Map<string, Promise<number>>>();

function readLaneClock(queues: QueueSet, queue: Queue): Promise<number> {
  const reads = inFlight.get(queues.connection) ?? new Map<string, Promise<number>>();
  inFlight.set(queues.connection, reads);
  const key = laneClockKeyOf(queues, queue);
  const pending = reads.get(key);
  if (pending) return pending;
  const read = queues.connection
    .get(key)
    .then((value) => Number(value ?? 1))
    .finally(() => reads.delete(key));
  reads.set(key, read);
  return read;
}

/** The clock of each queue (1 before any job started); one GET each, as each lives in its queue's slot. */
export function readLaneClocks(queues: QueueSet, forQueues: readonly Queue[]): Promise<number[]> {
  return Promise.all(forQueues.map((queue) => readLaneClock(queues, queue)));
}

/** A job's priority: `bulkIndex` counts the bulk jobs before it in its request, for its queue. */
export function priorityOf(lane: Lane, clock: number, bulkIndex: number): number {
  const priority = lane === "interactive" ? clock : clock + 1 + bulkIndex * bulkStride;
  return Math.min(Math.max(priority, 1), priorityLimit);
}

/**
 * Lua: `advanceLane(keys, indexBase, priority, threshold, member)` moves a queue's clock as a
 * job of `priority` starts, rebasing past `threshold`, and answers the new clock. `keys`: the
 * clock, the prioritized set, the delayed set, the active list; KEYS[indexBase] is the queue's
 * job key prefix (job hashes are `<prefix><id>`), followed by its status indexes (job-index.ts
 * `indexKeysOf`). `member` ("" for none), the started job's index member, moves to the
 * `running` index here: the job's start costs no command of its own. Needs `placeMemberLua`.
 * BullMQ scores a prioritized job `priority * 2^32 + counter`; a rebase keeps the counter.
 */
export const advanceLaneLua = `
local function advanceLane(keys, indexBase, priority, threshold, member)
  local jobPrefix = KEYS[indexBase]
  if member ~= "" then placeMember(indexBase, member, ${statusPosition("running")}, 0) end
  local nextClock = math.max(tonumber(redis.call("GET", keys[1]) or "1") + 1, tonumber(priority))
  if nextClock > tonumber(threshold) then
    local shift = nextClock - 1
    local members = redis.call("ZRANGE", keys[2], 0, -1, "WITHSCORES")
    for i = 1, #members, 2 do
      local score = tonumber(members[i + 1])
      local rebased = math.max(1, math.floor(score / 0x100000000) - shift)
      redis.call("ZADD", keys[2], rebased * 0x100000000 + score % 0x100000000, members[i])
      redis.call("HSET", jobPrefix .. members[i], "priority", rebased)
    end
    local others = redis.call("ZRANGE", keys[3], 0, -1)
    for _, id in ipairs(redis.call("LRANGE", keys[4], 0, -1)) do others[#others + 1] = id end
    for _, id in ipairs(others) do
      local old = tonumber(redis.call("HGET", jobPrefix .. id, "priority") or "0")
      if old > 0 then redis.call("HSET", jobPrefix .. id, "priority", math.max(1, old - shift)) end
    end
    nextClock = 1
  end
  redis.call("SET", keys[1], nextClock)
  return nextClock
end
`;
/** How many keys `laneClockParts` names before the job indexes. */
export const laneKeyCount = 4;
// KEYS: the lane's keys, then the queue's job indexes. ARGV: priority, threshold, member.
const advanceScript = `${placeMemberLua}${advanceLaneLua}
return advanceLane({KEYS[1], KEYS[2], KEYS[3], KEYS[4]}, ${laneKeyCount + 1}, ARGV[1], ARGV[2], ARGV[3])
`;

const advanceCommand = luaCommand<number>(
  "provisionerAdvanceLaneClock",
  advanceScript,
  laneKeyCount + 1 + jobStatuses.length,
);

/**
 * Moves the queue's clock as a job of `priority` starts (rebasing past `threshold`); answers
 * the new clock. `started`, the job that starts, is listed as `running` in the same call.
 */
export async function advanceLaneClock(
  queues: QueueSet,
  queue: Queue,
  priority: number,
  options: LaneClockOptions = {},
): Promise<number> {
  const { args } = laneClockCall(queues, queue, priority, options);
  return Number(await advanceCommand.run(queues.connection, ...args));
}

interface LaneClockOptions {
  threshold?: number;
  started?: { id: string; submittedAt: number };
}

/** `advanceLaneClock` as a call to send with others (redis.ts `sendTogether`); its reply is the clock. */
export function laneClockCall(
  queues: QueueSet,
  queue: Queue,
  priority: number,
  options: LaneClockOptions = {},
): RedisCall {
  const { keys, args } = laneClockParts(queues, queue, priority, options);
  return advanceCommand.call(queues.connection, [...keys, ...indexKeysOf(queues, queue.name), ...args]);
}

/** `advanceLane`'s keys (the lane's, without the job indexes) and its last three arguments. */
export function laneClockParts(
  queues: QueueSet,
  queue: Queue,
  priority: number,
  { threshold = rebaseAbove, started }: LaneClockOptions = {},
): { keys: string[]; args: (string | number)[] } {
  return {
    keys: [laneClockKeyOf(queues, queue), queue.toKey("prioritized"), queue.toKey("delayed"), queue.toKey("active")],
    args: [priority, threshold, started ? indexMemberOf(started.submittedAt, started.id) : ""],
  };
}
