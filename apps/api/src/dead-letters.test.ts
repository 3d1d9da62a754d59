import type { ProviderName } from "@provisioner/provider-client";
import { type AttemptError, createRedisConnection, indexDeath, setBatchStatuses } from "@provisioner/queue";
import { UnrecoverableError, Worker } from "bullmq";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { bridgeportInput, type Json, redisUrl, startTestApi, type TestApi } from "./test-support.ts";

const password = "dead-letter-pw-never-shown";
let api: TestApi;
let batchId: string;
/** Job ids by name: a, b, c, d, f are postgres; e is bridgeport. */
const ids: Record<string, string> = {};

const reason = (kind: AttemptError["kind"] = "invalid"): AttemptError => ({
  at: new Date().toISOString(),
  attempt: 1,
  kind,
  retryable: false,
  message: "x",
});

/** Runs a bare worker that fails every job of `provider` for good, until `done` says so. */
async function failUntil(provider: ProviderName, done: () => Promise<boolean>): Promise<void> {
  const connection = createRedisConnection(redisUrl, "worker");
  const worker = new Worker(
    api.queues.queueOf(provider).name,
    async () => {
      throw new UnrecoverableError("x");
    },
    { connection, prefix: api.queues.config.prefix },
  );
  try {
    const deadline = Date.now() + 10_000;
    while (!(await done())) {
      if (Date.now() > deadline) throw new Error(`${provider} jobs did not fail in time`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  } finally {
    await worker.close();
    await connection.quit();
  }
}

const failAll = (provider: ProviderName, count: number) =>
  failUntil(provider, async () => (await api.queues.queueOf(provider).getJobCounts("failed")).failed === count);

/**
 * The job dies as the worker's runner would have it: failed by BullMQ, its last attempt's
 * error logged, its kind indexed, and its batch told (the worker's `failed` event).
 */
async function kill(name: string, kind: AttemptError["kind"] = "invalid") {
  const id = ids[name] as string;
  const provider = id.startsWith("bridgeport") ? "bridgeport" : "postgres";
  const queue = api.queues.queueOf(provider);
  if ((await queue.getJobState(id)) !== "failed") {
    await failUntil(provider, async () => (await queue.getJobState(id)) === "failed");
  }
  const job = await queue.getJob(id);
  if (!job) throw new Error(`job ${id} is gone`);
  await job.log(JSON.stringify(reason(kind)));
  await indexDeath(api.queues, queue, id, kind);
  await setBatchStatuses(api.queues, queue.name, batchId, [{ id, status: "dead" }]);
}

/**
 * Leaves the postgres job listed among the dead while it has in fact finished since: what a
 * replay of many meets when another replay took the job after the listing was read.
 */
async function strand(name: string) {
  const id = ids[name] as string;
  const queue = api.queues.queueOf("postgres");
  await api.connection
    .multi()
    .lrem(queue.toKey("wait"), 0, id)
    .zadd(queue.toKey("completed"), Date.now(), id)
    .zadd(queue.toKey("failed"), Date.now(), id)
    .exec();
}

beforeAll(async () => {
  api = await startTestApi();
  const names = ["a", "b", "c", "d", "e", "f"];
  const res = await api.call("POST", "/v1/jobs/bulk", {
    body: {
      jobs: names.map((name) =>
        name === "e"
          ? { provider: "bridgeport", input: bridgeportInput("dl-e", password) }
          : { provider: "postgres", input: { name: `dl_${name}` } },
      ),
    },
  });
  const body: Json = await res.json();
  batchId = body.batchId;
  for (const job of body.jobs) ids[names[job.index] as string] = job.id;
  await Promise.all([failAll("postgres", 5), failAll("bridgeport", 1)]);
  for (const name of names) await kill(name, name === "c" ? "transient" : "invalid");
});
afterAll(async () => {
  await api.close();
});

const entry = (name: string) => api.call("GET", `/v1/dead-letters/${ids[name]}`);
const replay = (name: string, body?: unknown) =>
  api.call("POST", `/v1/dead-letters/${ids[name]}/replay`, body === undefined ? {} : { body });

describe("reading dead letters", () => {
  it("lists every dead letter, filtered by provider or kind, page by page", async () => {
    const all: Json = await (await api.call("GET", "/v1/dead-letters")).json();
    expect(all.total).toBe(6);
    const bridgeport: Json = await (await api.call("GET", "/v1/dead-letters?provider=bridgeport")).json();
    expect(bridgeport.deadLetters.map((d: Json) => d.id)).toEqual([ids.e]);
    const transient: Json = await (await api.call("GET", "/v1/dead-letters?kind=transient")).json();
    expect(transient.deadLetters.map((d: Json) => d.id)).toEqual([ids.c]);
    const first: Json = await (await api.call("GET", "/v1/dead-letters?limit=4")).json();
    expect(first).toMatchObject({ total: 6, nextCursor: expect.any(String) });
    expect(first.deadLetters).toHaveLength(4);
    const page: Json = await (await api.call("GET", `/v1/dead-letters?cursor=${first.nextCursor}&limit=10`)).json();
    expect(page).toMatchObject({ total: 6, nextCursor: null, deadLetters: [expect.anything(), expect.anything()] });
    const seen = [...first.deadLetters, ...page.deadLetters].map((d: Json) => d.id);
    expect(new Set(seen)).toEqual(new Set(Object.values(ids)));
  });

  it("shows one with its reason, errors and request, secrets removed", async () => {
    const res = await entry("e");
    expect(res.status).toBe(200);
    const text = await res.text();
    expect(text).not.toContain(password);
    expect(JSON.parse(text)).toMatchObject({
      id: ids.e,
      provider: "bridgeport",
      reason: { kind: "invalid", message: "x" },
      errors: [expect.objectContaining({ message: "x" })],
      request: { input: { name: "dl-e", password: "[redacted]" }, batchId },
    });
    expect(await (await api.call("GET", "/v1/dead-letters")).text()).not.toContain(password);
  });

  it("counts the batch's dead items", async () => {
    const batch: Json = await (await api.call("GET", `/v1/batches/${batchId}`)).json();
    expect(batch).toMatchObject({ total: 6, counts: { dead: 6 } });
    expect(batch.dead).toHaveLength(6);
    expect(batch.dead[0]).toEqual({ id: expect.any(String), reason: "x" });
  });

  it("answers 404 for an unknown dead letter on every route", async () => {
    for (const [method, path] of [
      ["GET", "/v1/dead-letters/postgres-nothing"],
      ["POST", "/v1/dead-letters/postgres-nothing/replay"],
      ["DELETE", "/v1/dead-letters/postgres-nothing"],
    ] as const) {
      const res = await api.call(method, path);
      expect(res.status).toBe(404);
      expect(((await res.json()) as Json).error.code).toBe("NOT_FOUND");
    }
  });
});

describe("replaying", () => {
  it("queues the job again under the same id and removes the entry", async () => {
    const res = await replay("a");
    expect(res.status).toBe(202);
    expect(await res.json()).toEqual({ id: ids.a, status: "queued" });
    expect(await api.queues.queueOf("postgres").getJobState(ids.a as string)).toBe("prioritized");
    expect((await entry("a")).status).toBe(404);
    const view: Json = await (await api.call("GET", `/v1/jobs/${ids.a}`)).json();
    expect(view).toMatchObject({ status: "queued", attempts: 0, input: { name: "dl_a" } });
  });

  it("answers 409 CONFLICT when the entry's job is no longer dead", async () => {
    await strand("a");
    const res = await replay("a");
    expect(res.status).toBe(409);
    expect(((await res.json()) as Json).error.code).toBe("CONFLICT");
  });

  it("answers 400 naming the input field when the corrected input is invalid, and changes nothing", async () => {
    const res = await replay("b", { input: { name: "1 not an identifier" } });
    expect(res.status).toBe(400);
    expect(((await res.json()) as Json).error).toMatchObject({ code: "VALIDATION_ERROR", field: "input.name" });
    expect((await entry("b")).status).toBe(200);
    expect(await api.queues.queueOf("postgres").getJobState(ids.b as string)).toBe("failed");
  });

  it("replays with a corrected input", async () => {
    const res = await replay("b", { input: { name: "dl_b_fixed" } });
    expect(res.status).toBe(202);
    const view: Json = await (await api.call("GET", `/v1/jobs/${ids.b}`)).json();
    expect(view).toMatchObject({ id: ids.b, status: "queued", input: { name: "dl_b_fixed" } });
  });

  it("replays many by kind, then all, skipping entries whose job is not dead", async () => {
    const none = await api.call("POST", "/v1/dead-letters/replay", { body: {} });
    expect(none.status).toBe(400);
    expect(((await none.json()) as Json).error).toMatchObject({ code: "VALIDATION_ERROR", field: "all" });

    const byKind = await api.call("POST", "/v1/dead-letters/replay", { body: { kind: "transient" } });
    expect(byKind.status).toBe(202);
    expect(await byKind.json()).toEqual({ replayed: 1, ids: [ids.c], skipped: [] });

    const everything: Json = await (await api.call("POST", "/v1/dead-letters/replay", { body: { all: true } })).json();
    expect(everything.replayed).toBe(3);
    expect([...everything.ids].sort()).toEqual([ids.d, ids.e, ids.f].sort());
    expect(everything.skipped).toEqual([ids.a]);
    expect(await api.queues.queueOf("bridgeport").getJobState(ids.e as string)).toBe("prioritized");
  });

  it("discards an entry: 204, then 404", async () => {
    await kill("f");
    expect((await api.call("DELETE", `/v1/dead-letters/${ids.f}`)).status).toBe(204);
    expect((await api.call("DELETE", `/v1/dead-letters/${ids.f}`)).status).toBe(404);
    expect((await entry("f")).status).toBe(404);
  });
});

describe("replaying many in calls of a bounded size", () => {
  it("replays every match once across calls with limit, each answer counting its part, until nextCursor is null", async () => {
    const res = await api.call("POST", "/v1/jobs/bulk", {
      body: { jobs: Array.from({ length: 7 }, (_, i) => ({ provider: "postgres", input: { name: `dl_many_${i}` } })) },
    });
    const fresh: string[] = ((await res.json()) as Json).jobs.map((job: Json) => job.id as string);
    const queue = api.queues.queueOf("postgres");
    await failUntil("postgres", async () =>
      (await Promise.all(fresh.map((id) => queue.getJobState(id)))).every((state) => state === "failed"),
    );
    for (const id of fresh) await indexDeath(api.queues, queue, id, "auth");

    const replayed: string[] = [];
    const perCall: number[] = [];
    let cursor: string | undefined;
    for (let call = 0; call < 10; call++) {
      const answer = await api.call("POST", "/v1/dead-letters/replay", {
        body: { kind: "auth", limit: 3, ...(cursor === undefined ? {} : { cursor }) },
      });
      expect(answer.status).toBe(202);
      const body: Json = await answer.json();
      expect(body.replayed).toBe(body.ids.length);
      perCall.push(body.replayed + body.skipped.length);
      replayed.push(...body.ids);
      if (body.nextCursor === null) break;
      cursor = body.nextCursor;
    }
    expect(perCall).toEqual([3, 3, 1]);
    expect(replayed.sort()).toEqual([...fresh].sort());
    for (const id of fresh) expect(await queue.getJobState(id)).not.toBe("failed");
  });
});
