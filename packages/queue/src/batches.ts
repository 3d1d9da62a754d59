import { type BatchView, jobStatuses } from "@provisioner/api-contract";
import { deathReasons } from "./failed-jobs.ts";
import type { QueueSet } from "./queues.ts";
import { statusOfState } from "./status.ts";

const batchKey = (queues: QueueSet, batchId: string) => `${queues.config.prefix}:batch:${batchId}`;

/** Remembers which jobs a bulk request made, for as long as a dead job is retained. */
export async function recordBatch(queues: QueueSet, batchId: string, jobIds: readonly string[]): Promise<void> {
  if (jobIds.length === 0) return;
  const key = batchKey(queues, batchId);
  await queues.connection
    .multi()
    .sadd(key, ...jobIds)
    .pexpire(key, queues.config.retention.deadLetterMs)
    .exec();
}

export async function getBatch(queues: QueueSet, batchId: string): Promise<BatchView | undefined> {
  const ids = await queues.connection.smembers(batchKey(queues, batchId));
  if (ids.length === 0) return undefined;
  const counts = Object.fromEntries([...jobStatuses, "expired"].map((s) => [s, 0])) as BatchView["counts"];
  const dead: BatchView["dead"] = [];
  await Promise.all(
    ids.map(async (id) => {
      const owner = queues.queueOfJobId(id);
      const state = owner ? await owner.queue.getJobState(id) : "unknown";
      // A job past its retention is gone; say so rather than guess how it ended.
      const status = statusOfState(state) ?? "expired";
      counts[status] += 1;
      if (status === "dead" && owner) {
        const [reason] = await deathReasons(queues, [{ id, provider: owner.provider, queue: owner.queue }]);
        dead.push({ id, reason: reason?.message ?? null });
      }
    }),
  );
  return { id: batchId, total: ids.length, counts, dead };
}
