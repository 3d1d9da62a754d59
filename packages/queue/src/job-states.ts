import type { JobState, Queue } from "bullmq";
import { luaCommand, type RedisConnection } from "./redis.ts";

/** BullMQ's state keys of a queue, in the order `stateOf` takes them. */
const stateKeyNames = [
  "completed",
  "failed",
  "delayed",
  "active",
  "wait",
  "paused",
  "waiting-children",
  "prioritized",
] as const;
export const stateKeyCount = stateKeyNames.length;
const stateKeys = new WeakMap<Queue, string[]>();
/** The keys `stateOf` reads for a queue's jobs, made once per queue. */
export function stateKeysOf(queue: Queue): string[] {
  let keys = stateKeys.get(queue);
  if (!keys) {
    keys = stateKeyNames.map((name) => queue.toKey(name));
    stateKeys.set(queue, keys);
  }
  return keys;
}

/**
 * Lua: `stateOf(keys, id)`, a job's state as BullMQ's getStateV2 script answers it, in its
 * order of checks; `keys` are the queue's `stateKeysOf`. `LPOS` needs Redis 6.0.6; before it,
 * the lists are scanned as BullMQ's older getState scans them.
 */
export const jobStateLua = `
local function listed(list, id)
  local ok, position = pcall(redis.call, "LPOS", list, id)
  if ok then return position ~= false and position ~= nil end
  for _, item in ipairs(redis.call("LRANGE", list, 0, -1)) do
    if item == id then return true end
  end
  return false
end
local function stateOf(keys, id)
  if redis.call("ZSCORE", keys[1], id) then return "completed" end
  if redis.call("ZSCORE", keys[2], id) then return "failed" end
  if redis.call("ZSCORE", keys[3], id) then return "delayed" end
  if redis.call("ZSCORE", keys[8], id) then return "prioritized" end
  if listed(keys[4], id) then return "active" end
  if listed(keys[5], id) or listed(keys[6], id) then return "waiting" end
  if redis.call("ZSCORE", keys[7], id) then return "waiting-children" end
  return "unknown"
end
`;

// KEYS: the queue's state keys (`stateKeysOf`). ARGV: job ids. Answers each job's state.
const statesScript = `${jobStateLua}
local states = {}
for i, id in ipairs(ARGV) do states[i] = stateOf(KEYS, id) end
return states
`;
const statesCommand = luaCommand<(JobState | "unknown")[]>("provisionerJobStates", statesScript, stateKeyCount);

/**
 * The states of jobs of one queue, in one script call: what `queue.getJobState` answers for
 * each, without a script call a job. A few thousand ids a call at most (they travel as arguments).
 */
export async function jobStatesOf(
  connection: RedisConnection,
  queue: Queue,
  ids: readonly string[],
): Promise<(JobState | "unknown")[]> {
  if (ids.length === 0) return [];
  return statesCommand.run(connection, ...stateKeysOf(queue), ...ids);
}
