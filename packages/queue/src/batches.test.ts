import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { recordBatch, setBatchStatuses, setJobBatchStatus } from "./batches.ts";
import { submitJobs } from "./enqueue.ts";
import { readJobData } from "./job-data.ts";
import { indexMemberOf, statusIndexKeyOf } from "./job-index.ts";
import { recordJobStart } from "./job-status.ts";
import { laneClockKeyOf } from "./lanes.ts";
import type { QueueSet } from "./queues.ts";
import { openTestQueues, type TestQueues } from "./test-support.ts";

// Real Redis, a fresh prefix; no worker: the test records statuses as the API and a worker would.
let opened: TestQueues;
let connection: TestQueues["connection"];
let queues: QueueSet;
let queueName: string;

beforeAll(async () => {
  opened = await openTestQueues();
  ({ connection, queues } = opened);
  queueName = queues.queueOf("postgres").name;
});
afterAll(() => opened.close());

const keyOf = (part: string, batchId: string) => `${queues.config.prefix}:batch-${part}:${queueName}:${batchId}`;
const openKey = () => `${queues.config.prefix}:batch-open:${queueName}`;
const leases = (batchId: string) =>
  Promise.all(["jobs", "counts", "pending"].map((part) => connection.pttl(keyOf(part, batchId))));

describe("a batch's keys", () => {
  it("are leased and open when a worker records a job's start before the API records the batch", async () => {
    const batchId = randomUUID();
    await setJobBatchStatus(queues, queueName, batchId, "job-1", "running");
    for (const lease of await leases(batchId)) expect(lease).toBeGreaterThan(0);
    expect(await connection.sismember(openKey(), batchId)).toBe(1);
    // The API's record leaves the worker's status, and the counts stay one job's.
    await setBatchStatuses(queues, queueName, batchId, [{ id: "job-1", status: "queued", expected: "-" }]);
    expect(await connection.hgetall(keyOf("counts", batchId))).toEqual({ running: "1" });
  });

  it("close when the last job ends, and open again when a finished job is replayed", async () => {
    const batchId = randomUUID();
    await setBatchStatuses(
      queues,
      queueName,
      batchId,
      ["a", "b"].map((id) => ({ id, status: "queued" as const, expected: "-" })),
    );
    expect(await connection.sismember(openKey(), batchId)).toBe(1);
    for (const id of ["a", "b"]) await setJobBatchStatus(queues, queueName, batchId, id, "running");
    await setJobBatchStatus(queues, queueName, batchId, "a", "succeeded", { outcome: "created" });
    expect(await connection.sismember(openKey(), batchId)).toBe(1);
    await setJobBatchStatus(queues, queueName, batchId, "b", "dead");
    expect(await connection.sismember(openKey(), batchId)).toBe(0);
    expect(await connection.scard(keyOf("pending", batchId))).toBe(0);
    expect(await connection.hgetall(keyOf("counts", batchId))).toMatchObject({
      queued: "0",
      running: "0",
      succeeded: "1",
      dead: "1",
      "outcome:created": "1",
    });

    await setJobBatchStatus(queues, queueName, batchId, "b", "queued");
    expect(await connection.sismember(openKey(), batchId)).toBe(1);
    expect(await connection.smembers(keyOf("pending", batchId))).toEqual(["b"]);
    expect(await connection.zcard(keyOf("dead", batchId))).toBe(0);
    for (const lease of await leases(batchId)) expect(lease).toBeGreaterThan(0);
  });
});

describe("a batch's job starting", () => {
  it("moves its lane's clock, lists it as running and counts it running, in one call", async () => {
    const batchId = randomUUID();
    const [outcome] = await submitJobs(queues, [
      {
        provider: "postgres",
        account: "default",
        input: { name: `start_${batchId.slice(0, 8)}` },
        batchId,
        lane: "bulk",
      },
    ]);
    if (!outcome?.accepted) throw new Error("not accepted");
    await recordBatch(queues, batchId, [{ id: outcome.id, status: "queued" }]);
    const queue = queues.queueOf("postgres");
    const job = await queue.getJob(outcome.id);
    if (!job) throw new Error("no job");
    const member = indexMemberOf(readJobData(job).data.submittedAt, outcome.id);

    await recordJobStart(queues, queue, job);
    expect(Number(await connection.get(laneClockKeyOf(queues, queue)))).toBe(job.priority);
    expect(await connection.zscore(statusIndexKeyOf(queues, queueName, "running"), member)).not.toBeNull();
    expect(await connection.zscore(statusIndexKeyOf(queues, queueName, "queued"), member)).toBeNull();
    expect(await connection.hgetall(keyOf("counts", batchId))).toEqual({ queued: "0", running: "1" });
  });
});
