import type { BatchView } from "../answers.ts";
import type { ApiClient } from "../client.ts";
import { mapConcurrent } from "../pool.ts";
import { sleep } from "../retry.ts";

export type StatusCounts = BatchView["counts"];
export type BatchOutcomes = BatchView["outcomes"];

export interface BatchProgress {
  /** Jobs in all batches (a row repeated in one chunk is one job). */
  total: number;
  /** Jobs that ended: succeeded, dead, or gone past their retention. */
  done: number;
  counts: StatusCounts;
}

export interface WaitOptions {
  onProgress?: (progress: BatchProgress) => void;
  signal?: AbortSignal | undefined;
  /** First pause between polls, growing while nothing changes. Default 200 ms. */
  minPollMs?: number;
  /** Longest pause between polls while nothing moves. Default 2 s. */
  maxPollMs?: number;
  /**
   * The pause is at least this per batch still open, so a tick's reads (one per open batch)
   * stay near 1,000 / perBatchPollMs a second however many batches there are. Default 20 ms.
   */
  perBatchPollMs?: number;
  /** Batches already seen finished (an earlier run): never asked again. */
  finished?: ReadonlyMap<string, BatchCounts>;
  /** Called once per batch, when it is first seen finished. */
  onFinished?: (batch: BatchView) => void;
}

/** What the wait needs of a batch: its total and counts. */
export type BatchCounts = Pick<BatchView, "total" | "counts">;

export function sumBatches(batches: Iterable<BatchCounts>): BatchProgress {
  const counts: StatusCounts = { queued: 0, running: 0, retrying: 0, succeeded: 0, dead: 0, expired: 0 };
  let total = 0;
  for (const batch of batches) {
    total += batch.total;
    for (const status of Object.keys(counts) as (keyof StatusCounts)[]) counts[status] += batch.counts[status];
  }
  return { total, done: counts.succeeded + counts.dead + counts.expired, counts };
}

/**
 * Polls `GET /v1/batches/{id}` (counts the API keeps, one cheap call per batch) until every
 * batch is `finished`. A finished batch is not asked again, the pause grows with the batches
 * still open (about 50 reads a second at most) and while nothing moves, so a long wait is cheap.
 */
export async function waitForBatches(
  client: ApiClient,
  batchIds: readonly string[],
  {
    onProgress,
    signal,
    minPollMs = 200,
    maxPollMs = 2_000,
    perBatchPollMs = 20,
    finished,
    onFinished,
  }: WaitOptions = {},
): Promise<BatchProgress> {
  const latest = new Map<string, BatchCounts>();
  const done = new Set<string>();
  for (const id of batchIds) {
    const known = finished?.get(id);
    if (known) {
      latest.set(id, known);
      done.add(id);
    }
  }
  let pause = minPollMs;
  let previousDone = -1;
  for (;;) {
    const open = batchIds.filter((id) => !done.has(id));
    const views = await mapConcurrent(open, 4, (id) => client.getBatch(id, { deadLimit: 1 }));
    for (const view of views) {
      latest.set(view.id, view);
      if (view.finished) {
        done.add(view.id);
        onFinished?.(view);
      }
    }
    const progress = sumBatches(latest.values());
    onProgress?.(progress);
    if (done.size === batchIds.length) return progress;
    // A 100,000-row run has 100 batches open at once (they advance together, round robin): at
    // 200 ms a tick that was 500 reads a second, and the API's and the CLI's CPU competed with
    // the worker's. The floor keeps the reads near 50 a second.
    const floor = Math.max(minPollMs, (batchIds.length - done.size) * perBatchPollMs);
    pause = progress.done === previousDone ? Math.max(floor, Math.min(maxPollMs, Math.round(pause * 1.5))) : floor;
    previousDone = progress.done;
    await sleep(pause, signal);
  }
}
