import { randomUUID } from "node:crypto";
import type { RedisConnection } from "@provisioner/queue";
import { createRedisConnection, deleteKeysWithPrefix, openQueues, type QueueSet } from "@provisioner/queue";
import { startSandbox } from "@provisioner/sandbox";
import { readAllValues } from "@provisioner/testing";
import { createLogger as createWorkerLogger, type RunningWorkers, startWorkers } from "@provisioner/worker";
import { afterAll, beforeAll, expect, it } from "vitest";
import { type App, createApp } from "./app.ts";
import { createLogger } from "./logger.ts";
import {
  adminToken,
  jsonRequest,
  readerToken,
  redisUrl,
  sandboxConfig,
  testTokens,
  waitUntilReady,
} from "./test-support.ts";

// Canaries: values that must never be seen anywhere but `GET /v1/jobs/{id}/secrets`.
const bridgeportPassword = `canary-bp-${randomUUID()}`;
const artiePassword = `canary-artie-${randomUUID()}`;
const correctedPassword = `canary-fix-${randomUUID()}`;

const logLines: string[] = [];
const sink = { write: (line: string) => void logLines.push(line) };
const prefix = `test-canary-${randomUUID().slice(0, 8)}`;
let sandbox: Awaited<ReturnType<typeof startSandbox>>;
let apiConnection: RedisConnection;
let workerConnection: RedisConnection;
let apiQueues: QueueSet;
let workerQueues: QueueSet;
let workers: RunningWorkers;
let app: App;

beforeAll(async () => {
  sandbox = await startSandbox();
  const config = sandboxConfig(sandbox.url, prefix);
  apiConnection = createRedisConnection(redisUrl, "api");
  await waitUntilReady(apiConnection);
  apiQueues = openQueues(config, apiConnection);
  workerConnection = createRedisConnection(redisUrl, "worker");
  workerQueues = openQueues(config, workerConnection);
  workers = await startWorkers({
    queues: workerQueues,
    connection: workerConnection,
    logger: createWorkerLogger("debug", sink),
  });
  app = createApp({ queues: apiQueues, tokens: testTokens, logger: createLogger({ level: "debug" }, sink) });
});
afterAll(async () => {
  await workers.close(1_000);
  await deleteKeysWithPrefix(workerConnection, prefix);
  await Promise.all([apiQueues.close(), workerQueues.close()]);
  apiConnection.disconnect();
  workerConnection.disconnect();
  await sandbox.close();
});

/** Every answer the test reads, so the scan covers what a client could have seen. */
const seen: { path: string; body: string }[] = [];
async function call(method: string, path: string, body?: unknown, token = readerToken) {
  const response = await app.request(path, jsonRequest(method, body, token));
  const text = await response.text();
  seen.push({ path, body: text });
  return { status: response.status, json: () => JSON.parse(text) };
}

async function waitTerminal(id: string): Promise<string> {
  for (let i = 0; i < 300; i++) {
    const { json } = await call("GET", `/v1/jobs/${id}`);
    const { status } = json() as { status: string };
    if (status === "succeeded" || status === "dead") return status;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  throw new Error(`job ${id} did not finish`);
}

const bridgeport = (name: string, password = bridgeportPassword) => ({
  provider: "bridgeport",
  input: { envId: "env_canary", name, type: "postgres", password },
});
const artie = (name: string) => ({
  provider: "artie",
  input: { name, connector: { type: "snowflake", uuid: "c1", sharedConfig: { user: "u", password: artiePassword } } },
});

it("keeps every secret out of Redis, logs, API answers, the dashboard and metrics, through success, death and replay", async () => {
  // Success, one by one and in bulk.
  const ok = (await call("POST", "/v1/jobs", bridgeport("ok-1"), adminToken)).json().id as string;
  const bulk = (
    await call(
      "POST",
      "/v1/jobs/bulk",
      { jobs: [artie("ok-2"), { provider: "prisma", input: { projectId: "proj_canary1", name: "ok-3" } }] },
      adminToken,
    )
  ).json() as { batchId: string; jobs: { id: string }[] };
  const [artieOk, prismaOk] = bulk.jobs.map((job) => job.id) as [string, string];
  for (const id of [ok, artieOk, prismaOk]) expect(await waitTerminal(id)).toBe("succeeded");

  // Death: a 400 at once, and a 5xx until attempts run out.
  sandbox.state.setFaults([
    { provider: "bridgeport", fault: "error", status: 400 },
    { provider: "artie", fault: "error", status: 500 },
  ]);
  const deadBridgeport = (await call("POST", "/v1/jobs", bridgeport("dead-1"), adminToken)).json().id as string;
  const deadArtie = (await call("POST", "/v1/jobs", artie("dead-2"), adminToken)).json().id as string;
  for (const id of [deadBridgeport, deadArtie]) expect(await waitTerminal(id)).toBe("dead");

  // Replay with a corrected request carrying a new secret.
  sandbox.state.setFaults([]);
  expect(
    (
      await call(
        "POST",
        `/v1/dead-letters/${deadBridgeport}/replay`,
        { input: bridgeport("dead-1", correctedPassword).input },
        adminToken,
      )
    ).status,
  ).toBe(202);
  expect(await waitTerminal(deadBridgeport)).toBe("succeeded");

  // Everything a client can read.
  await call("GET", "/v1/jobs?limit=50");
  await call("GET", `/v1/batches/${bulk.batchId}`);
  await call("GET", "/v1/dead-letters", undefined, adminToken);
  await call("GET", `/v1/dead-letters/${deadArtie}`, undefined, adminToken);
  for (const id of [ok, artieOk, prismaOk, deadBridgeport, deadArtie]) await call("GET", `/v1/jobs/${id}`);
  await call("GET", "/metrics");
  const basic = `Basic ${Buffer.from(`ops:${readerToken}`).toString("base64")}`;
  for (const queue of ["{artie.default}", "{bridgeport.default}", "{prisma.default}", "dead-letters"]) {
    for (const status of ["completed", "failed", "waiting", "prioritized"]) {
      const active = encodeURIComponent(queue);
      const response = await app.request(`/admin/queues/api/queues?activeQueue=${active}&status=${status}&page=1`, {
        headers: { authorization: basic },
      });
      seen.push({ path: `dashboard ${queue} ${status}`, body: await response.text() });
    }
  }

  // Positive control: the secrets are there, for a token with secrets:read.
  const secretsOf = async (id: string) =>
    (await app.request(`/v1/jobs/${id}/secrets`, jsonRequest("GET", undefined, adminToken))).json();
  const okSecrets = JSON.stringify(await secretsOf(ok));
  expect(okSecrets).toContain(bridgeportPassword);
  const prismaSecrets = (await secretsOf(prismaOk)) as { result: Record<string, string> };
  const connectionStrings = Object.values(prismaSecrets.result);
  expect(connectionStrings.length).toBeGreaterThan(0);
  expect((await app.request(`/v1/jobs/${ok}/secrets`, jsonRequest("GET", undefined, readerToken))).status).toBe(403);

  // The scan.
  const passwordsInConnectionStrings = connectionStrings.map((url) => new URL(url).password);
  const canaries = [
    bridgeportPassword,
    artiePassword,
    correctedPassword,
    adminToken,
    readerToken,
    ...connectionStrings,
    ...passwordsInConnectionStrings,
  ];
  const places: [string, string][] = [
    ...seen.map(({ path, body }): [string, string] => [`answer to ${path}`, body]),
    ...logLines.map((line, i): [string, string] => [`log line ${i}`, line]),
    ...(await readAllValues(apiConnection, prefix)).map((value, i): [string, string] => [`redis value ${i}`, value]),
  ];
  expect(seen.length).toBeGreaterThan(20);
  expect(logLines.length).toBeGreaterThan(10);
  const hits = places.flatMap(([where, text]) =>
    canaries.filter((canary) => text.includes(canary)).map((canary) => `${where}: ${canary.slice(0, 12)}…`),
  );
  expect(hits).toEqual([]);
});
