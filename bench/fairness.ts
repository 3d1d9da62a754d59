// Fairness within one account, against the sandbox with 50 ms of latency a call and
// concurrency 10: how soon an interactive job gets through 3,000 waiting bulk jobs, and how
// far a second bulk batch has come when the first, submitted just before it, finishes.
import { randomBytes, randomUUID } from "node:crypto";
import {
  createRedisConnection,
  deleteKeysWithPrefix,
  loadConfig,
  openQueues,
  type QueueSet,
  type RedisConnection,
  type SubmitRequest,
  submitJobs,
} from "@provisioner/queue";
import { sandboxProviderEnv, startSandbox } from "@provisioner/sandbox";
import { startWorkers } from "@provisioner/worker";
import { pino } from "pino";
import { waitForCompleted } from "./support.ts";

const latencyMs = 50;
const concurrency = 10;

export interface FairnessResult {
  /** From submitting one interactive job behind 3,000 waiting bulk jobs to its success. */
  interactiveSeconds: number;
  /** Share of the second of two 1,000-job batches done when the first finishes. */
  secondBatchDone: number;
}

export async function benchFairness(options: { redisUrl: string }): Promise<FairnessResult> {
  const sandbox = await startSandbox({ faults: [{ provider: "*", operation: "*", fault: "latency", latencyMs }] });
  const connection = createRedisConnection(options.redisUrl, "worker");
  try {
    const interactiveSeconds = await withAccount(options.redisUrl, sandbox.url, connection, interactiveBehindBulk);
    const secondBatchDone = await withAccount(options.redisUrl, sandbox.url, connection, twoBatches);
    return { interactiveSeconds, secondBatchDone };
  } finally {
    connection.disconnect();
    await sandbox.close();
  }
}

/** A fresh prefix, BRIDGEPORT's default account at concurrency 10, its worker; all removed after. */
async function withAccount<T>(
  redisUrl: string,
  sandboxUrl: string,
  connection: RedisConnection,
  run: (queues: QueueSet) => Promise<T>,
): Promise<T> {
  const prefix = `bench-fair-${randomUUID().slice(0, 8)}`;
  const config = loadConfig({
    REDIS_URL: redisUrl,
    QUEUE_PREFIX: prefix,
    PROVISIONER_ENCRYPTION_KEY: randomBytes(32).toString("base64"),
    ...sandboxProviderEnv(sandboxUrl),
  });
  config.providers.bridgeport.concurrency = concurrency;
  const queues = openQueues(config, connection);
  const running = await startWorkers({
    queues,
    connection,
    logger: pino({ level: "silent" }),
    providers: ["bridgeport"],
  });
  try {
    return await run(queues);
  } finally {
    await running.close(1_000);
    await queues.queueOf("bridgeport").obliterate({ force: true });
    await queues.close();
    await deleteKeysWithPrefix(connection, prefix);
  }
}

/** One bulk request's worth of BRIDGEPORT jobs, as POST /v1/jobs/bulk queues them. */
async function submitBatch(queues: QueueSet, count: number, lane: "bulk" | "interactive"): Promise<string[]> {
  const batchId = randomUUID();
  const requests: SubmitRequest[] = Array.from({ length: count }, () => ({
    provider: "bridgeport",
    account: "default",
    lane,
    batchId,
    input: { envId: "env_bench", name: `fair_${randomUUID().slice(0, 12)}`, type: "postgres", password: "pw" },
  }));
  const outcomes = await submitJobs(queues, requests);
  return outcomes.map((outcome) => outcome.id);
}

async function interactiveBehindBulk(queues: QueueSet): Promise<number> {
  for (let i = 0; i < 3; i++) await submitBatch(queues, 1_000, "bulk");
  // Let the account get busy with the bulk work first.
  await waitForCompleted(queues.queueOf("bridgeport"), 50);
  const started = performance.now();
  const [id] = await submitBatch(queues, 1, "interactive");
  const queue = queues.queueOf("bridgeport");
  for (;;) {
    const state = await queue.getJobState(id as string);
    if (state === "completed") return (performance.now() - started) / 1000;
    if (state === "failed") throw new Error("the interactive job failed");
    if (performance.now() - started > 120_000) throw new Error("the interactive job did not finish in 120 s");
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

async function twoBatches(queues: QueueSet): Promise<number> {
  const first = await submitBatch(queues, 1_000, "bulk");
  const second = await submitBatch(queues, 1_000, "bulk");
  const queue = queues.queueOf("bridgeport");
  await waitForCompleted(queue, 2_000);
  const finished = async (ids: readonly string[]) =>
    (await Promise.all(ids.map((id) => queue.getJob(id)))).map((job) => job?.finishedOn ?? Number.POSITIVE_INFINITY);
  const firstEnd = Math.max(...(await finished(first)));
  const secondDone = (await finished(second)).filter((at) => at <= firstEnd).length;
  return secondDone / second.length;
}
