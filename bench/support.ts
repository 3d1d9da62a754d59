import type { Queue } from "bullmq";

/** Resolves once `count` jobs of the queue have completed; fails loudly on any failure. */
export async function waitForCompleted(queue: Queue, count: number, timeoutMs = 300_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const counts = await queue.getJobCounts("completed", "failed");
    if ((counts.failed ?? 0) > 0) throw new Error(`${counts.failed} jobs failed during the benchmark`);
    if ((counts.completed ?? 0) >= count) return;
    if (Date.now() > deadline) throw new Error(`only ${counts.completed} of ${count} jobs completed in time`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

export const format = (n: number) => n.toLocaleString("en-US", { maximumFractionDigits: 0 });

export interface Result {
  jobs: number;
  seconds: number;
  jobsPerSecond: number;
}

/** The middle round by throughput: one slow round (a GC pause, a noisy neighbour) does not decide. */
export function median(results: readonly Result[]): Result {
  const sorted = [...results].sort((a, b) => a.jobsPerSecond - b.jobsPerSecond);
  return sorted[Math.floor(sorted.length / 2)] as Result;
}
