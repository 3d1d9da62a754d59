// The run's own Redis: a redis-server child on a free port with its append-only file in the
// run's directory, or (`--cluster`) a three-master Redis Cluster. Never the machine's Redis.
import { spawnSync } from "node:child_process";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { startRedisCluster } from "@provisioner/testing";
import { Redis } from "ioredis";
import { type Child, freePort, type ProcessGroup } from "./processes.ts";

export interface PrivateRedis {
  /** Where it listens, for the log. */
  readonly describe: string;
  /** What the API and the workers are given to reach it: REDIS_URL or REDIS_CLUSTER_NODES. */
  readonly env: Record<string, string>;
  /** The key prefix: on a cluster a hash tag, so that every key lies in one slot. */
  readonly prefix: string;
  /**
   * Graceful `SHUTDOWN` (Redis fsyncs the append-only file and exits 0), then the same
   * server again on the same port and directory. Resolves with how long it was down. On a
   * cluster: the master that holds the run's keys, until every node says `cluster_state:ok`.
   */
  restart(): Promise<number>;
  /** Stops what the process group does not: the cluster's masters. */
  stop(): Promise<void>;
}

/** Whether a `redis-server` binary is on the PATH. */
export function hasRedisServer(): boolean {
  const probe = spawnSync("redis-server", ["--version"], { stdio: "ignore" });
  return probe.error === undefined && probe.status === 0;
}

export async function startPrivateRedis(group: ProcessGroup, runDir: string): Promise<PrivateRedis> {
  const port = await freePort();
  const dir = join(runDir, "redis");
  mkdirSync(dir, { recursive: true });
  const url = `redis://127.0.0.1:${port}`;
  // Persistence as the README advises for production. `appendfsync everysec` means a
  // kill -9 of Redis could lose up to a second of acknowledged writes, a 202 among them;
  // that is why the guidance pairs it with a graceful shutdown, and why this run restarts
  // Redis with SHUTDOWN rather than SIGKILL. (`appendfsync always` would survive a kill -9
  // at the price of an fsync per write; the run tests the setting production uses.)
  const args = [
    ...["--port", String(port), "--bind", "127.0.0.1", "--dir", dir],
    ...["--appendonly", "yes", "--appendfsync", "everysec", "--save", ""],
    ...["--maxmemory-policy", "noeviction", "--daemonize", "no", "--logfile", ""],
  ];
  let generation = 0;
  const start = async (): Promise<Child> => {
    const child = await group.spawn({
      name: `redis-${generation++}`,
      command: "redis-server",
      args,
      env: { PATH: process.env.PATH ?? "" },
      readyWhen: "Ready to accept connections",
    });
    return child;
  };

  let current = await start();
  return {
    describe: url,
    env: { REDIS_URL: url },
    prefix: "chaos",
    async stop() {},
    async restart() {
      const client = new Redis(url, { maxRetriesPerRequest: 0, retryStrategy: () => null, lazyConnect: true });
      client.on("error", () => {});
      await client.connect();
      const down = performance.now();
      // The server closes the connection instead of answering; that is success.
      await client.call("SHUTDOWN").catch(() => {});
      client.disconnect();
      const exit = await current.exited;
      if (exit.code !== 0) throw new Error(`redis-server did not shut down cleanly: ${exit.code ?? exit.signal}`);
      current = await start();
      return performance.now() - down;
    },
  };
}

/**
 * Three masters in cluster mode (append-only, fsync on every write), made with
 * `redis-cli --cluster create` by the test harness; a restart restarts the master that
 * holds the run's slot.
 */
export async function startClusterRedis(): Promise<PrivateRedis> {
  const cluster = await startRedisCluster();
  // No hash tag in the prefix: each queue's own tag decides its slot, so queues spread.
  const prefix = "chaos";
  return {
    describe: `cluster ${cluster.nodes}`,
    env: { REDIS_CLUSTER_NODES: cluster.nodes },
    prefix,
    stop: () => cluster.stop(),
    async restart() {
      // The master of the busiest queue the chaos run feeds.
      const master = await cluster.masterOf("{bridgeport.default}");
      const down = performance.now();
      await cluster.restartMaster(master);
      return performance.now() - down;
    },
  };
}
