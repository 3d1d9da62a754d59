import type { RedisConnection } from "@provisioner/queue";
import { createRedisConnection, openQueues, type QueueSet } from "@provisioner/queue";
import { type PrivateRedis, startPrivateRedis } from "@provisioner/testing";
import { afterAll, beforeAll, expect, it } from "vitest";
import { type App, createApp } from "./app.ts";
import {
  adminToken,
  bridgeportInput,
  jsonRequest,
  queuedCount,
  silentLogger,
  testConfig,
  testTokens,
  waitUntilReady,
} from "./test-support.ts";

let redis: PrivateRedis;
let connection: RedisConnection;
let queues: QueueSet;
let app: App;

beforeAll(async () => {
  redis = await startPrivateRedis();
  const config = { ...testConfig(), redisUrl: redis.url };
  connection = createRedisConnection(redis.url, "api");
  await waitUntilReady(connection);
  queues = openQueues(config, connection);
  app = createApp({ queues, tokens: testTokens, logger: silentLogger });
});
afterAll(async () => {
  await queues.close();
  connection.disconnect();
  await redis.close();
});

const submit = (name: string) =>
  app.request("/v1/jobs", jsonRequest("POST", { provider: "bridgeport", input: bridgeportInput(name) }, adminToken));

async function eventually(check: () => Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error("condition not met in time");
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

it("answers 503 with Retry-After while its Redis is down, and recovers by itself when Redis returns, keeping what it accepted", async () => {
  const before = await submit("before-outage");
  expect(before.status).toBe(202);
  const { id } = (await before.json()) as { id: string };

  await redis.stop();
  await eventually(async () => (await submit("during-outage")).status === 503);
  const during = await submit("during-outage");
  expect(during.status).toBe(503);
  expect(during.headers.get("retry-after")).toBe("5");
  expect(((await during.json()) as { error: { code: string } }).error.code).toBe("REDIS_UNAVAILABLE");
  expect((await app.request("/readyz")).status).toBe(503);
  expect((await app.request("/healthz")).status).toBe(200);

  await redis.start();
  await eventually(async () => (await app.request("/readyz")).status === 200);
  expect((await submit("after-outage")).status).toBe(202);
  // What was accepted before the outage is still there: the append-only file kept it.
  const kept = await app.request(`/v1/jobs/${id}`, jsonRequest("GET", undefined, adminToken));
  expect(kept.status).toBe(200);
  expect(((await kept.json()) as { status: string }).status).toBe("queued");
  // The request refused during the outage queued nothing.
  expect(await queuedCount(queues.queueOf("bridgeport"))).toBe(2);
});
