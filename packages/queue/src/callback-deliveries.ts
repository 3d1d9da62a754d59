import type {
  CallbackDeliveryList,
  CallbackDeliveryView,
  ListCallbackDeliveriesQuery,
} from "@provisioner/api-contract";
import type { Job } from "bullmq";
import { type CallbackJob, callbackJobSchema } from "./callback-job.ts";
import type { QueueSet } from "./queues.ts";
import { InvalidCursorError } from "./status.ts";

// The failed deliveries ARE the callback queue's failed jobs, as the dead letters are the
// provider queues': BullMQ moves a notice there when its tries run out or the receiver
// refuses it. This file reads them, newest first by the failed set's score (finishedOn),
// and retries them.

/** The receiver's address as it may be shown: no credentials, query or fragment. */
export function shownUrl(url: string): string {
  try {
    const parsed = new URL(url);
    return `${parsed.protocol}//${parsed.host}${parsed.pathname}`;
  } catch {
    return "[invalid url]";
  }
}

function toView(job: Job<CallbackJob>, state: string): CallbackDeliveryView {
  const parsed = callbackJobSchema.safeParse(job.data);
  const status = state === "failed" ? "failed" : state === "completed" ? "delivered" : "pending";
  return {
    id: job.id as string,
    jobId: parsed.success ? parsed.data.event.data.id : "",
    event: parsed.success ? parsed.data.event.type : "job.dead",
    url: parsed.success ? shownUrl(parsed.data.url) : "[invalid]",
    status,
    attemptsMade: job.attemptsMade,
    maxAttempts: job.opts.attempts ?? 1,
    lastError: job.failedReason || null,
    createdAt: new Date(job.timestamp).toISOString(),
    failedAt: status === "failed" && job.finishedOn ? new Date(job.finishedOn).toISOString() : null,
  };
}

export async function getCallbackDelivery(queues: QueueSet, id: string): Promise<CallbackDeliveryView | undefined> {
  // The state first: a job read after it is at least as new, so a failed one shows its failure.
  const state = await queues.callbacks.getJobState(id);
  const job = await queues.callbacks.getJob(id);
  if (!job || state === "unknown") return undefined;
  return toView(job, state);
}

const encodeCursor = (score: number, id: string) =>
  Buffer.from(JSON.stringify({ score, id }), "utf8").toString("base64url");

function decodeCursor(cursor: string | undefined): { score: number; id: string } | undefined {
  if (!cursor) return undefined;
  try {
    const { score, id } = JSON.parse(Buffer.from(cursor, "base64url").toString("utf8")) as Record<string, unknown>;
    if (typeof score === "number" && Number.isFinite(score) && typeof id === "string") return { score, id };
  } catch {}
  throw new InvalidCursorError();
}

/**
 * Failed deliveries, newest first; ties (one millisecond) by id, descending. The cursor is
 * the last entry's score and id, so a page costs O(log n + limit) (plus the entries that
 * share the cursor's millisecond), and a walk lists each retained failure once.
 */
export async function listFailedCallbackDeliveries(
  queues: QueueSet,
  query: Omit<ListCallbackDeliveriesQuery, "status">,
): Promise<CallbackDeliveryList> {
  const limit = query.limit ?? 50;
  const after = decodeCursor(query.cursor);
  const key = queues.callbacks.toKey("failed");
  const redis = queues.connection;
  const picked: { id: string; score: number }[] = [];
  if (after) {
    const tied = await redis.zrangebyscore(key, after.score, after.score);
    for (const id of tied
      .filter((member) => member < after.id)
      .sort()
      .reverse()
      .slice(0, limit)) {
      picked.push({ id, score: after.score });
    }
  }
  if (picked.length < limit) {
    const max = after ? `(${after.score}` : "+inf";
    const reply = await redis.zrevrangebyscore(key, max, "-inf", "WITHSCORES", "LIMIT", 0, limit - picked.length);
    for (let i = 0; i < reply.length; i += 2) picked.push({ id: reply[i] as string, score: Number(reply[i + 1]) });
  }
  const jobs = await Promise.all(picked.map(({ id }) => queues.callbacks.getJob(id)));
  const deliveries = jobs.flatMap((job) => (job ? [toView(job, "failed")] : []));
  const last = picked.at(-1);
  return { deliveries, nextCursor: picked.length === limit && last ? encodeCursor(last.score, last.id) : null };
}

export class NotFailedError extends Error {
  override name = "NotFailedError";
}

/**
 * Sends a failed delivery again with fresh tries, under the same id (its `webhook-id`, so a
 * receiver that did get it can drop the repeat). Undefined when there is no such delivery;
 * NotFailedError when it has not failed.
 */
export async function retryCallbackDelivery(queues: QueueSet, id: string): Promise<"pending" | undefined> {
  const job = await queues.callbacks.getJob(id);
  if (!job) return undefined;
  if ((await job.getState()) !== "failed") throw new NotFailedError(`callback delivery ${id} has not failed`);
  // BullMQ's retry checks in its script that the job is still in the failed set.
  await job.retry("failed", { resetAttemptsMade: true, resetAttemptsStarted: true });
  return "pending";
}
