import { type JobStatus, jobStatuses } from "@provisioner/api-contract";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { adoptMembers, indexJobs, indexKeyOf, indexMemberOf, placeMembers, statusIndexKeyOf } from "./job-index.ts";
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
const member = indexMemberOf(1_764_000_000_000, id);

/** The statuses whose index holds the member, and whether the all-jobs index does. */
async function whereIs(wanted = member): Promise<{ all: boolean; statuses: JobStatus[] }> {
  const all = (await connection.zscore(indexKeyOf(queues, queueName), wanted)) !== null;
  const held = await Promise.all(
    jobStatuses.map((status) => connection.zscore(statusIndexKeyOf(queues, queueName, status), wanted)),
  );
  return { all, statuses: jobStatuses.filter((_, i) => held[i] !== null) };
}

describe("status index moves", () => {
  it("keeps a member in exactly one status index as it moves", async () => {
    await indexJobs(queues, queueName, [{ id, submittedAt: 1_764_000_000_000, status: "queued" }]);
    expect(await whereIs()).toEqual({ all: true, statuses: ["queued"] });
    for (const status of ["running", "retrying", "running", "succeeded"] as const) {
      await placeMembers(queues, queueName, [{ member, status }]);
      expect(await whereIs()).toEqual({ all: true, statuses: [status] });
    }
    await placeMembers(queues, queueName, [{ member, status: undefined }]);
    expect(await whereIs()).toEqual({ all: false, statuses: [] });
  });

  it("places no member the all-jobs index lacks, so a late event of a gone job or an earlier life adds nothing", async () => {
    expect(await placeMembers(queues, queueName, [{ member, status: "succeeded" }])).toBe(0);
    expect(await whereIs()).toEqual({ all: false, statuses: [] });
  });

  it("repairs a member only while it is still where the reader found it, so an event that landed since wins", async () => {
    await indexJobs(queues, queueName, [{ id, submittedAt: 1_764_000_000_000, status: "queued" }]);
    // A reader found it in `queued` while the job was running; the job has since succeeded,
    // and its event moved it before the repair arrived.
    await placeMembers(queues, queueName, [{ member, status: "succeeded" }]);
    expect(await placeMembers(queues, queueName, [{ member, status: "running", from: "queued" }])).toBe(0);
    expect(await whereIs()).toEqual({ all: true, statuses: ["succeeded"] });
    // Without an event in between, the repair moves it.
    await placeMembers(queues, queueName, [{ member, status: "queued" }]);
    expect(await placeMembers(queues, queueName, [{ member, status: "running", from: "queued" }])).toBe(1);
    expect(await whereIs()).toEqual({ all: true, statuses: ["running"] });
  });

  it("adopts only a member no status index holds", async () => {
    const older = indexMemberOf(1_763_000_000_000, "postgres-default-old");
    await connection.zadd(indexKeyOf(queues, queueName), 0, older, 0, member);
    await placeMembers(queues, queueName, [{ member, status: "running" }]);
    const placements = [
      { member: older, status: "succeeded" as const },
      { member, status: "queued" as const },
    ];
    expect(await adoptMembers(queues, queueName, placements)).toBe(1);
    expect(await whereIs(older)).toEqual({ all: true, statuses: ["succeeded"] });
    expect(await whereIs()).toEqual({ all: true, statuses: ["running"] });
  });
});
