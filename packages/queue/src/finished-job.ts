/**
 * What a succeeded job's hash stops keeping. BullMQ writes these for a job that waits or runs
 * and never reads them again once the job is completed: `delay` and `priority` (where it
 * waited), `ats` (runs started: a delayed job's provisioning mark, status.ts `statusOfJob`),
 * and of its options everything but `attempts` (the job view's `maxAttempts`): the priority
 * again and the backoff. A completed job is never retried or replayed (replays take dead
 * jobs only, failed-jobs.ts), and its retention is the Worker's (queues.ts
 * `finishedJobRetention`), so none of it is missed. Kept: data (the view, idempotency, the
 * listing's life check), returnvalue, atm, timestamp, processedOn, finishedOn and name
 * (the dashboard's run times and title). BullMQ's retry of a completed job (`job.retry("completed")`,
 * its `reprocessJob`) would read the priority and backoff gone from here: nothing calls it (the
 * dashboard is read-only), and it must stay so, or run a trimmed job as a new submission.
 *
 * On Redis's default settings a job's hash is a hash table (its data and result are longer than
 * the 64 bytes of the compact encoding), where every field costs its own entry: these are
 * about 140 bytes of a finished job's 1,750 (`MEMORY USAGE`).
 */
export const trimmedOnSuccess = ["delay", "priority", "ats"] as const;

/**
 * Lua: `trimSucceededJob(key)` trims the hash at `key` as above, only while it holds a result
 * (the job is completed in BullMQ's terms; a repeat of the call changes nothing).
 */
export const trimSucceededJobLua = `
local function trimSucceededJob(key)
  if redis.call("HEXISTS", key, "returnvalue") == 0 then return end
  redis.call("HDEL", key, ${trimmedOnSuccess.map((field) => `"${field}"`).join(", ")})
  local opts = redis.call("HGET", key, "opts")
  if not opts then return end
  local attempts = string.match(opts, '"attempts":(%d+)')
  local kept = attempts and ('{"attempts":' .. attempts .. '}') or '{}'
  if kept ~= opts then redis.call("HSET", key, "opts", kept) end
end
`;
