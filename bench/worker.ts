// Worker throughput against the sandbox at zero latency, beside a bare BullMQ worker that
// makes the same HTTP call, on the same Redis, in the same run.
import { randomBytes, randomUUID } from "node:crypto";
import type { RedisConnection } from "@provisioner/queue";
import {
  createRedisConnection,
  deleteKeysWithPrefix,
  loadConfig,
  openQueues,
  type QueueSet,
  submitJobs,
} from "@provisioner/queue";
import { defaultSandboxTokens, sandboxProviderEnv, startSandbox } from "@provisioner/sandbox";
import { startWorkers } from "@provisioner/worker";
import { Queue, Worker } from "bullmq";
import { pino } from "pino";
import { median, type Result, waitForCompleted } from "./support.ts";

export async function benchWorker(options: { jobs: number; concurrency: number; rounds: number; redisUrl: string }) {
  const sandbox = await startSandbox();
  const connection = createRedisConnection(options.redisUrl, "worker");
  try {
    // Warm both paths (JIT, sockets, the sandbox) before measuring, then alternate rounds.
    const warmUp = { ...options, jobs: Math.min(300, options.jobs) };
    await bareWorker(warmUp, sandbox.url, connection);
    await provisionerWorker(warmUp, sandbox.url, connection);
    const bare: Result[] = [];
    const ours: Result[] = [];
    for (let round = 0; round < options.rounds; round++) {
      sandbox.state.reset();
      bare.push(await bareWorker(options, sandbox.url, connection));
      sandbox.state.reset();
      ours.push(await provisionerWorker(options, sandbox.url, connection));
    }
    return { bare: median(bare), ours: median(ours) };
  } finally {
    connection.disconnect();
    await sandbox.close();
  }
}

const bodyFor = (i: number) => ({
  name: `bench_${i}_${randomUUID().slice(0, 8)}`,
  type: "postgres",
  password: "bench-secret",
});

async function bareWorker(
  options: { jobs: number; concurrency: number },
  sandboxUrl: string,
  connection: RedisConnection,
) {
  const prefix = `bench-bare-${randomUUID().slice(0, 8)}`;
  const queue = new Queue("bridgeport", { connection, prefix });
  await queue.addBulk(Array.from({ length: options.jobs }, (_, i) => ({ name: "create-database", data: bodyFor(i) })));
  const started = performance.now();
  const worker = new Worker(
    "bridgeport",
    async (job) => {
      const response = await fetch(`${sandboxUrl}/bridgeport/api/environments/env_bench/databases`, {
        method: "POST",
        headers: {
          authorization: `Bearer ${defaultSandboxTokens.bridgeport}`,
          "content-type": "application/json",
          "idempotency-key": job.id as string,
        },
        body: JSON.stringify(job.data),
      });
      if (!response.ok) throw new Error(`status ${response.status}`);
      return response.json();
    },
    { connection, prefix, concurrency: options.concurrency },
  );
  await waitForCompleted(queue, options.jobs);
  const seconds = (performance.now() - started) / 1000;
  await worker.close();
  await queue.close();
  await deleteKeysWithPrefix(connection, prefix);
  return { jobs: options.jobs, seconds, jobsPerSecond: options.jobs / seconds };
}

async function provisionerWorker(
  options: { jobs: number; concurrency: number; redisUrl: string },
  sandboxUrl: string,
  connection: RedisConnection,
) {
  const prefix = `bench-ours-${randomUUID().slice(0, 8)}`;
  const config = loadConfig({
    REDIS_URL: options.redisUrl,
    QUEUE_PREFIX: prefix,
    PROVISIONER_ENCRYPTION_KEY: randomBytes(32).toString("base64"),
    ...sandboxProviderEnv(sandboxUrl),
  });
  config.providers.bridgeport.concurrency = options.concurrency;
  const queues: QueueSet = openQueues(config, connection);
  for (let offset = 0; offset < options.jobs; offset += 1_000) {
    const count = Math.min(1_000, options.jobs - offset);
    await submitJobs(
      queues,
      Array.from({ length: count }, (_, i) => ({
        provider: "bridgeport" as const,
        account: "default",
        input: { envId: "env_bench", ...bodyFor(offset + i) },
      })),
    );
  }
  const started = performance.now();
  const running = await startWorkers({
    queues,
    connection,
    logger: pino({ level: "silent" }),
    providers: ["bridgeport"],
  });
  await waitForCompleted(queues.queueOf("bridgeport"), options.jobs);
  const seconds = (performance.now() - started) / 1000;
  await running.close(1_000);
  await queues.close();
  await deleteKeysWithPrefix(connection, prefix);
  return { jobs: options.jobs, seconds, jobsPerSecond: options.jobs / seconds };
}
