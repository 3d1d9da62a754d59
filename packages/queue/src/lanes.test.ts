import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type SubmitRequest, submitJobs } from "./enqueue.ts";
import { advanceLaneClock, bulkStride, laneClockKeyOf } from "./lanes.ts";
import type { QueueSet } from "./queues.ts";
import { openTestQueues, type TestQueues } from "./test-support.ts";

// Real Redis, a fresh prefix; no worker: the test moves the clock as a worker would.
let opened: TestQueues;
let connection: TestQueues["connection"];
let queues: QueueSet;

beforeAll(async () => {
  opened = await openTestQueues();
  ({ connection, queues } = opened);
});
afterAll(() => opened.close());

const request = (lane: "interactive" | "bulk"): SubmitRequest => ({
  provider: "postgres",
  account: "default",
  lane,
  input: { name: `lane_${randomUUID().replaceAll("-", "").slice(0, 12)}` },
});

/** The queue's waiting jobs in the order BullMQ will hand them out, with their priorities. */
async function waitingOrder() {
  const jobs = await queues.queueOf("postgres").getPrioritized();
  const scored = await Promise.all(
    jobs.map(async (job) => ({
      id: job.id as string,
      priority: job.priority,
      score: Number(await connection.zscore(queues.queueOf("postgres").toKey("prioritized"), job.id as string)),
    })),
  );
  return scored.sort((a, b) => a.score - b.score);
}

describe("lane priorities", () => {
  it("puts an interactive job ahead of waiting bulk jobs, and a later batch's items between an earlier one's", async () => {
    const queue = queues.queueOf("postgres");
    await connection.set(laneClockKeyOf(queues, queue), 50);
    const first = await submitJobs(queues, [request("bulk"), request("bulk"), request("bulk")]);
    const second = await submitJobs(queues, [request("bulk"), request("bulk")]);
    const [interactive] = await submitJobs(queues, [request("interactive")]);
    const order = (await waitingOrder()).map((job) => job.id);
    const [a1, a2, a3] = first.map((outcome) => outcome.id);
    const [b1, b2] = second.map((outcome) => outcome.id);
    expect(order).toEqual([interactive?.id, a1, b1, a2, b2, a3]);
    expect((await waitingOrder()).map((job) => job.priority)).toEqual([
      50,
      51,
      51,
      51 + bulkStride,
      51 + bulkStride,
      51 + 2 * bulkStride,
    ]);
    await queue.drain();
  });

  it("moves the clock as jobs start, at least one step each, so waiting bulk jobs' turns come", async () => {
    const queue = queues.queueOf("postgres");
    await connection.set(laneClockKeyOf(queues, queue), 10);
    expect(await advanceLaneClock(queues, queue, 10)).toBe(11);
    expect(await advanceLaneClock(queues, queue, 30)).toBe(30);
    expect(await advanceLaneClock(queues, queue, 12)).toBe(31);
  });

  it("rebases past its threshold: priorities shift down under BullMQ's limit and the order holds", async () => {
    const queue = queues.queueOf("postgres");
    await connection.set(laneClockKeyOf(queues, queue), 95);
    await submitJobs(queues, [request("bulk"), request("bulk"), request("bulk"), request("bulk")]);
    await submitJobs(queues, [request("bulk"), request("bulk")]);
    const before = await waitingOrder();
    // The first bulk job (priority 96) starts with a threshold of 95: everything shifts down by 95.
    expect(await advanceLaneClock(queues, queue, 96, { threshold: 95 })).toBe(1);
    const after = await waitingOrder();
    expect(after.map((job) => job.id)).toEqual(before.map((job) => job.id));
    expect(after.map((job) => job.priority)).toEqual(before.map((job) => job.priority - 95));
    const stored = await Promise.all(after.map((job) => queue.getJob(job.id)));
    expect(stored.map((job) => job?.priority)).toEqual(after.map((job) => job.priority));
    // New work is scheduled against the rebased clock.
    const [late] = await submitJobs(queues, [request("interactive")]);
    expect((await queue.getJob(late?.id as string))?.priority).toBe(1);
    await queue.drain();
  });
});
