import { afterEach, beforeEach, expect, it } from "vitest";
import { type Harness, inputFor, startHarness, uniqueName } from "./test-support.ts";

// Retention is the Worker's option, not each job's (packages/queue queues.ts
// `finishedJobRetention`): a job's hash keeps no retention of its own, yet finished jobs go once
// their age passes, as BullMQ cleans the finished sets when another job ends.

let harness: Harness;
beforeEach(async () => {
  harness = await startHarness();
});
afterEach(() => harness.close());

const submitOne = () => harness.submit({ provider: "artie", input: { ...inputFor.artie(), name: uniqueName() } });

it("removes a succeeded job past the completed retention and a dead one past the dead-letter retention, though neither stores its retention", async () => {
  harness.queues.config.retention.completedMs = 1_000;
  harness.queues.config.retention.deadLetterMs = 1_000;
  harness.setFaults([{ provider: "artie", fault: "error", status: 400, namePrefix: "doom" }]);
  const succeeded = await submitOne();
  const dead = await harness.submit({ provider: "artie", input: { ...inputFor.artie(), name: uniqueName("doom") } });
  await harness.startWorkers();
  await harness.waitFor(succeeded);
  await harness.waitFor(dead);
  const queue = harness.queues.queueOf("artie");
  for (const id of [succeeded, dead]) {
    // A succeeded job keeps only its attempts of its options once listed (packages/queue finished-job.ts).
    const options = JSON.parse((await harness.connection.hget(queue.toKey(id), "opts")) ?? "{}");
    expect(Object.keys(options)).not.toContain("removeOnComplete");
    expect(Object.keys(options)).not.toContain("removeOnFail");
    expect(options.attempts).toBeGreaterThan(0);
  }

  // BullMQ counts ages in whole seconds: past 2 s, the next job to end of each kind removes the older.
  await new Promise((resolve) => setTimeout(resolve, 2_100));
  const later = await submitOne();
  const laterDead = await harness.submit({
    provider: "artie",
    input: { ...inputFor.artie(), name: uniqueName("doom") },
  });
  await harness.waitFor(later);
  await harness.waitFor(laterDead);
  expect(await queue.getJob(succeeded)).toBeUndefined();
  expect(await queue.getJob(dead)).toBeUndefined();
  expect(await queue.getJobState(later)).toBe("completed");
  expect(await queue.getJobState(laterDead)).toBe("failed");
}, 30_000);

it("keeps finished jobs within their retention", async () => {
  const first = await submitOne();
  await harness.startWorkers();
  await harness.waitFor(first);
  await harness.waitFor(await submitOne());
  expect(await harness.queues.queueOf("artie").getJobState(first)).toBe("completed");
}, 30_000);
