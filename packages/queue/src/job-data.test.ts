import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type SubmitRequest, submitJobs } from "./enqueue.ts";
import { type JobData, readJobData, storedJobData } from "./job-data.ts";
import { openTestQueues, type TestQueues } from "./test-support.ts";

// A job's data is stored short (v 2) and read back whole; data an earlier version stored
// in full (v 1) reads as it did.

const full: JobData = {
  v: 1,
  provider: "bridgeport",
  account: "eu_2",
  input: { envId: "env_1", name: "tenant-1", type: "postgres", password: "enc:v1:k:iv:tag:ct" },
  idempotencyKey: "cli:0123",
  requestHash: "0cc5e89f58ba3e1253137dcd8c0adfc5cfc1ac43457e2336b139467e0c1397d0",
  submissionId: randomUUID(),
  submittedAt: 1_795_718_662_399,
  providerKey: "bridgeport-eu_2-abc.2",
  generation: 2,
  lane: "bulk",
  batchId: randomUUID(),
  callbackUrl: "https://example.com/hook",
  metadata: { tenant: "t-1", plan: null },
};
const queueName = "{bridgeport.eu_2}";
const throughRedis = (data: unknown) => JSON.parse(JSON.stringify(data));

describe("a job's stored data", () => {
  it("reads back as the data it was stored from, every field", () => {
    expect(readJobData({ queueName, data: throughRedis(storedJobData(full)) })).toEqual({ data: full, valid: true });
    const plain: JobData = { ...full, generation: 0, lane: "interactive" };
    for (const key of ["providerKey", "batchId", "callbackUrl", "metadata"] as const) delete plain[key];
    expect(readJobData({ queueName, data: throughRedis(storedJobData(plain)) })).toEqual({ data: plain, valid: true });
  });

  it("leaves out what the queue and the defaults say, packs the hash and ids, and starts with the submission time", () => {
    const text = JSON.stringify(storedJobData({ ...full, generation: 0, lane: "interactive" }));
    expect(text.startsWith(`{"v":2,"t":${full.submittedAt},`)).toBe(true);
    for (const word of ["provider", "account", "generation", "lane", full.requestHash, full.submissionId]) {
      expect(text).not.toContain(`${word}`);
    }
    expect(text.length).toBeLessThan(JSON.stringify(full).length - 150);
  });

  it("still reads data an earlier version stored in full, and keeps values of other shapes as they are", () => {
    expect(readJobData({ queueName, data: throughRedis(full) })).toEqual({ data: full, valid: true });
    const odd = { ...full, requestHash: "h", submissionId: "s-1", batchId: "batch-1" };
    expect(readJobData({ queueName, data: throughRedis(storedJobData(odd)) }).data).toEqual(odd);
  });

  it("reads short data on a queue whose name says no provider as invalid, a stand-in", () => {
    const read = readJobData({ queueName: "elsewhere", id: "x", data: throughRedis(storedJobData(full)) });
    expect(read).toMatchObject({ valid: false, data: { input: {}, requestHash: "invalid" } });
  });
});

describe("a repeat of a key whose job an earlier version stored", () => {
  let opened: TestQueues;
  beforeAll(async () => {
    opened = await openTestQueues();
  });
  afterAll(() => opened.close());

  it("is the same job when the request is the same, and a key reused when it is not", async () => {
    const { queues, connection } = opened;
    const request = (name: string) =>
      ({ provider: "postgres", account: "default", input: { name }, idempotencyKey: "k-1" }) as SubmitRequest;
    const [first] = await submitJobs(queues, [request("db_one")]);
    if (!first?.accepted) throw new Error("not accepted");
    // Rewritten as the previous version stored it: the full form.
    const queue = queues.queueOf("postgres");
    const stored = JSON.parse((await connection.hget(queue.toKey(first.id), "data")) as string);
    const earlier = readJobData({ queueName: queue.name, data: stored }).data;
    await connection.hset(queue.toKey(first.id), "data", JSON.stringify(earlier));
    expect(await submitJobs(queues, [request("db_one")])).toEqual([
      { accepted: true, id: first.id, status: "queued", deduplicated: true },
    ]);
    expect(await submitJobs(queues, [request("db_two")])).toMatchObject([
      { accepted: false, code: "IDEMPOTENCY_KEY_REUSED" },
    ]);
  });
});
