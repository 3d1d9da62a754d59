import { randomUUID } from "node:crypto";
import { Worker } from "bullmq";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { jobStatesOf } from "./job-states.ts";
import type { QueueSet } from "./queues.ts";
import { openTestQueues, type TestQueues } from "./test-support.ts";

// Real Redis, a fresh prefix; a worker without a processor moves jobs by hand.
let opened: TestQueues;
let queues: QueueSet;

beforeAll(async () => {
  opened = await openTestQueues();
  ({ queues } = opened);
});
afterAll(() => opened.close());

describe("jobStatesOf", () => {
  it("answers, in one call, the state BullMQ gives each job", async () => {
    const queue = queues.queueOf("postgres");
    const add = (opts: { priority?: number; delay?: number } = {}) =>
      // The data plays no part in a state.
      queue.add("state", {} as never, { jobId: randomUUID(), ...opts }).then((job) => job.id as string);
    const [done, dead, running] = [await add({ priority: 1 }), await add({ priority: 2 }), await add({ priority: 3 })];
    const connection = new Redis(process.env.REDIS_URL ?? "redis://127.0.0.1:6379", { maxRetriesPerRequest: null });
    const worker = new Worker(queue.name, null, { connection, prefix: queues.config.prefix });
    try {
      const token = "test-token";
      for (const [id, end] of [
        [done, "completed"],
        [dead, "failed"],
        [running, "active"],
      ] as const) {
        const job = await worker.getNextJob(token);
        expect(job?.id).toBe(id);
        if (end === "completed") await job?.moveToCompleted("ok", token, false);
        if (end === "failed") await job?.moveToFailed(new Error("no"), token, false);
      }
      const waiting = await add();
      const prioritized = await add({ priority: 5 });
      const delayed = await add({ delay: 60_000 });
      const ids = [done, dead, running, waiting, prioritized, delayed, "no-such-job"];

      const states = await jobStatesOf(queues.connection, queue, ids);
      expect(states).toEqual(["completed", "failed", "active", "waiting", "prioritized", "delayed", "unknown"]);
      expect(states).toEqual(await Promise.all(ids.map((id) => queue.getJobState(id))));
    } finally {
      await worker.close(true);
      connection.disconnect();
    }
  });
});
