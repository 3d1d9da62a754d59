import { type BatchView, type JobStatus, jobStatuses } from "@provisioner/api-contract";
import type { Queue } from "bullmq";
import { addCallback } from "./callbacks.ts";
import { deathReasons } from "./failed-jobs.ts";
import type { JobResult } from "./job-data.ts";
import { indexKeysOf, placeMemberLua } from "./job-index.ts";
import { outcomeOfResult } from "./job-result.ts";
import { jobStatesOf } from "./job-states.ts";
import type { QueueSet } from "./queues.ts";
import { luaCommand, type RedisCall } from "./redis.ts";
import { decodeCursor, encodeCursor, pageScored } from "./scored-page.ts";
import { statusOfState } from "./status.ts";

// A batch's counts are kept, not recomputed. A batch spans account queues, and nothing is
// atomic across queues on a cluster, so its state is kept per (batch, queue), each key
// carrying the queue's hash tag (its name, `{provider.account}`):
//   batch-jobs:{q}:<batch>     hash   job id → the status last recorded for it
//   batch-counts:{q}:<batch>   hash   status → how many of the batch's jobs in q have it; and
//                                     outcome:<created|deduplicated> → how many of the jobs
//                                     the batch itself queued (not repeats) succeeded so
//   batch-dead:{q}:<batch>     zset   the dead ones, scored by when they died (paging)
//   batch-pending:{q}:<batch>  set    the ones not yet terminal (what reconciliation checks)
//   batch-open:{q}             set    the batches with pending jobs in q, or not yet settled
// and `batch:<batch>` (one key) lists the queues the batch spans; `batch-callback:<batch>`
// holds the bulk request's callbackUrl, written once all its queues are recorded;
// `batch-of:{q}:<job>` lists the other batches a job was submitted in as a repeat of its key. One Lua script moves a job's
// recorded status and every count with it, so the counts always sum to the recorded jobs.
// Writers: the API when it records the batch (only jobs not yet recorded), the worker's
// events as a job starts, retries, succeeds or dies, replay and discard. BullMQ moves jobs in
// its own scripts, so a worker killed between BullMQ's move and its event misses one write:
// `reconcileBatches` (run by each worker on an interval) reads the true state of every
// pending job and records it, compare-and-set against what it read, so it never overwrites a
// newer write; the counts converge once no job is pending. A read sums one HGETALL per queue.
// When a write leaves a queue's part with nothing pending, the writer settles it (queues the
// batch's one `batch.finished` notice if every queue is done, then closes it there); a
// writer that dies before settling leaves the batch open, and the reconciliation settles it.

export type BatchStatus = JobStatus | "expired";
/** How a succeeded job ended: it created its database, or found and adopted it. */
type SuccessOutcome = JobResult["outcome"];
const terminal: ReadonlySet<BatchStatus> = new Set<BatchStatus>(["succeeded", "dead", "expired"]);

const spanKey = (queues: QueueSet, batchId: string) => `${queues.config.prefix}:batch:${batchId}`;
const callbackKey = (queues: QueueSet, batchId: string) => `${queues.config.prefix}:batch-callback:${batchId}`;
/** The batches other than its own that listed a job as a repeat (tagged with its queue). */
const otherBatchesKey = (queues: QueueSet, queueName: string, id: string) =>
  `${queues.config.prefix}:batch-of:${queueName}:${id}`;
/** The `batch.finished` notice's id (its `webhook-id`): one per batch. */
export const batchCallbackId = (batchId: string) => `batch-${batchId}`;
/** How many dead items the `batch.finished` notice carries; the rest are paged with its `deadCursor`. */
const deadInNotice = 20;
/** What every per-(batch, queue) key's name starts with. */
const batchKeyPrefix = (queues: QueueSet) => `${queues.config.prefix}:batch-`;
const keysOf = (queues: QueueSet, queueName: string, batchId: string) => {
  const base = batchKeyPrefix(queues);
  return [
    `${base}jobs:${queueName}:${batchId}`,
    `${base}counts:${queueName}:${batchId}`,
    `${base}dead:${queueName}:${batchId}`,
    `${base}pending:${queueName}:${batchId}`,
    `${base}open:${queueName}`,
  ];
};

// KEYS: jobs, counts, dead, pending, open, then the queue's job indexes (indexKeysOf). ARGV:
// batch id, now, ttl ms, the key prefix of the job's repeat listing (`batch-of:{q}:`, "" to
// leave other batches alone), the batch keys' prefix and the queue's name (to name another
// batch's keys), then quadruples of (job id, expected, status, index member): expected "*"
// sets always, "-" only a job not yet recorded, anything else only while that is the recorded
// status (compare-and-set). A member ("" for none) is moved to the status's index too,
// whenever the write is allowed: the worker's one script call per event moves both.
// A status of "succeeded/<outcome>" is recorded whole and counts the outcome beside the
// status; a job that leaves it (a stale event, then the reconciliation) takes its outcome's
// count with it, so the outcome counts always sum over the recorded successes, each once.
// With a repeat listing, every other batch that listed the job as a repeat of its key gets
// the same status (without the outcome: it did not queue the job), in this same call; their
// keys share the queue's hash tag, so they share its slot. Answers the changes made in this
// batch, its pending count, then each other batch whose part in this queue has nothing pending.
//
// `batchStatusLua` defines `recordStatuses(lastArg)`, which does all this for the quadruples up
// to ARGV[lastArg] and answers the reply; it needs `placeMemberLua`. A script may carry more
// keys and arguments after the ones named here (the job start's does: job-status.ts).
export const batchStatusLua = `
local function split(value)
  local status, outcome = string.match(value, "^([^/]+)/?(.*)$")
  return status, outcome
end
local positions = {${jobStatuses.map((status, i) => `${status} = ${i + 1}`).join(", ")}}
local terminal = {succeeded = true, dead = true, expired = true}
local now, ttl = ARGV[2], ARGV[3]
-- What a batch's writes in one call did to its keys: whether a status changed, whether a job
-- (re)entered the batch's live part (first recorded, or back from a terminal status), and
-- whether the keys' lease is due.
local function newEffect() return {changed = 0, reopened = false, refresh = false} end
-- One job's status in one batch's keys {jobs, counts, dead, pending}, noted in "effect".
-- A job not terminal is in "pending" (the two are written together), so only a job entering
-- or leaving the live part touches it.
local function record(keys, effect, id, expected, value, member)
  local status, outcome = split(value)
  local recorded = redis.call("HGET", keys[1], id)
  local old, oldOutcome = nil, ""
  if recorded then old, oldOutcome = split(recorded) end
  local allowed = expected == "*" or (expected == "-" and not old) or (old and old == expected)
  if allowed and member ~= "" and positions[status] then placeMember(6, member, positions[status], 0) end
  if not allowed or old == status then return end
  if old then redis.call("HINCRBY", keys[2], old, -1) end
  if oldOutcome ~= "" then redis.call("HINCRBY", keys[2], "outcome:" .. oldOutcome, -1) end
  redis.call("HINCRBY", keys[2], status, 1)
  if outcome ~= "" then redis.call("HINCRBY", keys[2], "outcome:" .. outcome, 1) end
  redis.call("HSET", keys[1], id, value)
  if status == "dead" then redis.call("ZADD", keys[3], now, id) elseif old == "dead" then redis.call("ZREM", keys[3], id) end
  local wasLive = old ~= nil and not terminal[old]
  if terminal[status] then
    if wasLive then redis.call("SREM", keys[4], id) end
  elseif not wasLive then
    redis.call("SADD", keys[4], id)
  end
  effect.changed = effect.changed + 1
  if not wasLive then effect.reopened = true end
  -- A start renews no lease: the job's submission did, and its end will.
  if status ~= "running" or not wasLive then effect.refresh = true end
end
-- Answers the batch's pending count in this queue. A batch is open while it has pending jobs, so
-- it is marked open when a job enters its live part, or reaches an end without passing through
-- it (a repeat found finished): its settling is never lost. A job that leaves the live part
-- leaves the batch open as it found it, for its writer (or the reconciliation) to settle. The
-- keys' lease is renewed with each change but a start.
local function keepOpen(keys, batchId, effect)
  local pending = redis.call("SCARD", keys[4])
  if effect.reopened then redis.call("SADD", KEYS[5], batchId) end
  if effect.refresh then for i = 1, 4 do redis.call("PEXPIRE", keys[i], ttl) end end
  return pending
end
local function recordStatuses(lastArg)
  local own = {KEYS[1], KEYS[2], KEYS[3], KEYS[4]}
  local effect = newEffect()
  local settledOthers = {}
  for i = 7, lastArg, 4 do
    local id = ARGV[i]
    record(own, effect, id, ARGV[i + 1], ARGV[i + 2], ARGV[i + 3])
    if ARGV[4] ~= "" then
      local status = split(ARGV[i + 2])
      for _, other in ipairs(redis.call("SMEMBERS", ARGV[4] .. id)) do
        if other ~= ARGV[1] then
          local keys = {}
          for k, part in ipairs({"jobs:", "counts:", "dead:", "pending:"}) do keys[k] = ARGV[5] .. part .. ARGV[6] .. ":" .. other end
          local theirs = newEffect()
          record(keys, theirs, id, "*", status, "")
          if keepOpen(keys, other, theirs) == 0 then settledOthers[#settledOthers + 1] = other end
        end
      end
    end
  end
  local result = {effect.changed, keepOpen(own, ARGV[1], effect)}
  for _, other in ipairs(settledOthers) do result[#result + 1] = other end
  return result
end
`;
/** How many keys the status script takes: the batch's five, then the queue's job indexes (`indexKeysOf`). */
export const batchStatusKeyCount = 6 + jobStatuses.length;
const setStatusScript = `${placeMemberLua}${batchStatusLua}
return recordStatuses(#ARGV)
`;
// KEYS: pending, open. ARGV: batch id. Closes the batch in this queue only if nothing is
// pending, so a job replayed meanwhile keeps it open.
const closeScript = `
if redis.call("SCARD", KEYS[1]) == 0 then return redis.call("SREM", KEYS[2], ARGV[1]) end
return 0
`;
/** The status script's reply: statuses changed, the batch's pending count, then the other batches it settled. */
type StatusReply = [changed: number, pending: number, ...settledOthers: string[]];
const setStatusCommand = luaCommand<StatusReply>("provisionerBatchStatus", setStatusScript, batchStatusKeyCount);
const closeCommand = luaCommand<number>("provisionerBatchClose", closeScript, 2);

export interface StatusChange {
  id: string;
  status: BatchStatus;
  /** With `succeeded`, in the batch that queued the job: how it ended, counted in `outcomes`. */
  outcome?: SuccessOutcome | undefined;
  /** "*" (default): always; "-": only a job the batch has not recorded yet; a status: only while recorded so. */
  expected?: string;
  /** The job's index member, moved to the status's index with the write (job-index.ts); none by default. */
  member?: string | undefined;
}

/**
 * Records one job's status in its own batch (`batchId`, from its data) and in every other
 * batch that listed it as a repeat of its key, in one script call: what the worker's events,
 * replay and discard call. `member`, the job's index member, moves to the status's index in
 * the same call (job-status.ts). A success's `outcome` counts in its own batch only: the
 * others did not queue it.
 */
export async function setJobBatchStatus(
  queues: QueueSet,
  queueName: string,
  batchId: string,
  id: string,
  status: BatchStatus,
  options: { member?: string | undefined; outcome?: SuccessOutcome | undefined } = {},
): Promise<void> {
  const { args } = jobBatchStatusCall(queues, queueName, batchId, id, status, options);
  await settleAfter(queues, queueName, batchId, await setStatusCommand.run(queues.connection, ...args));
}

/** `setJobBatchStatus` as a call to send with others (redis.ts `sendTogether`): hand its reply to `settleAfter`. */
export function jobBatchStatusCall(
  queues: QueueSet,
  queueName: string,
  batchId: string,
  id: string,
  status: BatchStatus,
  { member, outcome }: { member?: string | undefined; outcome?: SuccessOutcome | undefined } = {},
): RedisCall {
  return setStatusCommand.call(
    queues.connection,
    setStatusArgs(queues, queueName, batchId, [{ id, status, member, outcome }], true),
  );
}

/**
 * Records jobs' statuses in one batch's keys for one queue, in one script call; `withRepeats`
 * records each job's status in the other batches that listed it as a repeat too.
 */
export async function setBatchStatuses(
  queues: QueueSet,
  queueName: string,
  batchId: string,
  changes: readonly StatusChange[],
  { withRepeats = false }: { withRepeats?: boolean } = {},
): Promise<number> {
  if (changes.length === 0) return 0;
  const reply = await setStatusCommand.run(
    queues.connection,
    ...setStatusArgs(queues, queueName, batchId, changes, withRepeats),
  );
  await settleAfter(queues, queueName, batchId, reply);
  return reply[0];
}

/**
 * Settles what a status write left with nothing pending in this queue: the batch written to,
 * and any batch that listed a job as a repeat.
 */
export async function settleAfter(queues: QueueSet, queueName: string, batchId: string, reply: unknown): Promise<void> {
  const [, pending, ...settledOthers] = reply as StatusReply;
  await Promise.all(
    [...(pending === 0 ? [batchId] : []), ...settledOthers].map((settled) => settleBatch(queues, queueName, settled)),
  );
}

/**
 * The status script's keys and arguments (see `setStatusScript`): `batchStatusKeyCount` keys
 * (the batch's, then the queue's job indexes), then the arguments.
 */
export function setStatusArgs(
  queues: QueueSet,
  queueName: string,
  batchId: string,
  changes: readonly StatusChange[],
  withRepeats: boolean,
): (string | number)[] {
  return [
    ...keysOf(queues, queueName, batchId),
    ...indexKeysOf(queues, queueName),
    batchId,
    Date.now(),
    queues.config.retention.deadLetterMs,
    withRepeats ? otherBatchesKey(queues, queueName, "") : "",
    batchKeyPrefix(queues),
    queueName,
    ...changes.flatMap(({ id, status, expected = "*", member = "", outcome }) => [
      id,
      expected,
      status === "succeeded" && outcome !== undefined ? `${status}/${outcome}` : status,
      member,
    ]),
  ];
}

/**
 * Records the jobs a bulk request made or found, with their status at submission: the queues
 * the batch spans first, then each queue's jobs, leaving any job a worker already recorded.
 */
export async function recordBatch(
  queues: QueueSet,
  batchId: string,
  jobs: readonly { id: string; status: BatchStatus; repeat?: boolean }[],
  callbackUrl?: string | undefined,
): Promise<void> {
  if (jobs.length === 0) return;
  const ttl = queues.config.retention.deadLetterMs;
  const byQueue = new Map<string, StatusChange[]>();
  // Per queue, the repeat listings' keys: all carry the queue's hash tag, so one MULTI a queue
  // writes them (one a repeat cost a retried 1,000-job request about 50 ms of API CPU).
  const repeatsByQueue = new Map<string, string[]>();
  for (const { id, status, repeat } of jobs) {
    const name = queues.queueOfJobId(id)?.queue.name;
    if (!name) continue;
    listIn(byQueue, name).push({ id, status, expected: "-" });
    if (repeat) listIn(repeatsByQueue, name).push(otherBatchesKey(queues, name, id));
  }
  const key = spanKey(queues, batchId);
  await queues.connection
    .multi()
    .sadd(key, ...byQueue.keys())
    .pexpire(key, ttl)
    .exec();
  // A repeat's job belongs to the batch that made it (its data says which) and to this one
  // too: listed here, so the worker's events move it in both.
  await Promise.all(
    [...repeatsByQueue.values()].map((keys) => {
      const multi = queues.connection.multi();
      for (const other of keys) multi.sadd(other, batchId).pexpire(other, ttl);
      return multi.exec();
    }),
  );
  await Promise.all([...byQueue].map(([name, changes]) => setBatchStatuses(queues, name, batchId, changes)));
  if (callbackUrl === undefined) return;
  // Written once every queue's jobs are recorded, so no worker can see the batch finished
  // while part of it is still unrecorded; the batch may have finished meanwhile, so look.
  await queues.connection.set(callbackKey(queues, batchId), callbackUrl, "PX", queues.config.retention.deadLetterMs);
  await notifyIfFinished(queues, batchId);
}

/** The list under `key`, made empty on its first use. */
function listIn<T>(lists: Map<string, T[]>, key: string): T[] {
  let list = lists.get(key);
  if (!list) {
    list = [];
    lists.set(key, list);
  }
  return list;
}

/**
 * Run whenever a queue's part of a batch has nothing pending, by whoever recorded that (or
 * by the reconciliation, if that writer died first): queues the `batch.finished` notice if
 * the whole batch is done, then closes the batch in this queue. The notice's id is the
 * batch's, so many writers seeing the end queue it once.
 */
async function settleBatch(queues: QueueSet, queueName: string, batchId: string): Promise<void> {
  await notifyIfFinished(queues, batchId);
  const [, , , pendingKey, openKey] = keysOf(queues, queueName, batchId) as [string, string, string, string, string];
  await closeCommand.run(queues.connection, pendingKey, openKey, batchId);
}

async function notifyIfFinished(queues: QueueSet, batchId: string): Promise<void> {
  const url = await queues.connection.get(callbackKey(queues, batchId));
  if (url === null) return;
  const queueNames = await queues.connection.smembers(spanKey(queues, batchId));
  const pending = await Promise.all(
    queueNames.map((name) => queues.connection.scard(keysOf(queues, name, batchId)[3] as string)),
  );
  if (pending.some((n) => n > 0)) return;
  const batch = await getBatch(queues, batchId, { deadLimit: deadInNotice });
  if (!batch?.finished) return;
  const { id, total, counts, outcomes, dead, deadCursor } = batch;
  await addCallback(queues, batchCallbackId(batchId), url, {
    type: "batch.finished",
    timestamp: new Date().toISOString(),
    data: { id, total, counts, outcomes, dead, deadCursor },
  });
}

const emptyCounts = (): BatchView["counts"] =>
  Object.fromEntries([...jobStatuses, "expired"].map((s) => [s, 0])) as BatchView["counts"];

const outcomeField = "outcome:";

/** The counts of a batch: one HGETALL per queue it spans. */
export async function batchCounts(
  queues: QueueSet,
  batchId: string,
): Promise<
  { queueNames: string[]; counts: BatchView["counts"]; outcomes: BatchView["outcomes"]; total: number } | undefined
> {
  const queueNames = await queues.connection.smembers(spanKey(queues, batchId));
  if (queueNames.length === 0) return undefined;
  const counts = emptyCounts();
  const outcomes: BatchView["outcomes"] = { created: 0, deduplicated: 0 };
  const hashes = await Promise.all(
    queueNames.map((name) => queues.connection.hgetall(keysOf(queues, name, batchId)[1] as string)),
  );
  for (const hash of hashes) {
    for (const [field, n] of Object.entries(hash)) {
      if (field in counts) counts[field as BatchStatus] += Number(n);
      const outcome = field.startsWith(outcomeField) ? field.slice(outcomeField.length) : undefined;
      if (outcome === "created" || outcome === "deduplicated") outcomes[outcome] += Number(n);
    }
  }
  const total = Object.values(counts).reduce((sum, n) => sum + n, 0);
  return { queueNames, counts, outcomes, total };
}

export async function getBatch(
  queues: QueueSet,
  batchId: string,
  page: { deadCursor?: string | undefined; deadLimit?: number | undefined } = {},
): Promise<BatchView | undefined> {
  const summary = await batchCounts(queues, batchId);
  if (!summary) return undefined;
  const { queueNames, counts, outcomes, total } = summary;
  const limit = Math.min(Math.max(page.deadLimit ?? 20, 1), 200);
  const cursor = decodeCursor(page.deadCursor);
  const byKey = new Map(queueNames.map((name) => [keysOf(queues, name, batchId)[2] as string, name]));
  const entries = await pageScored(queues.connection, [...byKey.keys()], cursor, limit + 1);
  const shown = entries.slice(0, limit);
  const owners = shown.map(({ id }) => queues.queueOfJobId(id));
  const deaths = shown.flatMap(({ id }, i) => {
    const owner = owners[i];
    return owner ? [{ id, provider: owner.provider, queue: owner.queue }] : [];
  });
  const reasons = await deathReasons(queues, deaths);
  const dead = deaths.map(({ id }, i) => ({ id, reason: reasons[i]?.message ?? null }));
  const last = shown.at(-1);
  return {
    id: batchId,
    total,
    counts,
    outcomes,
    finished: total > 0 && [...Object.entries(counts)].every(([s, n]) => n === 0 || terminal.has(s as BatchStatus)),
    dead,
    deadCursor: entries.length > limit && last ? encodeCursor(last.score, last.id) : null,
  };
}

/**
 * Brings one queue's open batches to the truth: each pending job's state is read and, if
 * it differs from what was recorded, recorded (compare-and-set). Reads pending jobs in
 * chunks; a job whose retention ended counts as `expired`. Returns how many it changed.
 */
export async function reconcileBatches(queues: QueueSet, queue: Queue, chunk = 500): Promise<number> {
  const [, , , , openKey] = keysOf(queues, queue.name, "");
  let changed = 0;
  for (const batchId of await queues.connection.smembers(openKey as string)) {
    const [jobsKey, , , pendingKey] = keysOf(queues, queue.name, batchId) as [string, string, string, string];
    let cursor = "0";
    do {
      const [next, ids] = await queues.connection.sscan(pendingKey, cursor, "COUNT", chunk);
      cursor = next;
      if (ids.length === 0) continue;
      // The chunk's recorded statuses and true states, two calls whatever its size: a
      // reconciliation runs every few seconds over every pending job of every open batch.
      const [recorded, states] = await Promise.all([
        queues.connection.hmget(jobsKey, ...ids),
        jobStatesOf(queues.connection, queue, ids),
      ]);
      const changes = ids.flatMap((id, i): StatusChange[] => {
        const status: BatchStatus = statusOfState(states[i] ?? "unknown") ?? "expired";
        // The recorded status, without a success's outcome ("succeeded/created").
        const was = recorded[i]?.split("/")[0];
        return was && was !== status ? [{ id, status, expected: was }] : [];
      });
      await Promise.all(
        changes
          .filter((change) => change.status === "succeeded")
          .map(async (change) => {
            change.outcome = await ownOutcome(queues, queue, batchId, change.id);
          }),
      );
      changed += await setBatchStatuses(queues, queue.name, batchId, changes);
    } while (cursor !== "0");
    // Nothing pending (all recorded, or the keys expired): finish what a writer that died may
    // have left undone, and close it.
    if ((await queues.connection.scard(pendingKey)) === 0) await settleBatch(queues, queue.name, batchId);
  }
  return changed;
}

/** How a succeeded job ended, when `batchId` queued it (not when it lists the job as a repeat). */
async function ownOutcome(
  queues: QueueSet,
  queue: Queue,
  batchId: string,
  id: string,
): Promise<SuccessOutcome | undefined> {
  const [repeat, returned] = await Promise.all([
    queues.connection.sismember(otherBatchesKey(queues, queue.name, id), batchId),
    queues.connection.hget(queue.toKey(id), "returnvalue"),
  ]);
  if (repeat === 1 || returned === null) return undefined;
  return outcomeOfResult(JSON.parse(returned));
}

/** The full recount a reconciliation converges to: every recorded job's true status (tests, operations). */
export async function recountBatch(queues: QueueSet, batchId: string): Promise<BatchView["counts"] | undefined> {
  const queueNames = await queues.connection.smembers(spanKey(queues, batchId));
  if (queueNames.length === 0) return undefined;
  const counts = emptyCounts();
  for (const name of queueNames) {
    const queue = queues.accounts.find((entry) => entry.queue.name === name)?.queue;
    const ids = await queues.connection.hkeys(keysOf(queues, name, batchId)[0] as string);
    const states = await Promise.all(ids.map((id) => queue?.getJobState(id) ?? "unknown"));
    for (const state of states) counts[statusOfState(state) ?? "expired"] += 1;
  }
  return counts;
}
