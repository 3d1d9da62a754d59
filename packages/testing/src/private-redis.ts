import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { redisAnswers } from "@provisioner/queue";

/** A redis-server of a test's own, on a free port, that the test may stop and start again. */
export interface PrivateRedis {
  readonly url: string;
  readonly port: number;
  /** Stops it gracefully (SIGTERM: the append-only file is flushed). */
  stop(): Promise<void>;
  /** Starts it again on the same port and directory, so it reloads its append-only file. */
  start(): Promise<void>;
  /** Stops it for good and removes its directory. */
  close(): Promise<void>;
}

export interface PrivateRedisOptions {
  /** Persist every write to the append-only file before answering. Default true. */
  appendOnly?: boolean;
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

export async function startPrivateRedis({ appendOnly = true }: PrivateRedisOptions = {}): Promise<PrivateRedis> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), "provisioner-redis-"));
  const url = `redis://127.0.0.1:${port}`;
  // appendfsync always: a test that restarts Redis must lose nothing, whatever the timing.
  const args = [
    ...["--port", String(port), "--bind", "127.0.0.1", "--dir", dir, "--save", ""],
    ...["--appendonly", appendOnly ? "yes" : "no", "--appendfsync", "always", "--maxmemory-policy", "noeviction"],
  ];
  let child: ChildProcess | undefined;

  const redis: PrivateRedis = {
    url,
    port,
    async start() {
      if (child && child.exitCode === null) return;
      child = spawn("redis-server", args, { stdio: "ignore" });
      for (let i = 0; i < 100; i++) {
        if (await redisAnswers(url)) return;
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      throw new Error(`redis-server did not answer on ${url}`);
    },
    async stop() {
      if (!child || child.exitCode !== null) return;
      const exited = once(child, "exit");
      child.kill("SIGTERM");
      await exited;
    },
    async close() {
      await redis.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
  await redis.start();
  return redis;
}
