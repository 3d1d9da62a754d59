import type { RedisConnection } from "@provisioner/queue";
import { createRedisConnection, openQueues, type QueueSet } from "@provisioner/queue";
import { UnrecoverableError, Worker } from "bullmq";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createApp } from "./app.ts";
import {
  bridgeportInput,
  type Json,
  jsonRequest,
  readerToken,
  redisUrl,
  silentLogger,
  startTestApi,
  type TestApi,
  testConfig,
  testTokens,
} from "./test-support.ts";

let api: TestApi;
beforeAll(async () => {
  api = await startTestApi();
});
afterAll(() => api.close());

const scrape = async (app = api.app) => {
  const res = await app.request("/metrics", jsonRequest("GET", undefined, readerToken));
  expect(res.status).toBe(200);
  expect(res.headers.get("content-type")).toMatch(/^text\/plain; version=0\.0\.4/);
  return res.text();
};

/** Fails the waiting job `id` for good, as the worker would, logging its last attempt's error. */
async function kill(id: string): Promise<void> {
  const connection = createRedisConnection(redisUrl, "worker");
  const worker = new Worker(
    api.queues.queueOf("bridgeport").name,
    async () => {
      throw new UnrecoverableError("x");
    },
    { connection, prefix: api.queues.config.prefix },
  );
  try {
    const deadline = Date.now() + 10_000;
    while ((await api.queues.queueOf("bridgeport").getJobState(id)) !== "failed") {
      if (Date.now() > deadline) throw new Error(`job ${id} did not fail in time`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  } finally {
    await worker.close();
    await connection.quit();
  }
  const job = await api.queues.queueOf("bridgeport").getJob(id);
  if (!job) throw new Error(`job ${id} is gone`);
  const at = new Date().toISOString();
  await job.log(JSON.stringify({ at, attempt: 1, kind: "invalid", retryable: false, message: "x" }));
}

describe("GET /metrics", () => {
  it("counts jobs by provider and status, and dead letters by provider, read on each scrape", async () => {
    const before = await scrape();
    expect(before).toContain('provisioner_jobs{provider="postgres",status="queued"} 0');
    expect(before).toContain('provisioner_dead_letters{provider="bridgeport"} 0');
    expect(before).toContain("provisioner_redis_up 1");

    await api.call("POST", "/v1/jobs/bulk", {
      body: { jobs: [1, 2, 3].map((i) => ({ provider: "postgres", input: { name: `metrics_${i}` } })) },
    });
    const { id }: Json = await (
      await api.call("POST", "/v1/jobs", { body: { provider: "bridgeport", input: bridgeportInput("metrics-dead") } })
    ).json();
    await kill(id);

    const after = await scrape();
    expect(after).toContain('provisioner_jobs{provider="postgres",status="queued"} 3');
    expect(after).toContain('provisioner_jobs{provider="bridgeport",status="dead"} 1');
    expect(after).toContain('provisioner_jobs{provider="artie",status="succeeded"} 0');
    expect(after).toContain('provisioner_dead_letters{provider="bridgeport"} 1');
    expect(after).toContain('provisioner_dead_letters{provider="postgres"} 0');
    expect(after).toMatch(/^provisioner_process_cpu_user_seconds_total \d/m);
  });

  it("labels requests by route pattern, never by the concrete path", async () => {
    await api.call("GET", "/v1/jobs/postgres-labelcheck123");
    await api.call("GET", "/v1/unknown-path-labelcheck");
    const text = await scrape();
    expect(text).toMatch(
      /^provisioner_http_requests_total\{method="GET",route="\/v1\/jobs\/:id",status="404"\} [1-9]/m,
    );
    expect(text).toMatch(/^provisioner_http_requests_total\{method="GET",route="unmatched",status="404"\} [1-9]/m);
    expect(text).toMatch(
      /^provisioner_http_request_duration_seconds_bucket\{le="\+Inf",method="GET",route="\/v1\/jobs\/:id"\} [1-9]/m,
    );
    expect(text).not.toContain("labelcheck");
  });

  it("never shows a secret or an input value", async () => {
    const password = "metrics-canary-pw-7d2e";
    const database = "metrics_canary_db_name";
    const res = await api.call("POST", "/v1/jobs", {
      body: { provider: "bridgeport", input: bridgeportInput(database, password), metadata: { team: "canary-team" } },
    });
    expect(res.status).toBe(202);
    const { id }: Json = await res.json();
    await api.call("GET", `/v1/jobs/${id}`);
    const text = await scrape();
    for (const value of [password, database, "canary-team", id]) expect(text).not.toContain(value);
  });

  it("keeps each app's counts apart", async () => {
    const other = createApp({ queues: api.queues, tokens: testTokens, logger: silentLogger });
    expect(await scrape(other)).not.toMatch(/^provisioner_http_requests_total\{[^}]*route="\/v1\/jobs\/:id"/m);
  });

  it("wants a bearer token with jobs:read", async () => {
    expect((await api.app.request("/metrics")).status).toBe(401);
    expect((await api.app.request("/metrics", jsonRequest("GET", undefined, "wrong"))).status).toBe(401);
  });
});

describe("GET /metrics while Redis is unreachable", () => {
  let connection: RedisConnection;
  let queues: QueueSet;
  beforeAll(() => {
    connection = createRedisConnection("redis://127.0.0.1:1", "api"); // nothing listens on port 1
    connection.on("error", () => {});
    queues = openQueues(testConfig(), connection);
  });
  afterAll(async () => {
    await queues.close();
    connection.disconnect();
  });

  it("answers at once with provisioner_redis_up 0 and no queue counts", async () => {
    const app = createApp({ queues, tokens: testTokens, logger: silentLogger });
    const started = Date.now();
    const text = await scrape(app);
    expect(Date.now() - started).toBeLessThan(1_000);
    expect(text).toMatch(/^provisioner_redis_up 0$/m);
    expect(text).not.toMatch(/^provisioner_jobs\{/m);
    expect(text).not.toMatch(/^provisioner_dead_letters\{/m);
  });
});
