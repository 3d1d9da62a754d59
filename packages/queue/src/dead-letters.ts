import { randomUUID } from "node:crypto";
import type { DeadLetterView } from "@provisioner/api-contract";
import { type ErrorKind, type ProviderName, secretInputFields } from "@provisioner/provider-client";
import type { Job } from "bullmq";
import { queueCallback } from "./callbacks.ts";
import { type AttemptError, type DeadLetter, type JobData, type JobResult, readJobData } from "./job-data.ts";
import { addJobsIndexed, indexMemberOf } from "./job-index.ts";
import type { QueueSet } from "./queues.ts";
import { encryptFields, redactFields } from "./secrets.ts";
import { attemptErrorsOf } from "./status.ts";

/**
 * Parks a job whose failure is final. The entry's id is the job's id, so a second call
 * (the worker died after the first and the job ran again, or the `failed` event and the
 * runner both got there) is a no-op: exactly one entry per dead job.
 */
export async function recordDeadLetter(
  queues: QueueSet,
  job: Job<JobData, JobResult>,
  reason: AttemptError,
): Promise<void> {
  const id = job.id as string;
  const { data } = readJobData(job);
  const errors = await attemptErrorsOf(queues, data.provider, id);
  const last = errors.at(-1);
  // The reason is usually the last logged error already; log it unless it is.
  const history = last && last.at === reason.at && last.message === reason.message ? errors : [...errors, reason];
  const entry: DeadLetter = {
    jobId: id,
    provider: data.provider,
    account: data.account,
    job: data,
    reason,
    errors: history,
    // Parked before BullMQ counts the attempt that died: count it here, as the job view does.
    attemptsMade: Math.max(job.attemptsMade, reason.attempt),
    diedAt: new Date().toISOString(),
  };
  await queues.deadLetters.add(data.provider, entry, {
    jobId: id,
    removeOnComplete: true,
    removeOnFail: true,
  });
  await queueCallback(queues, id, data, { status: "dead", error: reason });
}

/** Whether this life of the job (its generation) has already been parked. */
export async function isDeadLettered(queues: QueueSet, jobId: string, generation: number): Promise<boolean> {
  const entry = await queues.deadLetters.getJob(jobId);
  return entry?.data.job.generation === generation;
}

function toView(entry: DeadLetter): DeadLetterView {
  return {
    id: entry.jobId,
    provider: entry.provider,
    account: entry.account,
    diedAt: entry.diedAt,
    reason: entry.reason,
    errors: entry.errors,
    attemptsMade: entry.attemptsMade,
    request: {
      input: redactFields(entry.job.input, secretInputFields[entry.provider]),
      idempotencyKey: entry.job.idempotencyKey,
      batchId: entry.job.batchId ?? null,
      callbackUrl: entry.job.callbackUrl ?? null,
      metadata: entry.job.metadata ?? null,
      submittedAt: new Date(entry.job.submittedAt).toISOString(),
    },
  };
}

export interface DeadLetterFilter {
  provider?: ProviderName | undefined;
  kind?: ErrorKind | "expired" | undefined;
}

const matches = (entry: DeadLetter, filter: DeadLetterFilter) =>
  (!filter.provider || entry.provider === filter.provider) && (!filter.kind || entry.reason.kind === filter.kind);

// Entries sit in the wait list of a queue no worker consumes, newest last.
async function allEntries(queues: QueueSet): Promise<Job<DeadLetter>[]> {
  return (await queues.deadLetters.getJobs(["waiting"], 0, -1, false)).filter(Boolean) as Job<DeadLetter>[];
}

export async function listDeadLetters(
  queues: QueueSet,
  query: DeadLetterFilter & { offset?: number | undefined; limit?: number | undefined },
): Promise<{ deadLetters: DeadLetterView[]; total: number }> {
  const limit = Math.min(Math.max(query.limit ?? 50, 1), 200);
  const offset = Math.max(query.offset ?? 0, 0);
  const selected = (await allEntries(queues)).filter((job) => matches(job.data, query));
  return { deadLetters: selected.slice(offset, offset + limit).map((job) => toView(job.data)), total: selected.length };
}

export async function getDeadLetter(queues: QueueSet, id: string): Promise<DeadLetterView | undefined> {
  const entry = await queues.deadLetters.getJob(id);
  return entry ? toView(entry.data) : undefined;
}

export class NotDeadError extends Error {
  override name = "NotDeadError";
}

/**
 * Queues a dead job again under the same id and idempotency key, with fresh attempts
 * and a fresh maximum age; `input`, when given, replaces the request body (it must have
 * passed the provider's schema). The old failed job goes first so BullMQ accepts the id;
 * the entry goes last, so a crash in between leaves it replayable rather than lost.
 */
export async function replayDeadLetter(
  queues: QueueSet,
  id: string,
  correction: { input?: Record<string, unknown> | undefined } = {},
): Promise<{ id: string; status: "queued" } | undefined> {
  const entry = (await queues.deadLetters.getJob(id)) as Job<DeadLetter> | undefined;
  if (!entry) return undefined;
  const { provider, job: original } = entry.data;
  const queue = queues.byProvider[provider];
  const previous = await queue.getJob(id);
  if (previous) {
    const state = await previous.getState();
    if (state !== "failed") throw new NotDeadError(`job ${id} is ${state}, not dead`);
    await previous.remove();
  }
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
  // A new life is listed as new: its index member moves to the top in the same step.
  await addJobsIndexed(queues, provider, [{ id, data, replacing: indexMemberOf(original.submittedAt, id) }]);
  await entry.remove();
  return { id, status: "queued" };
}

export async function replayDeadLetters(
  queues: QueueSet,
  filter: DeadLetterFilter,
): Promise<{ replayed: string[]; skipped: string[] }> {
  const replayed: string[] = [];
  const skipped: string[] = [];
  for (const job of await allEntries(queues)) {
    if (!matches(job.data, filter)) continue;
    try {
      if (await replayDeadLetter(queues, job.data.jobId)) replayed.push(job.data.jobId);
    } catch (error) {
      if (!(error instanceof NotDeadError)) throw error;
      skipped.push(job.data.jobId);
    }
  }
  return { replayed, skipped };
}

/**
 * Discards a dead job for good: its failed job, then its entry. The job goes first because
 * a failed job without an entry is exactly what the start-up sweep parks again; an entry
 * left without its job by a crash in between is still listed, and discarding it again
 * finishes the work. A job that is no longer dead (replayed since) is in hand: only the
 * entry goes.
 */
export async function discardDeadLetter(queues: QueueSet, id: string): Promise<boolean> {
  const entry = (await queues.deadLetters.getJob(id)) as Job<DeadLetter> | undefined;
  if (!entry) return false;
  const job = await queues.byProvider[entry.data.provider].getJob(id);
  if (job && (await job.getState()) === "failed") await job.remove();
  await entry.remove();
  return true;
}

/** Drops entries older than the dead-letter retention. */
export async function pruneDeadLetters(queues: QueueSet): Promise<number> {
  const removed = await queues.deadLetters.clean(queues.config.retention.deadLetterMs, 1_000, "wait");
  return removed.length;
}
