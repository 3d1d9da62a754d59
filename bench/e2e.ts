// End to end: N rows through `provisioner bulk` → the API → one worker process → the
// sandbox at zero latency, beside a bare BullMQ pipeline doing the same creates (`addBulk` of
// the same bodies in chunks of 1,000, one `Worker` at the same concurrency calling the
// sandbox with `fetch`, in its own process), on the same Redis in the same run. Every process
// is a child started as the chaos run starts them (chaos/src/services.ts); their RSS is
// sampled every 500 ms beside the run's progress, and the run's keys are weighed in Redis
// before they are deleted.
import { type ChildProcess, spawn } from "node:child_process";
import { randomBytes, randomUUID } from "node:crypto";
import { createWriteStream, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { queueNameOf } from "@provisioner/queue";
import { defaultSandboxTokens, sandboxProviderEnv } from "@provisioner/sandbox";
import { Queue } from "bullmq";
import { Redis } from "ioredis";
import { createProcessGroup, type ProcessGroup } from "../chaos/src/processes.ts";
import { type StackEnv, startApiProcess, startSandboxProcess, startWorkerProcess } from "../chaos/src/services.ts";
import {
  allFinishedAt,
  type MemoryProfile,
  memoryProfile,
  type RedisFootprint,
  redisFootprint,
  type Sample,
  sampleProcesses,
  usedMemory,
} from "./e2e-measure.ts";

const cliMain = fileURLToPath(new URL("../apps/cli/src/main.ts", import.meta.url));
const bareWorkerMain = fileURLToPath(new URL("./servers/bare-worker.ts", import.meta.url));

/** The worker's default concurrency per account (packages/queue config); the bare worker gets the same. */
export const defaultE2eConcurrency = 10;

export interface E2eOptions {
  rows: number;
  redisUrl: string;
  concurrency?: number;
  /** Write the API's and the worker's CPU profiles (`--cpu-prof`) into this folder. */
  cpuProfileDir?: string | undefined;
}

export interface SideResult {
  seconds: number;
  /** When the last job finished (sampled every 500 ms); the rest of `seconds` is the CLI's summary. */
  allFinishedSeconds: number;
  finished: number;
  memory: Record<string, MemoryProfile>;
  redis: RedisFootprint;
  /** `used_memory` after the run minus before it (other users of the Redis move it too). */
  usedMemoryDelta: number;
}

export interface E2eResult {
  rows: number;
  concurrency: number;
  ours: SideResult;
  bare: SideResult;
  /** Redis's key count before and after (others share it), and the run's keys left after clean-up. */
  dbsize: { before: number; after: number; left: number };
  /** Redis's `hash-max-listpack-value` (README, Redis settings), or null where CONFIG is refused. */
  hashListpackValue: number | null;
}

const template = { envId: "env_bench", name: "{{name}}", type: "postgres", password: "bench-secret" };
const bodyOf = (run: string, i: number) => ({ ...template, name: `e2e_${run}_${i}` });

export async function benchE2e(options: E2eOptions): Promise<E2eResult> {
  const concurrency = options.concurrency ?? defaultE2eConcurrency;
  let dir = mkdtempSync(join(tmpdir(), "provisioner-e2e-"));
  const run = randomUUID().slice(0, 8);
  const file = join(dir, "tenants.jsonl");
  const lines: string[] = [];
  for (let i = 0; i < options.rows; i++) lines.push(JSON.stringify({ name: bodyOf(run, i).name }));
  writeFileSync(file, `${lines.join("\n")}\n`);

  const redis = new Redis(options.redisUrl, { maxRetriesPerRequest: null });
  const group = createProcessGroup(dir);
  const prefixes = { ours: `bench-e2e-${run}-ours`, bare: `bench-e2e-${run}-bare` };
  const before = await redis.dbsize();
  const hashListpackValue = await redis
    .config("GET", "hash-max-listpack-value")
    .then((reply) => Number((reply as string[])[1]))
    .catch(() => null);
  try {
    const side = { ...options, cpuProfileDir: options.cpuProfileDir, concurrency, dir, file, redis, group };
    const ours = await runOurs(side, prefixes.ours);
    const bare = await runBare(side, prefixes.bare, run);
    const left = await cleanUp();
    const dbsize = { before, after: await redis.dbsize(), left };
    return { rows: options.rows, concurrency, ours, bare, dbsize, hashListpackValue };
  } catch (error) {
    await cleanUp();
    console.error(`the processes' logs are kept in ${dir}`);
    dir = "";
    throw error;
  } finally {
    redis.disconnect();
    if (dir) rmSync(dir, { recursive: true, force: true });
  }

  /** Stops every child, deletes the run's keys, then counts what is left of them (0). */
  async function cleanUp(): Promise<number> {
    await group.stopAll();
    const sweep = async (remove: boolean) => {
      let found = 0;
      // The prefix's keys, and the ones named with it as a hash tag (the finished-jobs counter).
      for (const pattern of Object.values(prefixes).flatMap((prefix) => [`${prefix}:*`, `{${prefix}:*`])) {
        let cursor = "0";
        do {
          const [next, keys] = await redis.scan(cursor, "MATCH", pattern, "COUNT", 1000);
          found += keys.length;
          if (remove && keys.length > 0) await redis.unlink(...keys);
          cursor = next;
        } while (cursor !== "0");
      }
      return found;
    };
    await sweep(true);
    return sweep(false);
  }
}

interface Side extends Required<Omit<E2eOptions, "cpuProfileDir">> {
  cpuProfileDir: string | undefined;
  dir: string;
  file: string;
  redis: Redis;
  group: ProcessGroup;
}

/** A generous bound: the slowest measured rate was several hundred jobs a second. */
const deadlineFor = (rows: number) => 120_000 + rows * 20;

async function runOurs(side: Side, prefix: string): Promise<SideResult> {
  const sandbox = await startSandboxProcess(side.group);
  const env: StackEnv = {
    apiToken: randomBytes(24).toString("base64url"),
    common: {
      PATH: process.env.PATH ?? "",
      LOG_LEVEL: "info",
      REDIS_URL: side.redisUrl,
      QUEUE_PREFIX: prefix,
      PROVISIONER_ENCRYPTION_KEY: randomBytes(32).toString("base64"),
      ...sandboxProviderEnv(sandbox.url),
    },
    worker: {},
  };
  if (side.cpuProfileDir) env.common.NODE_OPTIONS = `--cpu-prof --cpu-prof-dir=${side.cpuProfileDir}`;
  if (side.concurrency !== defaultE2eConcurrency) {
    const config = join(side.dir, "provisioner.json");
    writeFileSync(config, JSON.stringify({ providers: { bridgeport: { concurrency: side.concurrency } } }));
    env.common.PROVISIONER_CONFIG = config;
  }
  const api = await startApiProcess(side.group, env);
  const worker = await startWorkerProcess(side.group, env, "worker");
  const queue = new Queue(queueNameOf("bridgeport", "default"), { connection: side.redis, prefix });
  const usedBefore = await usedMemory(side.redis);

  const started = performance.now();
  const cli = spawnCli(side, api.url, env.apiToken);
  const pids: Record<string, number> = { api: api.child.pid, worker: worker.pid, cli: cli.pid ?? -1 };
  const sampler = sampleProcesses(
    () => pids,
    () => finishedOf(queue),
  );
  const cliExit = new Promise<string>((resolve) =>
    cli.once("exit", (code) => resolve(`provisioner bulk exited ${code}`)),
  );
  // The CLI would wait forever on jobs no one runs: stop it if the API or the worker dies, or at the deadline.
  let deadline: NodeJS.Timeout | undefined;
  const outcome = await Promise.race([
    cliExit,
    api.child.exited.then((exit) => `the API exited (${exit.code ?? exit.signal}); see ${api.child.logFile}`),
    worker.exited.then((exit) => `the worker exited (${exit.code ?? exit.signal}); see ${worker.logFile}`),
    new Promise<string>((resolve) => {
      deadline = setTimeout(() => resolve("the run outlasted its deadline"), deadlineFor(side.rows));
    }),
  ]);
  clearTimeout(deadline);
  const seconds = (performance.now() - started) / 1000;
  const samples = await sampler.stop();
  if (outcome !== "provisioner bulk exited 0") {
    cli.kill("SIGKILL");
    throw new Error(`${outcome}; the CLI's output is in ${join(side.dir, "cli.log")}`);
  }

  await worker.stop();
  await api.child.stop();
  await sandbox.child.stop();
  return finish(side, queue, prefix, seconds, samples, usedBefore, ["api", "worker", "cli"]);
}

function spawnCli(side: Side, apiUrl: string, token: string): ChildProcess {
  const log = createWriteStream(join(side.dir, "cli.log"));
  const args = ["bulk", side.file, "--provider", "bridgeport", "--template", JSON.stringify(template)];
  // Run as a user runs it (`provisioner …`): the file itself, whose #! line gives Node its heap settings.
  const cli = spawn(cliMain, args, {
    env: {
      PATH: process.env.PATH ?? "",
      PROVISIONER_API_URL: apiUrl,
      PROVISIONER_TOKEN: token,
      ...(side.cpuProfileDir ? { NODE_OPTIONS: `--cpu-prof --cpu-prof-dir=${side.cpuProfileDir}` } : {}),
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  cli.stdout?.pipe(log);
  cli.stderr?.pipe(log);
  return cli;
}

async function runBare(side: Side, prefix: string, run: string): Promise<SideResult> {
  const sandbox = await startSandboxProcess(side.group);
  const worker = await side.group.spawn({
    name: "bare-worker",
    command: process.execPath,
    args: [
      bareWorkerMain,
      side.redisUrl,
      prefix,
      sandbox.url,
      defaultSandboxTokens.bridgeport,
      String(side.concurrency),
    ],
    env: { PATH: process.env.PATH ?? "" },
    readyWhen: "bare worker ready",
  });
  const queue = new Queue("bridgeport", { connection: side.redis, prefix });
  const usedBefore = await usedMemory(side.redis);
  // The product's retention: finished jobs are kept for 7 days, dead ones for 30.
  const retention = { removeOnComplete: { age: 7 * 86_400 }, removeOnFail: { age: 30 * 86_400 } };

  const started = performance.now();
  const sampler = sampleProcesses(
    () => ({ "bare worker": worker.pid }),
    () => finishedOf(queue),
  );
  for (let offset = 0; offset < side.rows; offset += 1_000) {
    const count = Math.min(1_000, side.rows - offset);
    await queue.addBulk(
      Array.from({ length: count }, (_, i) => ({
        name: "create-database",
        data: bodyOf(run, offset + i),
        opts: retention,
      })),
    );
  }
  await sampler.reached(side.rows, deadlineFor(side.rows));
  const seconds = (performance.now() - started) / 1000;
  const samples = await sampler.stop();

  await worker.stop();
  await sandbox.child.stop();
  return finish(side, queue, prefix, seconds, samples, usedBefore, ["bare worker"]);
}

async function finishedOf(queue: Queue): Promise<number> {
  const counts = await queue.getJobCounts("completed", "failed");
  return (counts.completed ?? 0) + (counts.failed ?? 0);
}

async function finish(
  side: Side,
  queue: Queue,
  prefix: string,
  seconds: number,
  samples: readonly Sample[],
  usedBefore: number,
  names: readonly string[],
): Promise<SideResult> {
  const counts = await queue.getJobCounts("completed", "failed");
  if ((counts.failed ?? 0) > 0) throw new Error(`${counts.failed} jobs failed under ${prefix}`);
  const finished = counts.completed ?? 0;
  if (finished !== side.rows) throw new Error(`${finished} of ${side.rows} jobs completed under ${prefix}`);
  await queue.close();
  const usedMemoryDelta = (await usedMemory(side.redis)) - usedBefore;
  const memory = Object.fromEntries(names.map((name) => [name, memoryProfile(samples, name, side.rows)]));
  const allFinishedSeconds = allFinishedAt(samples, side.rows);
  return {
    seconds,
    allFinishedSeconds,
    finished,
    memory,
    redis: await redisFootprint(side.redis, prefix),
    usedMemoryDelta,
  };
}
