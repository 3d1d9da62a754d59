import { type FailureKind, failureKinds } from "@provisioner/provider-client";
import type { Queue } from "bullmq";
import type { QueueSet } from "./queues.ts";

// Dead letters by kind: one sorted set per (queue, kind), scored by when the job died and
// named with the queue's hash tag, so it lives in the queue's slot. The queue's own failed
// set (scored by finishedOn) is the index of every kind. An entry is written as the death is
// decided (the runner, as it throws the final failure; the worker, for BullMQ's own stalled
// deaths), removed by replay and discard, and an entry whose job is no longer failed
// (retention, a death that did not happen after all) is pruned when a read meets it.

export const deadKindKeyOf = (queues: QueueSet, queue: Queue, kind: FailureKind) =>
  `${queues.config.prefix}:dead-kind:${queue.name}:${kind}`;

export async function indexDeath(queues: QueueSet, queue: Queue, id: string, kind: FailureKind): Promise<void> {
  await queues.connection.zadd(deadKindKeyOf(queues, queue, kind), Date.now(), id);
}

/** Removes a job from every kind's index of its queue (replay, discard), in one MULTI in the queue's slot. */
export async function unindexDeath(queues: QueueSet, queue: Queue, id: string): Promise<void> {
  const multi = queues.connection.multi();
  for (const kind of failureKinds) multi.zrem(deadKindKeyOf(queues, queue, kind), id);
  await multi.exec();
}

export async function pruneDeathIndex(
  queues: QueueSet,
  stale: readonly { queue: Queue; id: string; kind: FailureKind }[],
): Promise<void> {
  await Promise.all(stale.map(({ queue, id, kind }) => queues.connection.zrem(deadKindKeyOf(queues, queue, kind), id)));
}
