import { batchCallbackId, setBatchStatuses } from "@provisioner/queue";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { bridgeportInput, type Json, queuedCount, startTestApi, type TestApi } from "./test-support.ts";

let api: TestApi;
beforeAll(async () => {
  api = await startTestApi();
});
afterAll(async () => {
  await api.close();
});

const bulk = (jobs: unknown) => api.call("POST", "/v1/jobs/bulk", { body: { jobs } });

describe("POST /v1/jobs/bulk", () => {
  it("queues exactly the valid items and rejects the others by index", async () => {
    const res = await bulk([
      { provider: "bridgeport", input: bridgeportInput("mixed-a") },
      { provider: "bridgeport", input: { envId: "env_test", type: "postgres" } },
      { provider: "prisma", input: { projectId: "proj_mixed", name: "mixed-b" } },
      "not an object",
      { provider: "prisma", account: "elsewhere", input: { projectId: "proj_mixed", name: "mixed-c" } },
      { provider: "bridgeport", input: bridgeportInput("mixed-d") },
    ]);
    expect(res.status).toBe(202);
    const body: Json = await res.json();
    expect(body).toMatchObject({ batchId: expect.any(String), accepted: 3, deduplicated: 0 });
    expect(body.rejected).toEqual([
      { index: 1, error: expect.objectContaining({ code: "VALIDATION_ERROR", field: "input.name" }) },
      { index: 3, error: expect.objectContaining({ code: "VALIDATION_ERROR" }) },
      { index: 4, error: expect.objectContaining({ code: "VALIDATION_ERROR", field: "account" }) },
    ]);
    expect(body.jobs.map((job: Json) => job.index)).toEqual([0, 2, 5]);
    expect(await queuedCount(api.queues.queueOf("bridgeport"))).toBe(2);
    expect(await queuedCount(api.queues.queueOf("prisma"))).toBe(1);

    const batch = await api.call("GET", `/v1/batches/${body.batchId}`);
    expect(batch.status).toBe(200);
    expect(await batch.json()).toEqual({
      id: body.batchId,
      total: 3,
      counts: { queued: 3, running: 0, retrying: 0, succeeded: 0, dead: 0, expired: 0 },
      outcomes: { created: 0, deduplicated: 0 },
      finished: false,
      dead: [],
      deadCursor: null,
    });
  });

  it("counts repeats as deduplicated and rejects a reused key with a different request", async () => {
    const first = { provider: "postgres", input: { name: "bulk_repeat" }, idempotencyKey: "bulk-key" };
    const res = await bulk([first, first, { ...first, input: { name: "bulk_other" } }]);
    const body: Json = await res.json();
    expect(body).toMatchObject({ accepted: 2, deduplicated: 1 });
    expect(body.jobs.map((job: Json) => job.deduplicated)).toEqual([false, true]);
    expect(body.rejected).toEqual([
      { index: 2, error: expect.objectContaining({ code: "IDEMPOTENCY_KEY_REUSED", field: "idempotencyKey" }) },
    ]);
    expect(await queuedCount(api.queues.queueOf("postgres"))).toBe(1);
  });

  it("accepts 1,000 valid items in one request", async () => {
    const jobs = Array.from({ length: 1000 }, (_, i) => ({ provider: "postgres", input: { name: `bulk_${i}` } }));
    const res = await bulk(jobs);
    expect(res.status).toBe(202);
    const body: Json = await res.json();
    expect(body).toMatchObject({ accepted: 1000, deduplicated: 0, rejected: [] });
    const batch: Json = await (await api.call("GET", `/v1/batches/${body.batchId}`)).json();
    expect(batch).toMatchObject({ total: 1000, counts: { queued: 1000 } });
  });

  it("answers a repeated request with the same jobs, deduplicated, and lists each in the second batch too", async () => {
    const jobs = [
      ...Array.from({ length: 150 }, (_, i) => ({ provider: "postgres", input: { name: `bulk_again_${i}` } })),
      { provider: "prisma", input: { projectId: "proj_again", name: "bulk_again_prisma" } },
    ];
    const first: Json = await (await bulk(jobs)).json();
    const res = await bulk(jobs);
    expect(res.status).toBe(202);
    const again: Json = await res.json();
    expect(again).toMatchObject({ accepted: 151, deduplicated: 151, rejected: [] });
    expect(again.jobs).toEqual(
      first.jobs.map((job: Json) => ({ index: job.index, id: job.id, status: "queued", deduplicated: true })),
    );
    const batch: Json = await (await api.call("GET", `/v1/batches/${again.batchId}`)).json();
    expect(batch).toMatchObject({ total: 151, counts: { queued: 151 } });
    // Each job is listed as a repeat in the second batch, so the worker's events move it there too.
    const prefix = api.queues.config.prefix;
    const listings = await Promise.all(
      first.jobs.map((job: Json) => {
        const queue = api.queues.queueOfJobId(job.id)?.queue.name;
        return api.queues.connection.smembers(`${prefix}:batch-of:${queue}:${job.id}`);
      }),
    );
    expect(listings.every((batches: string[]) => batches.length === 1 && batches[0] === again.batchId)).toBe(true);
  });

  it("answers 400 naming jobs for more than 1,000 items or none, queuing nothing", async () => {
    const before = await api.queues.queueOf("artie").getJobCounts();
    const item = (i: number) => ({ provider: "artie", input: { name: `over_${i}`, connector: {} } });
    for (const jobs of [Array.from({ length: 1001 }, (_, i) => item(i)), []]) {
      const res = await bulk(jobs);
      expect(res.status).toBe(400);
      expect(((await res.json()) as Json).error).toMatchObject({ code: "VALIDATION_ERROR", field: "jobs" });
    }
    expect(await api.queues.queueOf("artie").getJobCounts()).toEqual(before);
  });

  it("answers 400 naming callbackUrl for a private or malformed callbackUrl, queuing nothing", async () => {
    const before = await api.queues.queueOf("postgres").getJobCounts();
    for (const callbackUrl of [
      "http://127.0.0.1:9000/hooks",
      "http://10.0.0.5/hooks",
      "not a url",
      "ftp://hooks.example.com/",
    ]) {
      const res = await api.call("POST", "/v1/jobs/bulk", {
        body: { jobs: [{ provider: "postgres", input: { name: "bulk_cb_refused" } }], callbackUrl },
      });
      expect(res.status, callbackUrl).toBe(400);
      expect(((await res.json()) as Json).error).toMatchObject({ code: "VALIDATION_ERROR", field: "callbackUrl" });
    }
    expect(await api.queues.queueOf("postgres").getJobCounts()).toEqual(before);
  });

  it("queues the batch.finished notice for a bulk callbackUrl once its last job ends, and not before", async () => {
    const callbackUrl = "https://hooks.example.com/batches";
    const res = await api.call("POST", "/v1/jobs/bulk", {
      body: {
        jobs: [
          { provider: "postgres", input: { name: "bulk_cb_a" } },
          { provider: "bridgeport", input: bridgeportInput("bulk-cb-b") },
        ],
        callbackUrl,
      },
    });
    expect(res.status).toBe(202);
    const body: Json = await res.json();
    const noticeId = batchCallbackId(body.batchId);
    const [a, b] = body.jobs.map((job: Json) => ({
      id: job.id as string,
      queue: api.queues.queueOfJobId(job.id)?.queue.name as string,
    }));
    await setBatchStatuses(api.queues, a.queue, body.batchId, [{ id: a.id, status: "succeeded" }]);
    expect(await api.queues.callbacks.getJob(noticeId)).toBeUndefined();
    await setBatchStatuses(api.queues, b.queue, body.batchId, [{ id: b.id, status: "dead" }]);
    const notice = await api.queues.callbacks.getJob(noticeId);
    expect(notice?.data.url).toBe(callbackUrl);
    expect(notice?.data.event).toMatchObject({
      type: "batch.finished",
      data: { id: body.batchId, total: 2, counts: { succeeded: 1, dead: 1 }, dead: [{ id: b.id }] },
    });
  });

  it("answers 202 with everything rejected when no item is valid", async () => {
    const body: Json = await (await bulk([{ provider: "postgres", input: {} }])).json();
    expect(body).toMatchObject({ accepted: 0, rejected: [{ index: 0, error: { field: "input.name" } }], jobs: [] });
  });
  it("queues items in the bulk lane unless an item says otherwise; POST /v1/jobs defaults to interactive", async () => {
    const res = await bulk([
      { provider: "bridgeport", input: bridgeportInput("lane-a") },
      { provider: "bridgeport", input: bridgeportInput("lane-b"), lane: "interactive" },
      { provider: "bridgeport", input: bridgeportInput("lane-c"), lane: "express" },
    ]);
    const body: Json = await res.json();
    expect(body.rejected).toEqual([
      { index: 2, error: expect.objectContaining({ code: "VALIDATION_ERROR", field: "lane" }) },
    ]);
    const single: Json = await (
      await api.call("POST", "/v1/jobs", { body: { provider: "bridgeport", input: bridgeportInput("lane-d") } })
    ).json();
    const lanes = [];
    for (const id of [...body.jobs.map((job: Json) => job.id), single.id]) {
      lanes.push(((await (await api.call("GET", `/v1/jobs/${id}`)).json()) as Json).lane);
    }
    expect(lanes).toEqual(["bulk", "interactive", "interactive"]);
  });
});

describe("GET /v1/batches/{id}", () => {
  it("answers 404 for an unknown batch", async () => {
    const res = await api.call("GET", "/v1/batches/00000000-0000-4000-8000-000000000000");
    expect(res.status).toBe(404);
    expect(((await res.json()) as Json).error.code).toBe("NOT_FOUND");
  });
});
