import type { BatchEvent, CallbackEvent, JobEnding } from "./callback-job.ts";
import type { JobData } from "./job-data.ts";
import type { QueueSet } from "./queues.ts";

/**
 * Queues the notice of a job's end when the job asked for one. The notice's id is the
 * job's id and generation, so a job that ends twice in one life (a worker died after
 * queueing it) sends one notice, and that id is the `webhook-id` receivers dedupe on.
 */
export async function queueCallback(queues: QueueSet, jobId: string, job: JobData, ending: JobEnding): Promise<void> {
  if (!job.callbackUrl) return;
  const event: CallbackEvent = {
    type: ending.status === "succeeded" ? "job.succeeded" : "job.dead",
    timestamp: new Date().toISOString(),
    data: {
      id: jobId,
      provider: job.provider,
      account: job.account,
      idempotencyKey: job.idempotencyKey,
      ...ending,
      ...(job.batchId === undefined ? {} : { batchId: job.batchId }),
      ...(job.metadata === undefined ? {} : { metadata: job.metadata }),
    },
  };
  await addCallback(queues, `${jobId}-g${job.generation}`, job.callbackUrl, event);
}

/**
 * Queues one notice under a deterministic id: BullMQ refuses a second job with the same id,
 * so however many processes queue the same notice, it is sent once.
 */
export async function addCallback(
  queues: QueueSet,
  id: string,
  url: string,
  event: CallbackEvent | BatchEvent,
): Promise<void> {
  const retentionSeconds = Math.ceil(queues.config.retention.deadLetterMs / 1000);
  await queues.callbacks.add(
    "callback",
    { url, event },
    {
      jobId: id,
      // By default about a day of tries: 1 s, 2 s, 4 s … (CALLBACK_MAX_ATTEMPTS, CALLBACK_BACKOFF_BASE_MS).
      attempts: queues.config.callbacks.maxAttempts,
      backoff: { type: "exponential", delay: queues.config.callbacks.backoffBaseMs },
      removeOnComplete: { age: retentionSeconds },
      removeOnFail: { age: retentionSeconds },
    },
  );
}
