// The run's own Redis: a redis-server child on a free port with its append-only file in the
// run's directory. Never the machine's Redis.
import { spawnSync } from "node:child_process";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { Redis } from "ioredis";
import { type Child, freePort, type ProcessGroup } from "./processes.ts";

export interface PrivateRedis {
  readonly url: string;
  /**
   * Graceful `SHUTDOWN` (Redis fsyncs the append-only file and exits 0), then the same
   * server again on the same port and directory. Resolves with how long it was down.
   */
  restart(): Promise<number>;
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
    url,
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
