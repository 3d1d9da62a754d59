import { randomBytes, randomUUID } from "node:crypto";
import {
  createRedisConnection,
  deleteKeysWithPrefix,
  openQueues,
  type QueueSet,
  type RedisConnection,
} from "@provisioner/queue";
import { type RunningSandbox, startSandbox } from "@provisioner/sandbox";
import { type RedisCluster, startRedisCluster } from "@provisioner/testing";
import { createLogger as createWorkerLogger, type RunningWorkers, startWorkers } from "@provisioner/worker";
import { Webhook } from "standardwebhooks";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type App, createApp } from "./app.ts";
import {
  adminToken,
  bridgeportInput,
  type Json,
  jsonRequest,
  sandboxConfig,
  silentLogger,
  testTokens,
  waitUntilReady,
} from "./test-support.ts";

// The API and workers on a real Redis Cluster (three masters started for this file). The
// prefix has no hash tag: each queue's own tag (`{provider.account}`) decides its slot.
const prefix = `test-cluster-${randomUUID().slice(0, 8)}`;
const secret = `whsec_${randomBytes(24).toString("base64")}`;
let cluster: RedisCluster;
let sandbox: RunningSandbox;
let apiConnection: RedisConnection;
let workerConnection: RedisConnection;
let apiQueues: QueueSet;
let workerQueues: QueueSet;
let workers: RunningWorkers;
let app: App;

beforeAll(async () => {
  cluster = await startRedisCluster();
  sandbox = await startSandbox();
  const base = sandboxConfig(sandbox.url, prefix, { REDIS_CLUSTER_NODES: cluster.nodes });
  const config = {
    ...base,
    sources: { billing: { secret } },
    triggers: [
      {
        source: "billing",
        event: "tenant.created",
        provider: "bridgeport" as const,
        account: "default",
        input: { envId: "env_test", name: "tenant_{{data.tenantId}}", type: "postgres" },
      },
    ],
  };
  apiConnection = createRedisConnection(config.redis, "api");
  await waitUntilReady(apiConnection);
  apiQueues = openQueues(config, apiConnection);
  workerConnection = createRedisConnection(config.redis, "worker");
  workerQueues = openQueues(config, workerConnection);
  workers = await startWorkers({
    queues: workerQueues,
    connection: workerConnection,
    logger: createWorkerLogger("silent"),
    tuning: { lockDurationMs: 5_000, stalledIntervalMs: 1_000 },
  });
  app = createApp({ queues: apiQueues, tokens: testTokens, logger: silentLogger });
}, 60_000);
// Stopping workers and a cluster on a loaded CI machine can outlast the default 20 s.
afterAll(async () => {
  await workers?.close(1_000);
  if (workerConnection) await deleteKeysWithPrefix(workerConnection, prefix);
  await Promise.all([apiQueues?.close(), workerQueues?.close()]);
  apiConnection?.disconnect();
  workerConnection?.disconnect();
  await sandbox?.close();
  await cluster?.stop();
}, 60_000);

const call = (method: string, path: string, body?: unknown) => app.request(path, jsonRequest(method, body));

async function waitForStatus(id: string, status: string, timeoutMs = 20_000): Promise<Json> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const response = await call("GET", `/v1/jobs/${id}`);
    const view: Json = response.status === 200 ? await response.json() : undefined;
    if (view?.status === status) return view;
    if (Date.now() > deadline) throw new Error(`job ${id} is ${view?.status ?? response.status}, never ${status}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

const bulkOf = (count: number, name: string) =>
  Array.from({ length: count }, () => ({
    provider: "bridgeport",
    input: bridgeportInput(`${name}_${randomUUID().slice(0, 8)}`),
  }));

describe("the API on a Redis Cluster", () => {
  it("is ready, on an ioredis Cluster connection", async () => {
    expect(apiConnection.isCluster).toBe(true);
    expect((await app.request("/readyz")).status).toBe(200);
  });

  it("queues a bulk of 1,000 as one batch, and the workers finish every job", async () => {
    const jobs = Array.from({ length: 1_000 }, (_, i) => ({
      provider: "bridgeport",
      input: bridgeportInput(`bulk_${i}_${randomUUID().slice(0, 6)}`),
    }));
    const response = await call("POST", "/v1/jobs/bulk", { jobs });
    expect(response.status).toBe(202);
    const body: Json = await response.json();
    expect(body).toMatchObject({ accepted: 1_000, deduplicated: 0, rejected: [] });
    const deadline = Date.now() + 45_000;
    let batch: Json;
    do {
      await new Promise((resolve) => setTimeout(resolve, 250));
      batch = await (await call("GET", `/v1/batches/${body.batchId}`)).json();
    } while (batch.counts.succeeded < 1_000 && Date.now() < deadline);
    expect(batch).toMatchObject({ total: 1_000, counts: { succeeded: 1_000, dead: 0 } });
  }, 60_000);

  it("answers a repeated submission with the same job", async () => {
    const request = { provider: "bridgeport", input: bridgeportInput(`once_${randomUUID().slice(0, 8)}`) };
    const headers = { "idempotency-key": `key-${randomUUID()}` };
    const [first, second] = await Promise.all(
      [1, 2].map(async () => (await app.request("/v1/jobs", jsonRequest("POST", request, adminToken, headers))).json()),
    );
    expect((second as Json).id).toBe((first as Json).id);
    await waitForStatus((first as Json).id, "succeeded");
  });

  it("keeps a dead letter and replays it through the API", async () => {
    sandbox.state.setFaults([{ provider: "bridgeport", fault: "error", status: 400 }]);
    const created: Json = await (
      await call("POST", "/v1/jobs", {
        provider: "bridgeport",
        input: bridgeportInput(`dead_${randomUUID().slice(0, 8)}`),
      })
    ).json();
    await waitForStatus(created.id, "dead");
    const letters: Json = await (await call("GET", "/v1/dead-letters")).json();
    expect(letters.deadLetters.map((letter: Json) => letter.id)).toContain(created.id);
    sandbox.state.setFaults([]);
    expect((await call("POST", `/v1/dead-letters/${created.id}/replay`)).status).toBe(202);
    await waitForStatus(created.id, "succeeded");
  });

  it("turns one signed event into its job", async () => {
    const body = JSON.stringify({
      type: "tenant.created",
      timestamp: new Date().toISOString(),
      data: { tenantId: "c1" },
    });
    const at = new Date();
    const id = `msg_${randomUUID()}`;
    const signed = await app.request("/v1/events/billing", {
      method: "POST",
      headers: {
        "content-type": "application/json",
        "webhook-id": id,
        "webhook-timestamp": String(Math.floor(at.getTime() / 1000)),
        "webhook-signature": new Webhook(secret).sign(id, at, body),
      },
      body,
    });
    expect(signed.status).toBe(202);
    const accepted: Json = await signed.json();
    expect(accepted.jobs).toHaveLength(1);
    await waitForStatus(accepted.jobs[0].id, "succeeded");
  });

  it("serves metrics and the dashboard", async () => {
    const metrics = await call("GET", "/metrics");
    expect(metrics.status).toBe(200);
    expect(await metrics.text()).toMatch(/provider="bridgeport",status="succeeded"\} [1-9]/);
    const basic = `Basic ${Buffer.from(`ops:${adminToken}`).toString("base64")}`;
    const page = await app.request("/admin/queues", { headers: { authorization: basic } });
    expect(page.status).toBe(200);
    expect(await page.text()).toContain("<html");
  });

  it("answers 503 with Retry-After while a master restarts, loses no accepted job, and recovers by itself", async () => {
    sandbox.state.setFaults([{ provider: "*", fault: "latency", latencyMs: 100 }]);
    // The master holding the queue these submissions go to.
    const master = await cluster.masterOf("{bridgeport.default}");
    const accepted: string[] = [];
    const unavailable: { retryAfter: string | null; code: string }[] = [];
    let notReady = 0;
    const submit = async () => {
      const response = await call("POST", "/v1/jobs", {
        provider: "bridgeport",
        input: bridgeportInput(`restart_${randomUUID().slice(0, 8)}`),
      });
      const body: Json = await response.json();
      if (response.status === 202) accepted.push(body.id);
      else if (response.status === 503)
        unavailable.push({ retryAfter: response.headers.get("retry-after"), code: body.error.code });
      else throw new Error(`unexpected ${response.status}: ${JSON.stringify(body)}`);
    };
    for (let i = 0; i < 20; i++) await submit();

    // A bulk in flight when the master goes: its MULTI meets the restart.
    const inflight = call("POST", "/v1/jobs/bulk", { jobs: bulkOf(1_000, "inflight") });
    await cluster.stopMaster(master);
    // Submissions keep arriving while the slots are down.
    const down = Date.now();
    while (unavailable.length < 3 || notReady === 0) {
      if (Date.now() - down > 15_000) throw new Error("the API never reported Redis unavailable");
      await submit();
      if ((await app.request("/readyz")).status === 503) notReady += 1;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    await cluster.startMaster(master);
    sandbox.state.setFaults([]);

    const up = Date.now();
    while ((await app.request("/readyz")).status !== 200) {
      if (Date.now() - up > 15_000) throw new Error("the API never became ready again");
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    const interrupted = await inflight;
    if (interrupted.status === 202)
      accepted.push(...((await interrupted.json()) as Json).jobs.map((job: Json) => job.id));
    else expect(interrupted.status).toBe(503);
    // A bulk runs one script many times in one MULTI, on a master whose script cache is empty.
    const bulk = await call("POST", "/v1/jobs/bulk", { jobs: bulkOf(20, "after") });
    expect(bulk.status).toBe(202);
    accepted.push(...((await bulk.json()) as Json).jobs.map((job: Json) => job.id));
    for (let i = 0; i < 5; i++) await submit();

    expect(unavailable.every(({ code, retryAfter }) => code === "REDIS_UNAVAILABLE" && Number(retryAfter) > 0)).toBe(
      true,
    );
    expect(accepted.length).toBeGreaterThanOrEqual(25);
    for (const id of accepted) await waitForStatus(id, "succeeded", 30_000);
    expect(sandbox.state.stats().duplicates).toEqual([]);
  }, 60_000);
});
