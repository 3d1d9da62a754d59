import { afterAll, beforeAll, beforeEach, expect, it } from "vitest";
import { indexMemberOf, placeMembers } from "./job-index.ts";
import type { QueueSet } from "./queues.ts";
import { deleteKeysWithPrefix } from "./redis.ts";
import { openTestQueues, type TestQueues } from "./test-support.ts";

// A job listed as succeeded sheds what only a waiting or running job reads (finished-job.ts), on
// real Redis under a fresh prefix; a job of any other status, or not completed, keeps its hash.
let opened: TestQueues;
let connection: TestQueues["connection"];
let queues: QueueSet;

beforeAll(async () => {
  opened = await openTestQueues();
  ({ connection, queues } = opened);
});
beforeEach(() => deleteKeysWithPrefix(connection, queues.config.prefix));
afterAll(() => opened.close());

const submittedAt = 1_764_000_000_000;
const opts = '{"priority":2,"backoff":{"type":"full-jitter"},"attempts":8}';

/** A job's hash as BullMQ leaves it once it ran (`finished`: with its result, as a completed job). */
async function storeRunJob(id: string, finished: boolean) {
  const queue = queues.queueOf("postgres");
  await connection.hset(queue.toKey(id), {
    name: "create-database",
    data: JSON.stringify({ v: 2, t: submittedAt, i: {} }),
    opts,
    timestamp: submittedAt,
    delay: 0,
    priority: 2,
    processedOn: submittedAt + 5,
    ats: 1,
    atm: 1,
    ...(finished ? { returnvalue: '{"outcome":"created","resource":{}}', finishedOn: submittedAt + 9 } : {}),
  });
  return queue;
}

it("trims a succeeded job to what its view, its idempotency, the listing and the dashboard read", async () => {
  const id = "postgres-default-done";
  const queue = await storeRunJob(id, true);
  await placeMembers(queues, queue.name, [{ member: indexMemberOf(submittedAt, id), status: "succeeded" }]);
  expect((await connection.hkeys(queue.toKey(id))).sort()).toEqual(
    ["atm", "data", "finishedOn", "name", "opts", "processedOn", "returnvalue", "timestamp"].sort(),
  );
  const job = await queue.getJob(id);
  expect(job?.opts).toEqual({ attempts: 8 });
  expect(job?.attemptsMade).toBe(1);
  expect(job?.finishedOn).toBe(submittedAt + 9);
  expect(job?.returnvalue).toEqual({ outcome: "created", resource: {} });
  expect(job?.data).toEqual({ v: 2, t: submittedAt, i: {} });
});

it("leaves the hash of a job listed under another status, or listed as succeeded before BullMQ completed it", async () => {
  const running = "postgres-default-running";
  const early = "postgres-default-early";
  const queue = await storeRunJob(running, false);
  await storeRunJob(early, false);
  await placeMembers(queues, queue.name, [
    { member: indexMemberOf(submittedAt, running), status: "running" },
    { member: indexMemberOf(submittedAt, early), status: "succeeded" },
  ]);
  for (const id of [running, early]) {
    expect(await connection.hget(queue.toKey(id), "opts")).toBe(opts);
    expect(await connection.hmget(queue.toKey(id), "delay", "priority", "ats")).toEqual(["0", "2", "1"]);
  }
});
