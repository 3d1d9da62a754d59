import { type AttemptError, isDeadLettered, type QueueSet, recordDeadLetter } from "@provisioner/queue";
import type { Job, Worker } from "bullmq";
import type { Logger } from "pino";
import type { JobData, JobResult } from "./jobs/create-database/definition.ts";

/**
 * The runner parks a job before it fails it, but BullMQ can also fail a job on its own
 * (one that stalled more often than `maxStalledCount`). BullMQ's `failed` event fires on
 * every failed attempt, so only a job whose state is now `failed` is final; parking is
 * idempotent, so a job the runner already parked is left alone.
 */
export function parkFinalFailures(worker: Worker<JobData, JobResult>, queues: QueueSet, logger: Logger): void {
  worker.on("failed", (job, error) => {
    if (!job) return;
    parkIfFinal(queues, job, error).catch((failure: unknown) =>
      logger.error(
        { jobId: job.id, err: { message: (failure as Error).message } },
        "could not park a dead job; the start-up sweep will",
      ),
    );
  });
}

// The entry is looked for before the state: a discard removes the job first and the entry
// last, so a job seen failed after its entry was seen missing has not been discarded since.
async function parkIfFinal(queues: QueueSet, job: Job<JobData, JobResult>, error: Error): Promise<void> {
  if (await isDeadLettered(queues, job.id as string, job.data.generation ?? 0)) return;
  if ((await job.getState()) !== "failed") return;
  await recordDeadLetter(queues, job, reasonOf(job, error));
}

function reasonOf(job: Job<JobData, JobResult>, error: Error): AttemptError {
  const stalled = /stalled/i.test(error.message);
  return {
    at: new Date().toISOString(),
    attempt: job.attemptsMade,
    kind: "unknown",
    retryable: false,
    code: stalled ? "STALLED" : "FAILED",
    message: error.message,
  };
}

/** Parks failed jobs that have no dead letter yet (the process died between the two). */
export async function sweepUnparked(
  queues: QueueSet,
  provider: keyof QueueSet["byProvider"],
  logger: Logger,
): Promise<number> {
  const failed = (await queues.byProvider[provider].getFailed(0, 999)) as Job<JobData, JobResult>[];
  let parked = 0;
  for (const job of failed) {
    if (!job || (await queues.deadLetters.getJob(job.id as string))) continue;
    // The list is a snapshot: a job discarded since it was read is gone, and stays gone.
    if ((await job.getState()) !== "failed") continue;
    await recordDeadLetter(queues, job, reasonOf(job, new Error(job.failedReason || "failed")));
    parked += 1;
  }
  if (parked > 0) logger.warn({ provider, parked }, "parked failed jobs that had no dead letter");
  return parked;
}
