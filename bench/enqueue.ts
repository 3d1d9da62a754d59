// `POST /v1/jobs/bulk` over real HTTP, beside a bare BullMQ `addBulk` of the same bodies,
// on the same Redis, in the same run.
import { randomBytes, randomUUID } from "node:crypto";
import type { AddressInfo } from "node:net";
import { serve } from "@hono/node-server";
import type { RedisConnection } from "@provisioner/queue";
import { createRedisConnection, deleteKeysWithPrefix, loadConfig, openQueues } from "@provisioner/queue";
import { Queue } from "bullmq";
import { pino } from "pino";
import { createApp } from "../apps/api/src/app.ts";
import { singleTokenResolver } from "../apps/api/src/auth.ts";
import { median, type Result } from "./support.ts";

const token = "bench-token";
const bodies = (count: number, round: string) =>
  Array.from({ length: count }, (_, i) => ({
    envId: "env_bench",
    name: `bench_${round}_${i}`,
    type: "postgres",
    password: "bench-secret",
  }));

export async function benchEnqueue(options: { batchSize: number; batches: number; rounds: number; redisUrl: string }) {
  const connection = createRedisConnection(options.redisUrl, "worker");
  try {
    const warmUp = { ...options, batches: 2 };
    await bareAddBulk(warmUp, connection);
    await apiBulk(warmUp);
    const bare: Result[] = [];
    const ours: Result[] = [];
    for (let round = 0; round < options.rounds; round++) {
      bare.push(await bareAddBulk(options, connection));
      ours.push(await apiBulk(options));
    }
    return { bare: median(bare), ours: median(ours) };
  } finally {
    connection.disconnect();
  }
}

/** `Queue.addBulk` of `batches` batches, one after another, in this process: no HTTP, no server. */
export async function bareAddBulk(
  options: { batchSize: number; batches: number },
  connection: RedisConnection,
): Promise<Result & { cpuMicrosPerBatch: number }> {
  const prefix = `bench-bare-${randomUUID().slice(0, 8)}`;
  const queue = new Queue("bridgeport", { connection, prefix });
  const started = performance.now();
  const cpuBefore = process.cpuUsage();
  for (let batch = 0; batch < options.batches; batch++) {
    await queue.addBulk(bodies(options.batchSize, `${batch}`).map((data) => ({ name: "create-database", data })));
  }
  const cpu = process.cpuUsage(cpuBefore);
  const seconds = (performance.now() - started) / 1000;
  await queue.close();
  await deleteKeysWithPrefix(connection, prefix);
  const jobs = options.batchSize * options.batches;
  return { jobs, seconds, jobsPerSecond: jobs / seconds, cpuMicrosPerBatch: (cpu.user + cpu.system) / options.batches };
}

async function apiBulk(options: { batchSize: number; batches: number; redisUrl: string }): Promise<Result> {
  const prefix = `bench-api-${randomUUID().slice(0, 8)}`;
  const config = loadConfig({
    REDIS_URL: options.redisUrl,
    QUEUE_PREFIX: prefix,
    PROVISIONER_ENCRYPTION_KEY: randomBytes(32).toString("base64"),
    BRIDGEPORT_API_URL: "http://127.0.0.1:9/bridgeport",
  });
  const connection = createRedisConnection(options.redisUrl, "api");
  await new Promise((resolve) => connection.once("ready", resolve));
  const queues = openQueues(config, connection);
  const app = createApp({ queues, tokens: singleTokenResolver(token), logger: pino({ level: "silent" }) });
  const server = serve({ fetch: app.fetch, hostname: "127.0.0.1", port: 0 });
  await new Promise((resolve) => server.once("listening", resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1/jobs/bulk`;

  const started = performance.now();
  for (let batch = 0; batch < options.batches; batch++) {
    const response = await fetch(url, {
      method: "POST",
      headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
      body: JSON.stringify({
        jobs: bodies(options.batchSize, `${batch}`).map((input) => ({ provider: "bridgeport", input })),
      }),
    });
    const answer = (await response.json()) as { accepted: number };
    if (response.status !== 202 || answer.accepted !== options.batchSize)
      throw new Error(`bulk answered ${response.status}`);
  }
  const seconds = (performance.now() - started) / 1000;
  await new Promise((resolve) => server.close(resolve));
  await deleteKeysWithPrefix(connection, prefix);
  await queues.close();
  await connection.quit();
  const jobs = options.batchSize * options.batches;
  return { jobs, seconds, jobsPerSecond: jobs / seconds };
}
