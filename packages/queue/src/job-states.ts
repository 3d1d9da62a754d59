import type { JobState, Queue } from "bullmq";
import { listedLua } from "./job-index.ts";
import type { RedisConnection } from "./redis.ts";

// KEYS: the queue's completed, failed and delayed sets, its active list, and its job key
// prefix (a job's hash is the prefix followed by its id, in the queue's slot). ARGV: job ids.
// Answers each job's state as BullMQ's `getState` tells it for a job made by Queue.add:
// anything else that still exists (prioritized, waiting, paused, waiting for children) waits.
// One call for many jobs, each a few O(1) reads; the active list is as long as the jobs
// running, not the queue.
const statesScript = `${listedLua}
local states = {}
for i, id in ipairs(ARGV) do
  if redis.call("ZSCORE", KEYS[1], id) then states[i] = "completed"
  elseif redis.call("ZSCORE", KEYS[2], id) then states[i] = "failed"
  elseif redis.call("ZSCORE", KEYS[3], id) then states[i] = "delayed"
  elseif listed(KEYS[4], id) then states[i] = "active"
  elseif redis.call("EXISTS", KEYS[5] .. id) == 1 then states[i] = "waiting"
  else states[i] = "unknown" end
end
return states
`;
const statesCommand = "provisionerJobStates";
const taught = new WeakSet<RedisConnection>();
function commandOf(connection: RedisConnection) {
  if (!taught.has(connection)) {
    connection.defineCommand(statesCommand, { numberOfKeys: 5, lua: statesScript });
    taught.add(connection);
  }
  return connection as RedisConnection & {
    [statesCommand](...args: string[]): Promise<(JobState | "unknown")[]>;
  };
}

/**
 * The states of jobs of one queue, in one script call: what `queue.getJobState` answers for
 * each, except that every waiting kind is `waiting`; "unknown" for a job that no longer exists.
 * A few thousand ids a call at most (they travel as arguments).
 */
export async function jobStatesOf(
  connection: RedisConnection,
  queue: Queue,
  ids: readonly string[],
): Promise<(JobState | "unknown")[]> {
  if (ids.length === 0) return [];
  const keys = [queue.toKey("completed"), queue.toKey("failed"), queue.toKey("delayed"), queue.toKey("active")];
  return commandOf(connection)[statesCommand](...keys, queue.toKey(""), ...ids);
}
