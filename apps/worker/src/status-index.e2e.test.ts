import { randomUUID } from "node:crypto";
import { type JobStatus, jobStatuses, listJobs, recordBatch, replayDeadLetter } from "@provisioner/queue";
import { afterEach, beforeEach, expect, it } from "vitest";
import { type Harness, inputFor, startHarness, uniqueName } from "./test-support.ts";

// The job listing's status indexes (packages/queue job-index.ts) follow a job as a real worker
// runs it: each status index holds the job's member only while the job has that status.

let harness: Harness;
beforeEach(async () => {
  harness = await startHarness();
});
afterEach(() => harness.close());

/** The status indexes that hold any member of job `id` (every life of it), by status. */
async function indexesHolding(id: string): Promise<JobStatus[]> {
  const queueName = harness.queues.queueOfJobId(id)?.queue.name as string;
  const { prefix } = harness.queues.config;
  const held: JobStatus[] = [];
  for (const status of jobStatuses) {
    const members = await harness.connection.zrange(`${prefix}:job-index:${status}:${queueName}`, "0", "-1");
    if (members.some((member) => member.endsWith(`:${id}`))) held.push(status);
  }
  return held;
}

/** Waits until job `id` has `status` and its member sits in that status's index alone. */
async function waitIndexed(id: string, status: JobStatus): Promise<void> {
  await harness.waitFor(id, (view) => view.status === status);
  const deadline = Date.now() + 5_000;
  while (JSON.stringify(await indexesHolding(id)) !== JSON.stringify([status])) {
    if (Date.now() > deadline) throw new Error(`job ${id} is ${status} but indexed as ${await indexesHolding(id)}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

const listed = async (status: JobStatus) =>
  (await listJobs(harness.queues, { status, limit: 200 })).jobs.map((job) => job.id);

it("moves a job's member queued → running → retrying → running → succeeded as a worker runs it, a batch's job too", async () => {
  // The first create answers 503 with Retry-After (the runner delays the job: retrying),
  // the second is slow enough to be seen running.
  harness.setFaults([
    { provider: "artie", fault: "error", status: 503, retryAfter: "1", times: 2, namePrefix: "later" },
    { provider: "artie", fault: "latency", latencyMs: 800, namePrefix: "later" },
  ]);
  const single = await harness.submit({ provider: "artie", input: { ...inputFor.artie(), name: uniqueName("later") } });
  const batchId = randomUUID();
  const batched = await harness.submit({
    provider: "artie",
    input: { ...inputFor.artie(), name: uniqueName("later") },
    batchId,
    lane: "bulk",
  });
  await recordBatch(harness.queues, batchId, [{ id: batched, status: "queued" }]);
  for (const id of [single, batched]) expect(await indexesHolding(id)).toEqual(["queued"]);
  expect(await listed("queued")).toEqual(expect.arrayContaining([single, batched]));

  await harness.startWorkers();
  for (const id of [single, batched]) await waitIndexed(id, "retrying");
  expect(await listed("retrying")).toEqual(expect.arrayContaining([single, batched]));
  for (const id of [single, batched]) await waitIndexed(id, "running");
  expect(await listed("running")).toEqual(expect.arrayContaining([single, batched]));
  for (const id of [single, batched]) await waitIndexed(id, "succeeded");
  expect(await listed("succeeded")).toEqual(expect.arrayContaining([single, batched]));
  expect(await listed("queued")).toEqual([]);
}, 30_000);

it("moves a job's member to dead when it dies, and its replay's member to queued at the top", async () => {
  harness.setFaults([{ provider: "artie", fault: "error", status: 400, namePrefix: "doom" }]);
  const older = await harness.submit({ provider: "artie", input: { ...inputFor.artie(), name: uniqueName("ok") } });
  await new Promise((resolve) => setTimeout(resolve, 2));
  const doomed = await harness.submit({ provider: "artie", input: { ...inputFor.artie(), name: uniqueName("doom") } });
  await harness.startWorkers();
  await waitIndexed(doomed, "dead");
  await waitIndexed(older, "succeeded");
  expect(await listed("dead")).toEqual([doomed]);

  // Replayed with no worker running, so it stays queued.
  await harness.workers?.close(1_000);
  harness.workers = undefined;
  await replayDeadLetter(harness.queues, doomed);
  expect(await indexesHolding(doomed)).toEqual(["queued"]);
  expect(await listed("queued")).toEqual([doomed]);
  expect(await listed("dead")).toEqual([]);
  // One member for the job in all the indexes: the earlier life's is gone.
  const { prefix } = harness.queues.config;
  const queueName = harness.queues.queueOfJobId(doomed)?.queue.name as string;
  const members = await Promise.all(
    jobStatuses.map((status) => harness.connection.zrange(`${prefix}:job-index:${status}:${queueName}`, "0", "-1")),
  );
  expect(members.flat().filter((member) => member.endsWith(`:${doomed}`))).toHaveLength(1);
}, 30_000);

it("lists jobs from before the status indexes in them when a worker starts, once, then deletes the all-jobs index", async () => {
  const older = await harness.submit({ provider: "artie", input: { ...inputFor.artie(), name: uniqueName("ok") } });
  const gone = await harness.submit({ provider: "artie", input: { ...inputFor.artie(), name: uniqueName("ok") } });
  const { prefix } = harness.queues.config;
  const queueName = harness.queues.queueOf("artie").name;
  const legacyKey = `${prefix}:job-index:${queueName}`;
  const adoptedKey = `${prefix}:job-index-adopted:${queueName}`;
  await harness.startWorkers();
  await waitIndexed(older, "succeeded");
  await waitIndexed(gone, "succeeded");
  // A queue that never had the all-jobs index has nothing older to list: marked so at start.
  expect(await harness.connection.exists(adoptedKey)).toBe(1);
  await harness.workers?.close(1_000);
  harness.workers = undefined;
  // As a version from before the status indexes left them: the all-jobs index only, and one
  // job's retention over.
  const members = await Promise.all(
    jobStatuses.map((status) => harness.connection.zrange(`${prefix}:job-index:${status}:${queueName}`, "0", "-1")),
  );
  await harness.connection.zadd(legacyKey, ...members.flat().flatMap((member) => [0, member]));
  await harness.connection.del(
    adoptedKey,
    ...jobStatuses.map((status) => `${prefix}:job-index:${status}:${queueName}`),
  );
  await harness.queues.queueOf("artie").remove(gone);
  expect(await listed("succeeded")).toEqual([]);

  await harness.startWorkers();
  await waitIndexed(older, "succeeded");
  expect(await listed("succeeded")).toEqual([older]);
  const deadline = Date.now() + 5_000;
  while ((await harness.connection.exists(legacyKey)) === 1 && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  expect(await harness.connection.exists(legacyKey)).toBe(0);
  expect(await harness.connection.exists(adoptedKey)).toBe(1);
  const listedAll = (await listJobs(harness.queues, { limit: 200 })).jobs.map((job) => job.id);
  expect(listedAll).toEqual([older]);
}, 30_000);
