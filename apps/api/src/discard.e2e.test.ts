import { randomUUID } from "node:crypto";
import type { RedisConnection } from "@provisioner/queue";
import { createRedisConnection, deleteKeysWithPrefix, openQueues, type QueueSet } from "@provisioner/queue";
import { type RunningSandbox, startSandbox } from "@provisioner/sandbox";
import { createLogger as createWorkerLogger, type RunningWorkers, startWorkers } from "@provisioner/worker";
import { afterAll, beforeAll, expect, it } from "vitest";
import { type App, createApp } from "./app.ts";
import {
  bridgeportInput,
  type Json,
  jsonRequest,
  redisUrl,
  sandboxConfig,
  silentLogger,
  testTokens,
  waitUntilReady,
} from "./test-support.ts";

// The whole path: the API, workers that really call the sandbox, and a worker restart.
const prefix = `test-discard-${randomUUID().slice(0, 8)}`;
let sandbox: RunningSandbox;
let apiConnection: RedisConnection;
let workerConnection: RedisConnection;
let apiQueues: QueueSet;
let workerQueues: QueueSet;
let workers: RunningWorkers;
let app: App;

const startTheWorkers = () =>
  startWorkers({ queues: workerQueues, connection: workerConnection, logger: createWorkerLogger("silent") });

beforeAll(async () => {
  sandbox = await startSandbox();
  const config = sandboxConfig(sandbox.url, prefix);
  apiConnection = createRedisConnection(redisUrl, "api");
  await waitUntilReady(apiConnection);
  apiQueues = openQueues(config, apiConnection);
  workerConnection = createRedisConnection(redisUrl, "worker");
  workerQueues = openQueues(config, workerConnection);
  workers = await startTheWorkers();
  app = createApp({ queues: apiQueues, tokens: testTokens, logger: silentLogger });
});
afterAll(async () => {
  await workers.close(1_000);
  await deleteKeysWithPrefix(workerConnection, prefix);
  await Promise.all([apiQueues.close(), workerQueues.close()]);
  apiConnection.disconnect();
  workerConnection.disconnect();
  await sandbox.close();
});

const call = (method: string, path: string, body?: unknown) => app.request(path, jsonRequest(method, body));

async function waitForStatus(id: string, status: string): Promise<Json> {
  for (let i = 0; i < 300; i++) {
    const view: Json = await (await call("GET", `/v1/jobs/${id}`)).json();
    if (view.status === status) return view;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  throw new Error(`job ${id} never became ${status}`);
}

it("discards a dead letter for good: no restart, sweep or replay brings the job back, and its key is free", async () => {
  sandbox.state.setFaults([{ provider: "bridgeport", fault: "error", status: 400 }]);
  const request = { provider: "bridgeport", input: bridgeportInput(`discard_${randomUUID().slice(0, 8)}`) };
  const submitted: Json = await (await call("POST", "/v1/jobs", request)).json();
  const id: string = submitted.id;
  await waitForStatus(id, "dead");
  expect((await call("GET", `/v1/dead-letters/${id}`)).status).toBe(200);
  sandbox.state.setFaults([]);

  expect((await call("DELETE", `/v1/dead-letters/${id}`)).status).toBe(204);
  expect((await call("GET", `/v1/jobs/${id}`)).status).toBe(404);

  // A restarted worker finds nothing to bring back: the failed job was the dead letter.
  await workers.close(1_000);
  workers = await startTheWorkers();
  for (const waited = Date.now(); Date.now() - waited < 1_000; ) {
    expect((await call("GET", `/v1/dead-letters/${id}`)).status).toBe(404);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  const replayed: Json = await (await call("POST", "/v1/dead-letters/replay", { all: true })).json();
  expect(replayed.ids).not.toContain(id);
  expect((await call("GET", `/v1/jobs/${id}`)).status).toBe(404);
  const listed: Json = await (await call("GET", "/v1/dead-letters")).json();
  expect(listed.deadLetters.map((entry: Json) => entry.id)).not.toContain(id);

  // The key no longer names a job: the same request is a new job, and it can succeed.
  const again = await call("POST", "/v1/jobs", request);
  expect(again.status).toBe(202);
  expect(await again.json()).toMatchObject({ id, deduplicated: false });
  await waitForStatus(id, "succeeded");
});
