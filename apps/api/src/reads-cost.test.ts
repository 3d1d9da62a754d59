import { randomUUID } from "node:crypto";
import {
  createRedisConnection,
  indexDeath,
  indexJobs,
  type JobData,
  jobIdFor,
  openQueues,
  type QueueSet,
  recordBatch,
  setBatchStatuses,
} from "@provisioner/queue";
import { type PrivateRedis, startPrivateRedis } from "@provisioner/testing";
import { afterAll, beforeAll, expect, it } from "vitest";
import { createApp } from "./app.ts";
import { adminToken, jsonRequest, silentLogger, testConfig, testTokens, waitUntilReady } from "./test-support.ts";

// Reads cost O(page): on a Redis of the test's own, where nothing else runs, the commands a
// read sends (INFO commandstats deltas) are the same over 200 dead letters as over 20,000,
// and a page of jobs of one status costs the same whatever the jobs of other statuses.

let redis: PrivateRedis;
let queues: QueueSet;
let connection: ReturnType<typeof createRedisConnection>;
let app: ReturnType<typeof createApp>;
let dead = 0;
const batchId = randomUUID();

beforeAll(async () => {
  redis = await startPrivateRedis({ appendOnly: false });
  connection = createRedisConnection(redis.url, "api");
  await waitUntilReady(connection);
  queues = openQueues(testConfig(), connection);
  app = createApp({ queues, tokens: testTokens, logger: silentLogger });
});
afterAll(async () => {
  await queues.close();
  await connection.quit();
  await redis.close();
});

const dataOf = (n: number, idempotencyKey: string, batch?: string): JobData => ({
  v: 1,
  provider: "postgres",
  account: "default",
  input: { name: `cost_${n}` },
  idempotencyKey,
  requestHash: "h",
  submissionId: randomUUID(),
  submittedAt: Date.now(),
  generation: 0,
  lane: "bulk",
  ...(batch ? { batchId: batch } : {}),
});

/**
 * Makes dead letters fast, shaped as BullMQ and the runner leave them: jobs added with
 * BullMQ, then moved to the failed set with finishedOn, failedReason and the logged attempt
 * error, indexed by kind, counted in one batch, and listed (as `dead`) in the job indexes.
 */
async function addDead(count: number): Promise<void> {
  const queue = queues.queueOf("postgres");
  for (let done = 0; done < count; done += 1000) {
    const size = Math.min(1000, count - done);
    const jobs = Array.from({ length: size }, (_, i) => {
      const n = dead + done + i;
      const idempotencyKey = `cost-${n}`;
      const kind: "invalid" | "auth" = n % 2 === 0 ? "invalid" : "auth";
      return {
        kind,
        id: jobIdFor("postgres", "default", idempotencyKey),
        data: dataOf(n, idempotencyKey, batchId),
      };
    });
    await queue.addBulk(jobs.map(({ id, data }) => ({ name: "create-database", data, opts: { jobId: id } })));
    const pipeline = connection.pipeline();
    const now = Date.now();
    for (const { id, kind } of jobs) {
      const attempt = { at: new Date(now).toISOString(), attempt: 1, kind, retryable: false, message: "x" };
      pipeline.lrem(queue.toKey("wait"), 1, id);
      pipeline.hset(queue.toKey(id), "finishedOn", now, "failedReason", "x", "atm", 1);
      pipeline.rpush(`${queue.toKey(id)}:logs`, JSON.stringify(attempt));
      pipeline.zadd(queue.toKey("failed"), now, id);
    }
    await pipeline.exec();
    for (const { id, kind } of jobs) await indexDeath(queues, queue, id, kind);
    await indexJobs(
      queues,
      queue.name,
      jobs.map(({ id, data }) => ({ id, submittedAt: data.submittedAt, status: "dead" })),
    );
    await recordBatch(
      queues,
      batchId,
      jobs.map(({ id }) => ({ id, status: "queued" })),
    );
    await setBatchStatuses(
      queues,
      queue.name,
      batchId,
      jobs.map(({ id }) => ({ id, status: "dead" })),
    );
  }
  dead += count;
}

/**
 * Makes jobs that are waiting (`queued`) or completed (`succeeded`), older than every dead
 * letter made after them, each listed in the job indexes at its status.
 */
async function addJobs(count: number, status: "queued" | "succeeded"): Promise<void> {
  const queue = queues.queueOf("postgres");
  const jobs = Array.from({ length: count }, (_, i) => {
    const idempotencyKey = `cost-${status}-${i}`;
    return { id: jobIdFor("postgres", "default", idempotencyKey), data: dataOf(i, idempotencyKey) };
  });
  await queue.addBulk(jobs.map(({ id, data }) => ({ name: "create-database", data, opts: { jobId: id } })));
  if (status === "succeeded") {
    const pipeline = connection.pipeline();
    const now = Date.now();
    const result = JSON.stringify({ outcome: "created", resource: {}, completedAt: new Date(now).toISOString() });
    for (const { id } of jobs) {
      pipeline.lrem(queue.toKey("wait"), 1, id);
      pipeline.hset(queue.toKey(id), "finishedOn", now, "returnvalue", result, "atm", 1);
      pipeline.zadd(queue.toKey("completed"), now, id);
    }
    await pipeline.exec();
  }
  await indexJobs(
    queues,
    queue.name,
    jobs.map(({ id, data }) => ({ id, submittedAt: data.submittedAt, status })),
  );
}

async function commandsSent(): Promise<number> {
  const stats = await connection.info("commandstats");
  return [...stats.matchAll(/calls=(\d+)/g)].reduce((sum, match) => sum + Number(match[1]), 0);
}

/** Calls per command name (commands run by scripts included), from INFO commandstats. */
async function callsByCommand(): Promise<Map<string, number>> {
  const stats = await connection.info("commandstats");
  return new Map([...stats.matchAll(/cmdstat_([\w|]+):calls=(\d+)/g)].map((m) => [m[1] as string, Number(m[2])]));
}

/** What one scrape of /metrics sends to Redis: every command it ran, with its count. */
async function scrape(): Promise<Record<string, number>> {
  const before = await callsByCommand();
  const res = await app.request("/metrics", { headers: { authorization: `Bearer ${adminToken}` } });
  expect(res.status).toBe(200);
  expect(await res.text()).toContain("provisioner_dead_letters");
  const after = await callsByCommand();
  const sent: Record<string, number> = {};
  for (const [name, calls] of after) {
    const delta = calls - (before.get(name) ?? 0);
    // A script is sent with EVAL the first time, EVALSHA after: one script call either way.
    const key = name === "eval" ? "evalsha" : name;
    if (delta > 0 && name !== "info") sent[key] = (sent[key] ?? 0) + delta;
  }
  return sent;
}
// Counts in O(1) each: sizes of sets and lists, the small per-label metrics hash, and the
// script calls (BullMQ's getCounts) that run them, which also look at a list's last element
// (LINDEX -1, for its marker). No range read, scan or key walk.
const constantTimeCommands = new Set([
  "zcard",
  "llen",
  "scard",
  "hlen",
  "hgetall",
  "lindex",
  "evalsha",
  "exists",
  "get",
]);

/** The Redis commands one request costs, and its answer. */
async function cost(path: string): Promise<{ commands: number; body: Record<string, unknown> }> {
  const before = await commandsSent();
  const res = await app.request(path, jsonRequest("GET", undefined, adminToken));
  expect(res.status).toBe(200);
  const body = (await res.json()) as Record<string, unknown>;
  return { commands: (await commandsSent()) - before, body };
}

const reads = [
  "/v1/dead-letters?limit=50",
  "/v1/dead-letters?kind=auth&limit=50",
  `/v1/batches/${batchId}`,
  "/v1/jobs?limit=50",
  "/v1/jobs?status=succeeded&limit=50",
  "/v1/jobs?status=queued&limit=50",
  "/v1/jobs?status=queued&provider=postgres&limit=50",
];

async function costs() {
  const all = [];
  for (const path of reads) {
    const first = await cost(path);
    // The second page, by the first's cursor.
    const cursor = (first.body.nextCursor ?? first.body.deadCursor) as string;
    const key = path.startsWith("/v1/batches") ? "deadCursor" : "cursor";
    const second = await cost(`${path}${path.includes("?") ? "&" : "?"}${key}=${cursor}`);
    all.push(first.commands, second.commands);
  }
  return all;
}

it("a page of 50 dead letters (any kind or one), a batch read, a page of 50 jobs (of any status or one) and a /metrics scrape cost the same over 20,000 as over 200", async () => {
  // 60 of each, so a status's first page is full and its second is not.
  await addJobs(60, "succeeded");
  await addJobs(60, "queued");
  await addDead(200);
  const small = await costs();
  const smallScrape = await scrape();
  const smallPage = await cost("/v1/dead-letters?kind=auth&limit=50");
  expect((smallPage.body.deadLetters as unknown[]).length).toBe(50);

  await addDead(19_800);
  const large = await costs();
  expect(large).toEqual(small);
  const largeScrape = await scrape();
  expect(largeScrape).toEqual(smallScrape);
  expect(Object.keys(largeScrape).filter((name) => !constantTimeCommands.has(name))).toEqual([]);
  const batch = await cost(`/v1/batches/${batchId}`);
  expect(batch.body).toMatchObject({ total: 20_000, finished: true, counts: { dead: 20_000 } });
  const page = await cost("/v1/dead-letters?kind=auth&limit=50");
  expect(page.body).toMatchObject({ total: 10_000 });
  expect((page.body.deadLetters as { reason: { kind: string } }[]).every((d) => d.reason.kind === "auth")).toBe(true);
  // The status pages passed over 20,000 newer dead jobs to the ones they list.
  for (const status of ["succeeded", "queued"]) {
    const jobs = (await cost(`/v1/jobs?status=${status}&limit=50`)).body.jobs as { status: string }[];
    expect(jobs.map((job) => job.status)).toEqual(Array(50).fill(status));
  }
}, 120_000);
