import { randomUUID } from "node:crypto";
import type { DeadLetterView } from "@provisioner/api-contract";
import {
  classifyJobFault,
  type FailureKind,
  type ProviderName,
  providerNames,
  secretInputFields,
} from "@provisioner/provider-client";
import type { Job, Queue } from "bullmq";
import { setJobBatchStatus } from "./batches.ts";
import { deadKindKeyOf, pruneDeathIndex, unindexDeath } from "./dead-index.ts";
import {
  type AttemptError,
  attemptErrorSchema,
  attemptRecordOf,
  type JobData,
  readJobData,
  storedJobData,
} from "./job-data.ts";
import { indexKeysOf, indexMemberOf, placeMemberLua, placeMembers, statusPosition } from "./job-index.ts";
import type { AccountQueue, QueueSet } from "./queues.ts";
import { decodeCursor, encodeCursor, pageScored } from "./scored-page.ts";
import { encryptFields, redactFields } from "./secrets.ts";
import { attemptErrorsOf } from "./status.ts";

// The dead letters ARE the account queues' failed jobs. A job is dead when BullMQ moves it
// to its queue's `failed` set (an UnrecoverableError, its attempts spent, or BullMQ's own
// stalled limit), atomically in BullMQ's own script: there is no second record that could
// be written twice, or be missed by a crash between two writes, so nothing else decides or
// records a death. This file only reads, replays and discards those failed jobs; the
// failed set's score (finishedOn) orders them, newest first.

export interface DeadLetterFilter {
  provider?: ProviderName | undefined;
  kind?: FailureKind | undefined;
}

interface Death {
  id: string;
  provider: ProviderName;
  queue: Queue;
}

/** What a failed job's hash says about its end. */
interface FailedFields {
  failedReason: string;
  stalledCounter: number;
  attemptsMade: number;
  finishedOn: number;
}

/**
 * Why a job died: the last attempt the runner logged, when BullMQ failed the job with that
 * attempt's error; otherwise BullMQ failed it on its own (stalled past its limit) or an
 * error outside the provider call ended the last attempt, and the classifier reads BullMQ's
 * `failedReason`.
 */
function reasonOf(provider: ProviderName, job: FailedFields, lastLogged: AttemptError | undefined): AttemptError {
  if (lastLogged && lastLogged.message === job.failedReason) return lastLogged;
  const { failedReason } = job;
  const fault =
    job.stalledCounter > 0
      ? { fault: "stalled" as const, failedReason }
      : { fault: "unexplained" as const, failedReason };
  return attemptRecordOf(classifyJobFault(provider, fault), job.attemptsMade, new Date(job.finishedOn));
}

function parseAttempt(line: string | undefined): AttemptError | undefined {
  if (line === undefined) return undefined;
  try {
    const parsed = attemptErrorSchema.safeParse(JSON.parse(line));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}

/** The reason of each dead job, read all at once; undefined for one that is not failed (any more). */
export async function deathReasons(queues: QueueSet, deaths: readonly Death[]): Promise<(AttemptError | undefined)[]> {
  if (deaths.length === 0) return [];
  // A pipeline per job: its two keys share its queue's slot.
  const replies = await Promise.all(
    deaths.map(async ({ id, queue }) => {
      const key = queue.toKey(id);
      const pipeline = queues.connection.pipeline();
      pipeline.hmget(key, "failedReason", "stc", "atm", "finishedOn").lrange(`${key}:logs`, -1, -1);
      return (await pipeline.exec()) ?? [];
    }),
  );
  return deaths.map(({ provider }, index) => {
    const [fieldsError, fields] = replies[index]?.[0] ?? [];
    const [logsError, lines] = replies[index]?.[1] ?? [];
    if (fieldsError) throw fieldsError;
    if (logsError) throw logsError;
    const [failedReason, stc, atm, finishedOn] = fields as (string | null)[];
    if (failedReason === null || failedReason === undefined || !finishedOn) return undefined;
    const failed = {
      failedReason,
      stalledCounter: Number(stc ?? 0),
      attemptsMade: Number(atm ?? 0),
      finishedOn: Number(finishedOn),
    };
    return reasonOf(provider, failed, parseAttempt((lines as string[] | undefined)?.[0]));
  });
}

async function toView(queue: Queue, job: Job<JobData>): Promise<DeadLetterView> {
  const { data } = readJobData(job);
  const id = job.id as string;
  const errors = await attemptErrorsOf(queue, id);
  const finishedOn = job.finishedOn ?? Date.now();
  const failed = {
    failedReason: job.failedReason ?? "",
    stalledCounter: job.stalledCounter,
    attemptsMade: job.attemptsMade,
    finishedOn,
  };
  const reason = reasonOf(data.provider, failed, errors.at(-1));
  return {
    id,
    provider: data.provider,
    account: data.account,
    lane: data.lane,
    diedAt: new Date(finishedOn).toISOString(),
    reason,
    // BullMQ's own reason is not in the log: show it as the last error.
    errors: errors.at(-1) === reason ? errors : [...errors, reason],
    attemptsMade: job.attemptsMade,
    request: {
      input: redactFields(data.input, secretInputFields[data.provider]),
      idempotencyKey: data.idempotencyKey,
      batchId: data.batchId ?? null,
      callbackUrl: data.callbackUrl ?? null,
      metadata: data.metadata ?? null,
      submittedAt: new Date(data.submittedAt).toISOString(),
    },
  };
}

interface DeathEntry extends Death {
  diedAt: number;
}

/**
 * Up to `count` dead jobs after `cursor`, newest first, across the filter's queues: the
 * failed sets when no kind is asked for, else that kind's index (dead-index.ts). One ZCOUNT
 * and one ZREVRANGEBYSCORE per queue, whatever the queues hold.
 */
async function pageDeaths(
  queues: QueueSet,
  filter: DeadLetterFilter,
  cursor: string | undefined,
  count: number,
): Promise<DeathEntry[]> {
  const accounts = queues.accountsOf(filter.provider);
  const byKey = new Map<string, AccountQueue>(
    accounts.map((account) => [
      filter.kind ? deadKindKeyOf(queues, account.queue, filter.kind) : account.queue.toKey("failed"),
      account,
    ]),
  );
  const entries = await pageScored(queues.connection, [...byKey.keys()], decodeCursor(cursor), count);
  return entries.map(({ key, id, score }) => {
    const { provider, queue } = byKey.get(key) as AccountQueue;
    return { id, provider, queue, diedAt: score };
  });
}

/**
 * A page of dead letters, newest first, with the cursor of the next (null on the last).
 * Index entries whose job is no longer failed, or (a stale kind entry) died of another
 * kind, are pruned as they are met, so a page may hold fewer than `limit`.
 */
export async function listDeadLetters(
  queues: QueueSet,
  query: DeadLetterFilter & { cursor?: string | undefined; limit?: number | undefined },
): Promise<{ deadLetters: DeadLetterView[]; nextCursor: string | null; total: number }> {
  const limit = Math.min(Math.max(query.limit ?? 50, 1), 200);
  const [entries, total] = await Promise.all([
    pageDeaths(queues, query, query.cursor, limit + 1),
    countDead(queues, query),
  ]);
  const page = entries.slice(0, limit);
  const jobs = await Promise.all(page.map(({ id, queue }) => queue.getJob(id)));
  const states = await Promise.all(jobs.map((job) => (job ? job.getState() : "unknown")));
  const views = await Promise.all(
    page.map((entry, index) => {
      const job = jobs[index];
      return job && states[index] === "failed" ? toView(entry.queue, job) : undefined;
    }),
  );
  const kind = query.kind;
  if (kind) {
    const stale = page.filter((_, index) => views[index]?.reason.kind !== kind);
    await pruneDeathIndex(
      queues,
      stale.map(({ queue, id }) => ({ queue, id, kind })),
    );
  }
  const deadLetters = views.filter(
    (view): view is DeadLetterView => view !== undefined && (!kind || view.reason.kind === kind),
  );
  const last = page.at(-1);
  return {
    deadLetters,
    nextCursor: entries.length > limit && last ? encodeCursor(last.diedAt, last.id) : null,
    total,
  };
}

/** One ZCARD per queue: the failed sets' sizes, or the kind index's (entries not yet pruned included). */
async function countDead(queues: QueueSet, filter: DeadLetterFilter): Promise<number> {
  const { kind } = filter;
  const sizes = await Promise.all(
    queues
      .accountsOf(filter.provider)
      .map(({ queue }) => queues.connection.zcard(kind ? deadKindKeyOf(queues, queue, kind) : queue.toKey("failed"))),
  );
  return sizes.reduce((sum, n) => sum + n, 0);
}

/** How many dead letters each provider holds: its accounts' failed sets' sizes, one ZCARD each. */
export async function deadLetterCounts(queues: QueueSet): Promise<Record<ProviderName, number>> {
  const counts = Object.fromEntries(providerNames.map((provider) => [provider, 0])) as Record<ProviderName, number>;
  const sizes = await Promise.all(queues.accounts.map(({ queue }) => queues.connection.zcard(queue.toKey("failed"))));
  queues.accounts.forEach(({ provider }, index) => {
    counts[provider] += sizes[index] ?? 0;
  });
  return counts;
}

/** The failed job `id`, or undefined when there is none (unknown, discarded, or not dead). */
async function deadJob(queues: QueueSet, id: string): Promise<{ job: Job<JobData>; queue: Queue } | undefined> {
  const queue = queues.queueOfJobId(id)?.queue;
  const job = await queue?.getJob(id);
  return queue && job && (await job.getState()) === "failed" ? { job, queue } : undefined;
}

export async function getDeadLetter(queues: QueueSet, id: string): Promise<DeadLetterView | undefined> {
  const dead = await deadJob(queues, id);
  return dead ? toView(dead.queue, dead.job) : undefined;
}

export class NotDeadError extends Error {
  override name = "NotDeadError";
}

// The new life's data, a cleared log and progress, and the index member moved to the top
// (the earlier life's member dropped from every index, the new one, whose life the data now
// is, in the `queued` index), only while the job is still failed. KEYS: failed set, job,
// job's log, then the queue's job indexes (indexKeysOf), all in the queue's slot.
// ARGV: job id, data, the old life's index member, the new one's.
const newLifeScript = `${placeMemberLua}
if not redis.call("ZSCORE", KEYS[1], ARGV[1]) then return 0 end
redis.call("HSET", KEYS[2], "data", ARGV[2])
redis.call("HDEL", KEYS[2], "progress", "stc")
redis.call("DEL", KEYS[3])
placeMember(4, ARGV[3], 0, 0)
placeMember(4, ARGV[4], ${statusPosition("queued")}, 0)
return 1
`;

/**
 * Queues a dead job again under the same id and idempotency key, with fresh attempts and a
 * fresh maximum age; `input`, when given, replaces the request body (it must have passed
 * the provider's schema). Two steps, each atomic and each only while the job is still
 * failed: the new life is written into the failed job, then BullMQ's own `retry` moves it
 * back to waiting. A crash between them leaves a dead job that replays again.
 */
export async function replayDeadLetter(
  queues: QueueSet,
  id: string,
  correction: { input?: Record<string, unknown> | undefined } = {},
): Promise<{ id: string; status: "queued" } | undefined> {
  const owner = queues.queueOfJobId(id);
  const job = await owner?.queue.getJob(id);
  if (!owner || !job) return undefined;
  const { provider, queue } = owner;
  const state = await job.getState();
  if (state !== "failed") throw new NotDeadError(`job ${id} is ${state}, not dead`);
  const { data: original } = readJobData(job);
  const input = correction.input
    ? encryptFields(queues.keyring, correction.input, secretInputFields[provider])
    : original.input;
  const data: JobData = {
    ...original,
    input,
    submissionId: randomUUID(),
    submittedAt: Date.now(),
    generation: original.generation + 1,
  };
  if (correction.input) data.providerKey = `${id}.${data.generation}`;
  const jobKey = queue.toKey(id);
  const indexKeys = indexKeysOf(queues, queue.name);
  const written = await queues.connection.eval(
    newLifeScript,
    3 + indexKeys.length,
    queue.toKey("failed"),
    jobKey,
    `${jobKey}:logs`,
    ...indexKeys,
    id,
    JSON.stringify(storedJobData(data)),
    indexMemberOf(original.submittedAt, id),
    indexMemberOf(data.submittedAt, id),
  );
  try {
    if (written !== 1) throw new Error("not failed");
    await job.retry("failed", { resetAttemptsMade: true, resetAttemptsStarted: true });
  } catch (error) {
    const now = await queue.getJobState(id);
    if (now === "failed") throw error;
    throw new NotDeadError(`job ${id} is ${now}, not dead`);
  }
  await unindexDeath(queues, queue, id);
  if (data.batchId !== undefined) await setJobBatchStatus(queues, queue.name, data.batchId, id, "queued");
  return { id, status: "queued" };
}

/**
 * Replays every dead letter that matches, a page of `chunk` at a time (each replayed job
 * leaves the failed set, so every page is read from the top); one that is no longer dead
 * when reached is skipped. `onProgress` hears the running totals after each page. With
 * `limit`, it stops after that many entries and returns `nextCursor` to go on from (null
 * once every matching entry was reached), so a caller can replay tens of thousands in
 * calls of a bounded size and report progress between them.
 */
export async function replayDeadLetters(
  queues: QueueSet,
  filter: DeadLetterFilter,
  options: {
    chunk?: number;
    limit?: number | undefined;
    cursor?: string | undefined;
    onProgress?: (progress: { replayed: number; skipped: number }) => void;
  } = {},
): Promise<{ replayed: string[]; skipped: string[]; nextCursor: string | null }> {
  const replayed: string[] = [];
  const skipped: string[] = [];
  const chunk = options.chunk ?? 100;
  let cursor = options.cursor;
  for (;;) {
    const left = options.limit === undefined ? chunk : options.limit - replayed.length - skipped.length;
    if (left <= 0) return { replayed, skipped, nextCursor: cursor ?? null };
    const page = await pageDeaths(queues, filter, cursor, Math.min(chunk, left));
    if (page.length === 0) break;
    for (const { id, queue } of page) {
      try {
        if (await replayDeadLetter(queues, id)) replayed.push(id);
        else skipped.push(id);
      } catch (error) {
        if (!(error instanceof NotDeadError)) throw error;
        skipped.push(id);
        // Not dead (any more): its kind entry is stale.
        await unindexDeath(queues, queue, id);
      }
    }
    const last = page.at(-1) as DeathEntry;
    // Skipped entries stay in the failed set (none) or were unindexed; the cursor moves past them anyway.
    cursor = encodeCursor(last.diedAt, last.id);
    options.onProgress?.({ replayed: replayed.length, skipped: skipped.length });
  }
  return { replayed, skipped, nextCursor: null };
}

/** Discards a dead job for good: BullMQ removes the failed job, and nothing else holds it. */
export async function discardDeadLetter(queues: QueueSet, id: string): Promise<boolean> {
  const dead = await deadJob(queues, id);
  if (!dead) return false;
  await dead.job.remove();
  const { batchId, submittedAt } = readJobData(dead.job).data;
  await Promise.all([
    unindexDeath(queues, dead.queue, id),
    placeMembers(queues, dead.queue.name, [{ member: indexMemberOf(submittedAt, id), status: undefined }]),
  ]);
  if (batchId !== undefined) await setJobBatchStatus(queues, dead.queue.name, batchId, id, "expired");
  return true;
}

/** Removes failed jobs older than the dead-letter retention (BullMQ's `removeOnFail` does too, as jobs fail). */
export async function pruneDeadLetters(queues: QueueSet): Promise<number> {
  const removed = await Promise.all(
    queues.accounts.map(({ queue }) => queue.clean(queues.config.retention.deadLetterMs, 1_000, "failed")),
  );
  return removed.reduce((sum, ids) => sum + ids.length, 0);
}
