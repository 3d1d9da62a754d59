import { type JobStatus, jobStatuses } from "@provisioner/api-contract";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { adoptMembers, indexJobs, indexMemberOf, placeMembers, readIndex, statusIndexKeyOf } from "./job-index.ts";
import type { QueueSet } from "./queues.ts";
import { deleteKeysWithPrefix } from "./redis.ts";
import { openTestQueues, type TestQueues } from "./test-support.ts";

// The status indexes' moves, on real Redis under a fresh prefix: what makes a reader's repair
// and the adoption of older jobs safe beside the worker's events.
let opened: TestQueues;
let connection: TestQueues["connection"];
let queues: QueueSet;
let queueName: string;

beforeAll(async () => {
  opened = await openTestQueues();
  ({ connection, queues } = opened);
  queueName = queues.queueOf("postgres").name;
});
beforeEach(() => deleteKeysWithPrefix(connection, queues.config.prefix));
afterAll(() => opened.close());

const id = "postgres-default-abc";
const submittedAt = 1_764_000_000_000;
const member = indexMemberOf(submittedAt, id);

/** Stores job `jobId`'s hash with data submitted at `at`, in this version's form or an earlier one's. */
async function storeJob(jobId: string, at: number, form: "current" | "earlier" = "current") {
  const data = form === "current" ? { v: 2, t: at, i: {} } : { v: 1, input: { submittedAt: 1 }, submittedAt: at };
  await connection.hset(queues.queueOf("postgres").toKey(jobId), "data", JSON.stringify(data));
}

/** The statuses whose index holds the member. */
async function whereIs(wanted = member): Promise<JobStatus[]> {
  const held = await Promise.all(
    jobStatuses.map((status) => connection.zscore(statusIndexKeyOf(queues, queueName, status), wanted)),
  );
  return jobStatuses.filter((_, i) => held[i] !== null);
}

describe("status index moves", () => {
  it("keeps a member in exactly one status index as it moves", async () => {
    await storeJob(id, submittedAt);
    await indexJobs(queues, queueName, [{ id, submittedAt, status: "queued" }]);
    expect(await whereIs()).toEqual(["queued"]);
    for (const status of ["running", "retrying", "running", "succeeded"] as const) {
      await placeMembers(queues, queueName, [{ member, status }]);
      expect(await whereIs()).toEqual([status]);
    }
    await placeMembers(queues, queueName, [{ member, status: undefined }]);
    expect(await whereIs()).toEqual([]);
  });

  it("finds a member in whichever index it sits, not only where a job usually comes from", async () => {
    await storeJob(id, submittedAt);
    // Every move between two statuses, whatever the search looks at first.
    for (const from of jobStatuses) {
      for (const to of jobStatuses) {
        await placeMembers(queues, queueName, [{ member, status: from }]);
        await placeMembers(queues, queueName, [{ member, status: to }]);
        expect(await whereIs(), `${from} -> ${to}`).toEqual([to]);
      }
    }
  });

  it("a repair takes the member out of the index the reader found it in, even beside an earlier version's duplicate", async () => {
    await storeJob(id, submittedAt);
    // An earlier version left the member in two indexes; a reader found it in `queued`.
    await connection.zadd(statusIndexKeyOf(queues, queueName, "queued"), 0, member);
    await connection.zadd(statusIndexKeyOf(queues, queueName, "running"), 0, member);
    expect(await placeMembers(queues, queueName, [{ member, status: "succeeded", from: "queued" }])).toBe(1);
    expect(await whereIs()).toEqual(["running", "succeeded"]);
    // The duplicate goes at the next move that finds it.
    await placeMembers(queues, queueName, [{ member, status: "succeeded", from: "running" }]);
    expect(await whereIs()).toEqual(["succeeded"]);
  });

  it("places no member whose job is gone or lives another life, so a late event of a removed job or an earlier life adds nothing", async () => {
    expect(await placeMembers(queues, queueName, [{ member, status: "succeeded" }])).toBe(0);
    // Replayed since: its data is a later submission's.
    await storeJob(id, submittedAt + 1);
    expect(await placeMembers(queues, queueName, [{ member, status: "succeeded" }])).toBe(0);
    await storeJob(id, submittedAt + 1, "earlier");
    expect(await placeMembers(queues, queueName, [{ member, status: "succeeded" }])).toBe(0);
    expect(await whereIs()).toEqual([]);
    // Data an earlier version stored, in this member's life, is placed.
    await storeJob(id, submittedAt, "earlier");
    expect(await placeMembers(queues, queueName, [{ member, status: "succeeded" }])).toBe(1);
    expect(await whereIs()).toEqual(["succeeded"]);
  });

  it("repairs a member only while it is still where the reader found it, so an event that landed since wins", async () => {
    await storeJob(id, submittedAt);
    await indexJobs(queues, queueName, [{ id, submittedAt, status: "queued" }]);
    // A reader found it in `queued` while the job was running; the job has since succeeded,
    // and its event moved it before the repair arrived.
    await placeMembers(queues, queueName, [{ member, status: "succeeded" }]);
    expect(await placeMembers(queues, queueName, [{ member, status: "running", from: "queued" }])).toBe(0);
    expect(await whereIs()).toEqual(["succeeded"]);
    // Without an event in between, the repair moves it.
    await placeMembers(queues, queueName, [{ member, status: "queued" }]);
    expect(await placeMembers(queues, queueName, [{ member, status: "running", from: "queued" }])).toBe(1);
    expect(await whereIs()).toEqual(["running"]);
  });

  it("adopts only a member no status index holds", async () => {
    const olderId = "postgres-default-old";
    const older = indexMemberOf(1_763_000_000_000, olderId);
    await storeJob(olderId, 1_763_000_000_000, "earlier");
    await storeJob(id, submittedAt);
    await placeMembers(queues, queueName, [{ member, status: "running" }]);
    const placements = [
      { member: older, status: "succeeded" as const },
      { member, status: "queued" as const },
    ];
    expect(await adoptMembers(queues, queueName, placements)).toBe(1);
    expect(await whereIs(older)).toEqual(["succeeded"]);
    expect(await whereIs()).toEqual(["running"]);
  });
});

describe("reading every status", () => {
  it("merges the status indexes newest first from a cursor, each member once", async () => {
    const jobs = jobStatuses.flatMap((status, i) =>
      [0, 1].map((n) => ({ id: `postgres-default-${status}${n}`, submittedAt: submittedAt + i * 10 + n, status })),
    );
    for (const job of jobs) await storeJob(job.id, job.submittedAt);
    await indexJobs(queues, queueName, jobs);
    const account = queues.accountsOf("postgres");
    const newestFirst = jobs.map(({ id, submittedAt: at }) => indexMemberOf(at, id)).reverse();
    expect(await readIndex(queues, account, undefined, undefined, 4)).toEqual(newestFirst.slice(0, 4));
    expect(await readIndex(queues, account, undefined, newestFirst[3], 100)).toEqual(newestFirst.slice(4));
    // A member an earlier version left in two indexes is listed once.
    await connection.zadd(statusIndexKeyOf(queues, queueName, "dead"), 0, newestFirst[9] as string);
    expect(await readIndex(queues, account, undefined, newestFirst[7], 100)).toEqual(newestFirst.slice(8));
  });
});
