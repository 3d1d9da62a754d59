import { getBatch } from "@provisioner/queue";
import { countSocketWrites } from "@provisioner/testing";
import { afterEach, beforeEach, expect, it } from "vitest";
import { type Harness, startHarness, uniqueName } from "./test-support.ts";

// What a job costs the worker in writes to Redis, each a system call. Its commands are its start
// (lane clock, running, batch counts), its identity lock and the lock's release, BullMQ's finish
// and fetch, and its end's status, batch counts and finished count; the worker's connection
// sends each event-loop turn's commands in one write (packages/queue redis.ts), so jobs
// running side by side share writes too: about 1.2 a job measured, 9.6 before.

let harness: Harness;
beforeEach(async () => {
  harness = await startHarness();
});
afterEach(() => harness.close());

it("runs a batch's jobs in at most two and a half writes to Redis a job", async () => {
  const jobs = 60;
  const batchId = await harness.submitBatch(
    Array.from({ length: jobs }, () => ({ provider: "bridgeport" as const, name: uniqueName("writes") })),
  );
  const writes = countSocketWrites(harness.connection);
  try {
    await harness.startWorkers();
    // Waits on the sandbox, not on Redis, so the count is the worker's alone.
    const deadline = Date.now() + 20_000;
    while (Object.keys(harness.creations("bridgeport")).length < jobs) {
      if (Date.now() > deadline) throw new Error("the jobs did not all reach the sandbox");
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    await new Promise((resolve) => setTimeout(resolve, 500));
  } finally {
    writes.stop();
  }
  const batch = await getBatch(harness.queues, batchId);
  expect(batch?.counts.succeeded).toBe(jobs);
  expect(writes.count() / jobs).toBeLessThanOrEqual(2.5);
});
