import { type BatchView, type JobStatus, jobStatuses } from "@provisioner/api-contract";
import type { Queue } from "bullmq";
import { addCallback } from "./callbacks.ts";
import { deathReasons } from "./failed-jobs.ts";
import type { QueueSet } from "./queues.ts";
import type { RedisConnection } from "./redis.ts";
import { decodeCursor, encodeCursor, pageScored } from "./scored-page.ts";
import { statusOfState } from "./status.ts";

// A batch's counts are kept, not recomputed. A batch spans account queues, and nothing is
// atomic across queues on a cluster, so its state is kept per (batch, queue), each key
// carrying the queue's hash tag (its name, `{provider.account}`):
//   batch-jobs:{q}:<batch>     hash   job id → the status last recorded for it
//   batch-counts:{q}:<batch>   hash   status → how many of the batch's jobs in q have it;
//                                     and `adopted` → how many succeeded by adopting a database
//                                     the provider already had (outcome `deduplicated`)
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
const keysOf = (queues: QueueSet, queueName: string, batchId: string) => {
  const base = `${queues.config.prefix}:batch-`;
  return [
    `${base}jobs:${queueName}:${batchId}`,
    `${base}counts:${queueName}:${batchId}`,
    `${base}dead:${queueName}:${batchId}`,
    `${base}pending:${queueName}:${batchId}`,
    `${base}open:${queueName}`,
  ];
};

// KEYS: jobs, counts, dead, pending, open, and the job's other batches (`batch-of`, answered
// with the counts so the worker needs no look-up of its own; a key with no id when several
// jobs are written). ARGV: batch id, now, ttl ms, then quadruples of
// (job id, expected, status, adopted): expected "*" sets always, "-" only a job not yet
// recorded, anything else only while that is the recorded status (compare-and-set);
// adopted "1" counts a success that adopted an existing database.
const setStatusScript = `
local changed = 0
for i = 4, #ARGV, 4 do
  local id, expected, status = ARGV[i], ARGV[i + 1], ARGV[i + 2]
  local old = redis.call("HGET", KEYS[1], id)
  local allowed = expected == "*" or (expected == "-" and not old) or (old and old == expected)
  if allowed and old ~= status then
    if old then redis.call("HINCRBY", KEYS[2], old, -1) end
    redis.call("HINCRBY", KEYS[2], status, 1)
    if ARGV[i + 3] == "1" then redis.call("HINCRBY", KEYS[2], "adopted", 1) end
    redis.call("HSET", KEYS[1], id, status)
    if status == "dead" then redis.call("ZADD", KEYS[3], ARGV[2], id) elseif old == "dead" then redis.call("ZREM", KEYS[3], id) end
    if status == "succeeded" or status == "dead" or status == "expired" then
      redis.call("SREM", KEYS[4], id)
    else
      redis.call("SADD", KEYS[4], id)
    end
    changed = changed + 1
  end
end
local pending = redis.call("SCARD", KEYS[4])
if pending > 0 or changed > 0 then redis.call("SADD", KEYS[5], ARGV[1]) end
for i = 1, 4 do redis.call("PEXPIRE", KEYS[i], ARGV[3]) end
return {changed, pending, redis.call("SMEMBERS", KEYS[6])}
`;
// KEYS: pending, open. ARGV: batch id. Closes the batch in this queue only if nothing is
// pending, so a job replayed meanwhile keeps it open.
const closeScript = `
if redis.call("SCARD", KEYS[1]) == 0 then return redis.call("SREM", KEYS[2], ARGV[1]) end
return 0
`;
const closeCommand = "provisionerBatchClose";
const setStatusCommand = "provisionerBatchStatus";
type WithSetStatus = RedisConnection & {
  [setStatusCommand](...args: (string | number)[]): Promise<[number, number, string[]]>;
  [closeCommand](pendingKey: string, openKey: string, batchId: string): Promise<number>;
};
const taught = new WeakSet<RedisConnection>();
function commandOf(connection: RedisConnection): WithSetStatus {
  if (!taught.has(connection)) {
    connection.defineCommand(setStatusCommand, { numberOfKeys: 6, lua: setStatusScript });
    connection.defineCommand(closeCommand, { numberOfKeys: 2, lua: closeScript });
    taught.add(connection);
  }
  return connection as WithSetStatus;
}

export interface StatusChange {
  id: string;
  status: BatchStatus;
  /** "*" (default): always; "-": only a job the batch has not recorded yet; a status: only while recorded so. */
  expected?: string;
  /** A success that adopted a database the provider already had (its outcome is `deduplicated`). */
  adopted?: boolean;
}

/**
 * Records one job's status in its own batch (`batchId`, from its data) and in every other
 * batch that listed it as a repeat of its key: what the worker's events, replay and discard
 * call. The first write answers with the others (one command a status change, not two).
 */
export async function setJobBatchStatus(
  queues: QueueSet,
  queueName: string,
  batchId: string,
  id: string,
  status: BatchStatus,
  adopted = false,
): Promise<void> {
  const change = { id, status, adopted };
  const { others } = await writeStatuses(queues, queueName, batchId, [change], otherBatchesKey(queues, queueName, id));
  await Promise.all(
    others.filter((other) => other !== batchId).map((other) => setBatchStatuses(queues, queueName, other, [change])),
  );
}

/** Records jobs' statuses in one batch's keys for one queue, in one script call. */
export async function setBatchStatuses(
  queues: QueueSet,
  queueName: string,
  batchId: string,
  changes: readonly StatusChange[],
): Promise<number> {
  if (changes.length === 0) return 0;
  // A key with no job id: a write of many jobs looks up no other batches.
  return (await writeStatuses(queues, queueName, batchId, changes, otherBatchesKey(queues, queueName, ""))).changed;
}

async function writeStatuses(
  queues: QueueSet,
  queueName: string,
  batchId: string,
  changes: readonly StatusChange[],
  othersKey: string,
): Promise<{ changed: number; others: string[] }> {
  const args = changes.flatMap(({ id, status, expected = "*", adopted = false }) => [
    id,
    expected,
    status,
    adopted ? "1" : "0",
  ]);
  const [changed, pending, others] = await commandOf(queues.connection)[setStatusCommand](
    ...keysOf(queues, queueName, batchId),
    othersKey,
    batchId,
    Date.now(),
    queues.config.retention.deadLetterMs,
    ...args,
  );
  if (pending === 0) await settleBatch(queues, queueName, batchId);
  return { changed, others };
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
  const repeats: string[] = [];
  for (const { id, status, repeat } of jobs) {
    const name = queues.queueOfJobId(id)?.queue.name;
    if (!name) continue;
    byQueue.set(name, [...(byQueue.get(name) ?? []), { id, status, expected: "-" }]);
    if (repeat) repeats.push(otherBatchesKey(queues, name, id));
  }
  const key = spanKey(queues, batchId);
  await queues.connection
    .multi()
    .sadd(key, ...byQueue.keys())
    .pexpire(key, ttl)
    .exec();
  // A repeat's job belongs to the batch that made it (its data says which) and to this one
  // too: listed here, so the worker's events move it in both.
  await Promise.all(repeats.map((other) => queues.connection.multi().sadd(other, batchId).pexpire(other, ttl).exec()));
  await Promise.all([...byQueue].map(([name, changes]) => setBatchStatuses(queues, name, batchId, changes)));
  if (callbackUrl === undefined) return;
  // Written once every queue's jobs are recorded, so no worker can see the batch finished
  // while part of it is still unrecorded; the batch may have finished meanwhile, so look.
  await queues.connection.set(callbackKey(queues, batchId), callbackUrl, "PX", queues.config.retention.deadLetterMs);
  await notifyIfFinished(queues, batchId);
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
  await commandOf(queues.connection)[closeCommand](pendingKey, openKey, batchId);
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
  const { id, total, counts, dead, deadCursor } = batch;
  await addCallback(queues, batchCallbackId(batchId), url, {
    type: "batch.finished",
    timestamp: new Date().toISOString(),
    data: { id, total, counts, dead, deadCursor },
  });
}

const emptyCounts = (): BatchView["counts"] =>
  Object.fromEntries([...jobStatuses, "expired"].map((s) => [s, 0])) as BatchView["counts"];

/** The counts of a batch: one HGETALL per queue it spans. */
export async function batchCounts(
  queues: QueueSet,
  batchId: string,
): Promise<{ queueNames: string[]; counts: BatchView["counts"]; total: number; adopted: number } | undefined> {
  const queueNames = await queues.connection.smembers(spanKey(queues, batchId));
  if (queueNames.length === 0) return undefined;
  const counts = emptyCounts();
  let adopted = 0;
  const hashes = await Promise.all(
    queueNames.map((name) => queues.connection.hgetall(keysOf(queues, name, batchId)[1] as string)),
  );
  for (const hash of hashes) {
    for (const [status, n] of Object.entries(hash)) {
      if (status in counts) counts[status as BatchStatus] += Number(n);
    }
    adopted += Number(hash.adopted ?? 0);
  }
  const total = Object.values(counts).reduce((sum, n) => sum + n, 0);
  return { queueNames, counts, total, adopted };
}

export async function getBatch(
  queues: QueueSet,
  batchId: string,
  page: { deadCursor?: string | undefined; deadLimit?: number | undefined } = {},
): Promise<BatchView | undefined> {
  const summary = await batchCounts(queues, batchId);
  if (!summary) return undefined;
  const { queueNames, counts, total, adopted } = summary;
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
    adopted,
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
      const recorded = await queues.connection.hmget(jobsKey, ...ids);
      const states = await Promise.all(ids.map((id) => queue.getJobState(id)));
      const changes = ids.flatMap((id, i): StatusChange[] => {
        const status: BatchStatus = statusOfState(states[i] ?? "unknown") ?? "expired";
        const was = recorded[i];
        // Waiting and running differ only in BullMQ's lists; only a move the events can miss matters here.
        return was && was !== status ? [{ id, status, expected: was }] : [];
      });
      // A success whose event was missed: its return value says whether it adopted (rare: read one by one).
      for (const change of changes.filter((c) => c.status === "succeeded")) {
        change.adopted = await adoptedByJob(queues, queue, change.id);
      }
      changed += await setBatchStatuses(queues, queue.name, batchId, changes);
    } while (cursor !== "0");
    // Nothing pending (all recorded, or the keys expired): finish what a writer that died may
    // have left undone, and close it.
    if ((await queues.connection.scard(pendingKey)) === 0) await settleBatch(queues, queue.name, batchId);
  }
  return changed;
}

async function adoptedByJob(queues: QueueSet, queue: Queue, id: string): Promise<boolean> {
  const returned = await queues.connection.hget(queue.toKey(id), "returnvalue");
  try {
    return (JSON.parse(returned ?? "null") as { outcome?: unknown } | null)?.outcome === "deduplicated";
  } catch {
    return false;
  }
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
