// `POST /v1/jobs` and `POST /v1/jobs/bulk` over HTTP under autocannon, beside bare Hono
// servers (bench/servers/bare.ts) on the same Redis in the same run. Each server is its own
// process (the real API is apps/api/src/server.ts with its start script's Node flags, logging at
// its default level to /dev/null); autocannon runs here, in the bench's process. Rounds alternate
// bare and ours; each round ends with bare `Queue.addBulk` of ten 1,000-job batches in this
// process (no HTTP), timed beside.
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { randomBytes, randomUUID } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { createServer } from "node:net";
import { fileURLToPath } from "node:url";
import { createRedisConnection, deleteKeysWithPrefix } from "@provisioner/queue";
import autocannon from "autocannon";
import { startFlagsOf } from "../chaos/src/services.ts";
import { bareAddBulk } from "./enqueue.ts";
import { median, type Result } from "./support.ts";

const token = "bench-token";
const apiServer = fileURLToPath(new URL("../apps/api/src/server.ts", import.meta.url));
const bareServer = fileURLToPath(new URL("./servers/bare.ts", import.meta.url));

export interface HttpResult {
  requestsPerSecond: number;
  p99Ms: number;
  non2xx: number;
  /**
   * CPU time (user + system) the server process spent per answered request, in µs: what the
   * code costs, less sensitive than req/s to whatever else runs on a shared machine (autocannon
   * itself included). Undefined where /proc is not there.
   */
  serverCpuMicros: number | undefined;
}

const clockTicks = (() => {
  try {
    return Number(execFileSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).trim()) || 100;
  } catch {
    return 100;
  }
})();

/** A process's CPU time so far (utime + stime from /proc), in µs; undefined off Linux. */
function cpuMicrosOf(pid: number | undefined): number | undefined {
  if (pid === undefined || !existsSync(`/proc/${pid}/stat`)) return undefined;
  // Fields after the command name, which is in parentheses and may hold spaces: utime and stime are the 12th and 13th.
  const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]?.split(" ") ?? [];
  return ((Number(fields[11]) + Number(fields[12])) * 1_000_000) / clockTicks;
}

/** A process's CPU time once it stops rising (read every 100 ms, for at most 3 s). */
async function settledCpuMicrosOf(pid: number | undefined): Promise<number | undefined> {
  let last = cpuMicrosOf(pid);
  for (let tries = 0; tries < 30; tries++) {
    await new Promise((resolve) => setTimeout(resolve, 100));
    const now = cpuMicrosOf(pid);
    if (now === last) return now;
    last = now;
  }
  return last;
}

const freePort = () =>
  new Promise<number>((resolve) => {
    const server = createServer().listen(0, "127.0.0.1", () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });

async function startServer(
  script: string,
  env: Record<string, string>,
  nodeArgs: string[] = [],
  args: (port: number) => string[] = () => [],
): Promise<{ url: string; child: ChildProcess }> {
  const port = await freePort();
  const child = spawn(process.execPath, [...nodeArgs, script, ...args(port)], {
    env: { ...process.env, ...env, PORT: String(port), HOST: "127.0.0.1" },
    stdio: ["ignore", "ignore", "inherit"],
  });
  const url = `http://127.0.0.1:${port}`;
  for (let tries = 0; ; tries++) {
    try {
      await fetch(`${url}/healthz`);
      return { url, child };
    } catch (error) {
      if (tries > 200 || child.exitCode !== null) throw new Error(`${script} did not start`, { cause: error });
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
}

async function stopServer(child: ChildProcess) {
  if (child.exitCode !== null) return;
  const exited = new Promise((resolve) => child.once("exit", resolve));
  child.kill("SIGTERM");
  await exited;
}

/**
 * One autocannon run; every request gets its own body (new database names, so new derived
 * keys): `body` names its databases after the run and the request's number.
 */
function load(options: {
  url: string;
  /** The server process, whose CPU time is read before and after. */
  pid: number | undefined;
  connections: number;
  seconds: number;
  body: (run: string, i: number) => unknown;
}): Promise<HttpResult> {
  let i = 0;
  const run = randomUUID().slice(0, 8);
  const cpuBefore = cpuMicrosOf(options.pid);
  return new Promise((resolve, reject) => {
    autocannon(
      {
        url: options.url,
        method: "POST",
        connections: options.connections,
        duration: options.seconds,
        headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
        requests: [
          {
            setupRequest: (request) => ({ ...request, body: JSON.stringify(options.body(run, i++)) }),
          },
        ],
      },
      (error, result) => {
        if (error) return reject(error);
        // autocannon stops with requests in flight, which the server still finishes: their CPU
        // is read once the server is idle again, and they count among the requests.
        settledCpuMicrosOf(options.pid).then((cpuAfter) => {
          const serverCpuMicros =
            cpuBefore === undefined || cpuAfter === undefined || result.requests.sent === 0
              ? undefined
              : (cpuAfter - cpuBefore) / result.requests.sent;
          resolve({
            requestsPerSecond: result.requests.average,
            p99Ms: result.latency.p99,
            non2xx: result.non2xx,
            serverCpuMicros,
          });
        }, reject);
      },
    );
  });
}

// Every name carries the run: a name repeated from an earlier run of the same server would be a
// repeat of its job (deduplicated, a different and dearer path), not new work.
const single = (run: string, i: number) => ({
  provider: "bridgeport",
  input: { envId: "env_bench", name: `bench_${run}_${i}`, type: "postgres", password: "bench-secret" },
});
const bulk = (size: number) => (run: string, i: number) => ({
  jobs: Array.from({ length: size }, (_, j) => ({
    provider: "bridgeport",
    input: { envId: "env_bench", name: `bench_${run}_${i}_${j}`, type: "postgres", password: "bench-secret" },
  })),
});

export async function benchHttp(options: {
  redisUrl: string;
  connections: number;
  seconds: number;
  rounds: number;
  /** Write a CPU profile of the API into this folder. */
  cpuProfileDir?: string | undefined;
}) {
  const prefix = `bench-http-${randomUUID().slice(0, 8)}`;
  const ours = await startServer(
    apiServer,
    {
      REDIS_URL: options.redisUrl,
      QUEUE_PREFIX: `${prefix}-api`,
      API_TOKEN: token,
      PROVISIONER_ENCRYPTION_KEY: randomBytes(32).toString("base64"),
      BRIDGEPORT_API_URL: "http://127.0.0.1:9/bridgeport",
    },
    // Its heap flags as `npm run start:api` passes them: the young generation's size decides how often it collects.
    [
      ...startFlagsOf("@provisioner/api"),
      ...(options.cpuProfileDir ? ["--cpu-prof", `--cpu-prof-dir=${options.cpuProfileDir}`] : []),
    ],
  );
  const bare = await startServer(bareServer, {}, [], (port) => [options.redisUrl, String(port), `${prefix}-bare`]);
  const results = {
    single: { ours: [] as HttpResult[], bare: [] as HttpResult[] },
    bulk: { ours: [] as HttpResult[], bare: [] as HttpResult[] },
    /** Bare `addBulk` of 1,000 jobs in this process, no HTTP, each round; its CPU a batch in µs. */
    addBulk: [] as (Result & { cpuMicrosPerBatch: number })[],
  };
  const direct = createRedisConnection(options.redisUrl, "worker");
  try {
    type Server = typeof ours;
    const runSingle = ({ url, child }: Server, seconds: number) =>
      load({ url: `${url}/v1/jobs`, pid: child.pid, connections: options.connections, seconds, body: single });
    const runBulk = ({ url, child }: Server, seconds: number) =>
      load({ url: `${url}/v1/jobs/bulk`, pid: child.pid, connections: 1, seconds, body: bulk(1_000) });
    // Warm-up: JIT, sockets, script loading.
    await runSingle(bare, 2);
    await runSingle(ours, 2);
    await runBulk(bare, 2);
    await runBulk(ours, 2);
    await bareAddBulk({ batchSize: 1_000, batches: 2 }, direct);
    for (let round = 0; round < options.rounds; round++) {
      results.single.bare.push(await runSingle(bare, options.seconds));
      results.single.ours.push(await runSingle(ours, options.seconds));
      results.bulk.bare.push(await runBulk(bare, options.seconds));
      results.bulk.ours.push(await runBulk(ours, options.seconds));
      results.addBulk.push(await bareAddBulk({ batchSize: 1_000, batches: 10 }, direct));
    }
  } finally {
    direct.disconnect();
    await Promise.all([stopServer(ours.child), stopServer(bare.child)]);
    const connection = createRedisConnection(options.redisUrl, "worker");
    await deleteKeysWithPrefix(connection, `${prefix}-api`);
    await deleteKeysWithPrefix(connection, `${prefix}-bare`);
    connection.disconnect();
  }
  for (const list of [results.single.ours, results.single.bare, results.bulk.ours, results.bulk.bare]) {
    const bad = list.find((result) => result.non2xx > 0);
    if (bad) throw new Error(`${bad.non2xx} requests were not answered 2xx`);
  }
  const middle = (list: HttpResult[]) =>
    [...list].sort((a, b) => a.requestsPerSecond - b.requestsPerSecond)[Math.floor(list.length / 2)] as HttpResult;
  // The median CPU per request of each server's rounds (not the CPU of the median-throughput round).
  const middleCpu = (list: HttpResult[]) => {
    const cpus = list.map((result) => result.serverCpuMicros);
    if (cpus.some((cpu) => cpu === undefined)) return undefined;
    return (cpus as number[]).sort((a, b) => a - b)[Math.floor(cpus.length / 2)];
  };
  const cpu = (list: { ours: HttpResult[]; bare: HttpResult[] }) => ({
    ours: middleCpu(list.ours),
    bare: middleCpu(list.bare),
  });
  return {
    single: {
      ours: middle(results.single.ours),
      bare: middle(results.single.bare),
      cpuMicros: cpu(results.single),
      all: results.single,
    },
    bulk: {
      ours: middle(results.bulk.ours),
      bare: middle(results.bulk.bare),
      cpuMicros: cpu(results.bulk),
      all: results.bulk,
      addBulk: median(results.addBulk),
      addBulkCpuMicros: [...results.addBulk.map((r) => r.cpuMicrosPerBatch)].sort((a, b) => a - b)[
        Math.floor(results.addBulk.length / 2)
      ] as number,
    },
  };
}
