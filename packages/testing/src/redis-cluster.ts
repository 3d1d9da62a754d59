import { type ChildProcess, execFile, spawn } from "node:child_process";
import { once } from "node:events";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";

const run = promisify(execFile);

/** A Redis Cluster of a test's own: masters in cluster mode on free ports, no replicas. */
export interface RedisCluster {
  /** Seed nodes, as `REDIS_CLUSTER_NODES` takes them: `127.0.0.1:port,...`. */
  readonly nodes: string;
  readonly ports: readonly number[];
  /** The index of the master that holds `key`'s slot. */
  masterOf(key: string): Promise<number>;
  /** Stops master `index` (SHUTDOWN: its append-only file is flushed). Its slots go down. */
  stopMaster(index: number): Promise<void>;
  /** Starts master `index` again from its directory (AOF, nodes.conf) and waits for `cluster_state:ok`. */
  startMaster(index: number): Promise<void>;
  /** `stopMaster` then `startMaster`. */
  restartMaster(index: number): Promise<void>;
  /** Kills every master (nothing of theirs is needed after) and removes their directories. */
  stop(): Promise<void>;
}

async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const address = server.address();
  server.close();
  if (typeof address !== "object" || address === null) throw new Error("no free port");
  return address.port;
}

async function cli(port: number, ...args: string[]): Promise<string> {
  const { stdout } = await run("redis-cli", ["-h", "127.0.0.1", "-p", String(port), ...args], { timeout: 10_000 });
  return stdout;
}

async function until(what: string, check: () => Promise<boolean>, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check().catch(() => false)) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`redis cluster: timed out waiting for ${what}`);
}

/**
 * Starts `masters` redis-servers in cluster mode (append-only, fsync on every write, a
 * temporary directory each, the cluster bus on a free port of its own), joins them with
 * `redis-cli --cluster create`, and waits until every node says `cluster_state:ok`.
 */
export async function startRedisCluster({ masters = 3 }: { masters?: number } = {}): Promise<RedisCluster> {
  const servers: { port: number; busPort: number; dir: string; child?: ChildProcess }[] = [];
  for (let i = 0; i < masters; i++) {
    servers.push({
      port: await freePort(),
      busPort: await freePort(),
      dir: mkdtempSync(join(tmpdir(), "provisioner-cluster-")),
    });
  }
  const ports = servers.map((server) => server.port);
  const stateOk = async (port: number) => /cluster_state:ok/.test(await cli(port, "cluster", "info"));

  const startMaster = async (index: number) => {
    const server = servers[index];
    if (!server) throw new Error(`no master ${index}`);
    if (server.child && server.child.exitCode === null) return;
    server.child = spawn(
      "redis-server",
      [
        ...["--port", String(server.port), "--bind", "127.0.0.1", "--dir", server.dir, "--save", ""],
        ...["--appendonly", "yes", "--appendfsync", "always", "--maxmemory-policy", "noeviction"],
        ...[
          "--cluster-enabled",
          "yes",
          "--cluster-config-file",
          "nodes.conf",
          "--cluster-port",
          String(server.busPort),
        ],
        // A master that stops is noticed in about a second, so the slots go down (and come back) quickly.
        ...["--cluster-node-timeout", "1000"],
      ],
      { stdio: "ignore" },
    );
    await until(`redis-server on ${server.port}`, async () => (await cli(server.port, "ping")).trim() === "PONG");
  };
  /** SHUTDOWN (the append-only file flushed for a restart), or SIGKILL when it has not ended a master in 10 s. */
  const stopMaster = async (index: number) => {
    const child = servers[index]?.child;
    if (!child || child.exitCode !== null) return;
    const exited = once(child, "exit");
    const deadline = setTimeout(() => child.kill("SIGKILL"), 10_000);
    try {
      await cli(servers[index]?.port ?? 0, "shutdown").catch(() => child.kill("SIGTERM"));
      await exited;
    } finally {
      clearTimeout(deadline);
    }
  };
  const killMaster = async (index: number) => {
    const child = servers[index]?.child;
    if (!child || child.exitCode !== null) return;
    const exited = once(child, "exit");
    child.kill("SIGKILL");
    await exited;
  };
  const allOk = () =>
    until("cluster_state:ok on every node", async () => (await Promise.all(ports.map(stateOk))).every(Boolean));

  const cluster: RedisCluster = {
    nodes: ports.map((port) => `127.0.0.1:${port}`).join(","),
    ports,
    stopMaster,
    async masterOf(key) {
      const slot = Number(await cli(ports[0] ?? 0, "cluster", "keyslot", key));
      const ranges = (await cli(ports[0] ?? 0, "--json", "cluster", "slots")).trim();
      const owner = (JSON.parse(ranges) as [number, number, [string, number]][]).find(
        ([from, to]) => slot >= from && slot <= to,
      );
      const index = ports.indexOf(owner?.[2][1] ?? -1);
      if (index < 0) throw new Error(`no master holds slot ${slot}`);
      return index;
    },
    async startMaster(index) {
      await startMaster(index);
      await allOk();
    },
    async restartMaster(index) {
      await stopMaster(index);
      await cluster.startMaster(index);
    },
    async stop() {
      await Promise.all(servers.map((_, index) => killMaster(index)));
      for (const server of servers) rmSync(server.dir, { recursive: true, force: true });
    },
  };
  try {
    for (let i = 0; i < masters; i++) await startMaster(i);
    await run(
      "redis-cli",
      ["--cluster", "create", ...ports.map((port) => `127.0.0.1:${port}`), "--cluster-replicas", "0", "--cluster-yes"],
      { timeout: 30_000 },
    );
    await allOk();
  } catch (error) {
    await cluster.stop();
    throw error;
  }
  return cluster;
}
