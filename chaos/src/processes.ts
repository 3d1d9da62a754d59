// Child processes: spawned with their output in a log file, ready when a line says so, and
// every one of them stopped by `stopAll()`, whatever happened before.
import { spawn } from "node:child_process";
import { createWriteStream } from "node:fs";
import { createServer } from "node:net";
import { join } from "node:path";

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface Child {
  /** `worker-3`, `api`, …; also the name of its log file. */
  readonly name: string;
  readonly pid: number;
  readonly logFile: string;
  /** Resolves once the process has exited (never rejects). */
  readonly exited: Promise<Exit>;
  running(): boolean;
  kill(signal: NodeJS.Signals): void;
  /** `signal` (default SIGTERM), then SIGKILL after `graceMs`; resolves once it has exited. */
  stop(options?: { signal?: NodeJS.Signals; graceMs?: number }): Promise<Exit>;
}

export interface SpawnOptions {
  name: string;
  command: string;
  args: readonly string[];
  env: Record<string, string>;
  /** The child is ready once a line of its output contains this. */
  readyWhen: string;
  /** Default 30 s. */
  readyTimeoutMs?: number;
}

export interface ProcessGroup {
  /** Starts a child and resolves once it is ready; rejects (and kills it) when it exits or times out first. */
  spawn(options: SpawnOptions): Promise<Child>;
  /** Stops every child still running, newest first: with SIGKILL where `kill` says so, else SIGTERM then SIGKILL. */
  stopAll(options?: { kill?: (child: Child) => boolean }): Promise<void>;
}

/** Children whose output goes to `<logDir>/<name>.log`. */
export function createProcessGroup(logDir: string): ProcessGroup {
  const children: Child[] = [];

  return {
    async spawn(options) {
      const child = startChild(options, join(logDir, `${options.name}.log`));
      children.push(child.handle);
      await child.ready;
      return child.handle;
    },
    async stopAll({ kill = () => false } = {}) {
      const live = children.filter((child) => child.running()).reverse();
      for (const child of live) {
        await child.stop(kill(child) ? { signal: "SIGKILL" } : { graceMs: 5_000 });
      }
    },
  };
}

function startChild(options: SpawnOptions, logFile: string): { handle: Child; ready: Promise<void> } {
  const log = createWriteStream(logFile, { flags: "a" });
  const proc = spawn(options.command, options.args, { env: options.env, stdio: ["ignore", "pipe", "pipe"] });
  let exit: Exit | undefined;
  const exited = new Promise<Exit>((resolve) => {
    proc.once("exit", (code, signal) => {
      exit = { code, signal };
      resolve(exit);
    });
    // A spawn failure (no such binary) never reaches "exit".
    proc.once("error", (error) => {
      log.write(`spawn failed: ${error.message}\n`);
      exit ??= { code: null, signal: null };
      resolve(exit);
    });
  });
  exited.then(() => log.end());

  let tail = "";
  let isReady = false;
  const timeoutMs = options.readyTimeoutMs ?? 30_000;
  const ready = new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => {
      proc.kill("SIGKILL");
      reject(new Error(`${options.name} was not ready within ${timeoutMs} ms; last output:\n${tail}`));
    }, timeoutMs);
    const watch = (chunk: Buffer) => {
      log.write(chunk);
      if (isReady) return;
      // The previous tail catches a marker split across two chunks; a chunk may be far longer than the tail.
      const text = tail + chunk.toString();
      tail = text.slice(-4_000);
      if (text.includes(options.readyWhen)) {
        isReady = true;
        clearTimeout(timer);
        resolve();
      }
    };
    proc.stdout.on("data", watch);
    proc.stderr.on("data", watch);
    exited.then((result) => {
      if (isReady) return;
      clearTimeout(timer);
      reject(new Error(`${options.name} exited (${result.code ?? result.signal}) before it was ready:\n${tail}`));
    });
  });

  const handle: Child = {
    name: options.name,
    pid: proc.pid ?? -1,
    logFile,
    exited,
    running: () => exit === undefined,
    kill(signal) {
      if (exit === undefined) proc.kill(signal);
    },
    async stop({ signal = "SIGTERM", graceMs = 5_000 } = {}) {
      if (exit !== undefined) return exit;
      proc.kill(signal);
      const timer = setTimeout(() => proc.kill("SIGKILL"), graceMs);
      const result = await exited;
      clearTimeout(timer);
      return result;
    },
  };
  return { handle, ready };
}

/** A TCP port nothing listens on right now: bind port 0, read it, let it go. */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", resolve);
  });
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === "string") throw new Error("could not read a free port");
  return address.port;
}
