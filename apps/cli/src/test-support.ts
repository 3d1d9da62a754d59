// A real stack in the test process (sandbox, Redis queues, workers, the API over HTTP) and
// a way to run the CLI against it as its own process.
import { type ChildProcess, spawn } from "node:child_process";
import { randomBytes, randomUUID } from "node:crypto";
import { mkdtempSync, writeFileSync } from "node:fs";
import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { serve } from "@hono/node-server";
import { createLogger as createApiLogger, createApp, scopes, staticTokenResolver } from "@provisioner/api";
import { createRedisConnection, deleteKeysWithPrefix, loadConfig, openQueues } from "@provisioner/queue";
import { type FaultRule, type RunningSandbox, sandboxProviderEnv, startSandbox } from "@provisioner/sandbox";
import { createLogger as createWorkerLogger, type RunningWorkers, startWorkers } from "@provisioner/worker";

export const redisUrl = process.env.REDIS_URL ?? "redis://127.0.0.1:6379";
const mainPath = fileURLToPath(new URL("./main.ts", import.meta.url));

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export interface Stack {
  /** The API's base URL. */
  url: string;
  /** A full-access token; tests check it never shows in any output. */
  token: string;
  sandbox: RunningSandbox;
  /** A scratch directory for input files. */
  dir: string;
  /** Every output of every `cli()` call so far, for the token scan. */
  outputs: string[];
  /** Every request the API received: `METHOD /path?query`. */
  requests: string[];
  setFaults(rules: FaultRule[]): void;
  /** Runs `node src/main.ts …args` with the stack's URL and token (override with `env`). */
  cli(
    args: string[],
    options?: {
      env?: Record<string, string | undefined>;
      stdin?: string;
      /** Sends SIGINT (Ctrl-C) once stderr matches this. */
      interruptWhen?: RegExp;
      /** Hands over the process, e.g. to kill it when the test decides. */
      onSpawn?: (child: ChildProcess) => void;
    },
  ): Promise<CliResult>;
  close(): Promise<void>;
}

/** Fast provider settings: a job that keeps failing dies within a few tens of ms. */
const fast = { attempts: 2, backoff: { baseMs: 20, capMs: 50 }, timeoutMs: 2_000, concurrency: 10 };

export async function startStack(): Promise<Stack> {
  const sandbox = await startSandbox({ prismaProvisioningMs: 0 });
  const dir = mkdtempSync(join(tmpdir(), "provisioner-cli-"));
  const configPath = join(dir, "config.json");
  writeFileSync(configPath, JSON.stringify({ providers: { artie: fast, bridgeport: fast, prisma: fast } }));
  const prefix = `test-cli-${randomUUID().slice(0, 8)}`;
  const config = loadConfig({
    REDIS_URL: redisUrl,
    QUEUE_PREFIX: prefix,
    PROVISIONER_CONFIG: configPath,
    PROVISIONER_ENCRYPTION_KEY: randomBytes(32).toString("base64"),
    ...sandboxProviderEnv(sandbox.url),
  });
  const apiConnection = createRedisConnection(redisUrl, "api");
  const workerConnection = createRedisConnection(redisUrl, "worker");
  const apiQueues = openQueues(config, apiConnection);
  const workerQueues = openQueues(config, workerConnection);
  const workers: RunningWorkers = await startWorkers({
    queues: workerQueues,
    connection: workerConnection,
    logger: createWorkerLogger("silent"),
  });
  const token = `cli-test-token-${randomUUID()}`;
  const app = createApp({
    queues: apiQueues,
    tokens: staticTokenResolver([{ name: "admin", token, scopes }]),
    logger: createApiLogger({ level: "silent" }),
  });
  let server: Server | undefined;
  const requests: string[] = [];
  const address = await new Promise<AddressInfo>((resolve) => {
    const fetch = (request: Request) => {
      const url = new URL(request.url);
      requests.push(`${request.method} ${url.pathname}${url.search}`);
      return app.fetch(request);
    };
    server = serve({ fetch, port: 0, hostname: "127.0.0.1" }, resolve) as Server;
  });
  const url = `http://127.0.0.1:${address.port}`;
  const outputs: string[] = [];

  return {
    requests,
    url,
    token,
    sandbox,
    dir,
    outputs,
    setFaults: (rules) => sandbox.state.setFaults(rules),
    cli(args, { env = {}, stdin, interruptWhen, onSpawn } = {}) {
      const child = spawn(process.execPath, [mainPath, ...args], {
        env: { PATH: process.env.PATH, PROVISIONER_API_URL: url, PROVISIONER_TOKEN: token, ...env },
        stdio: ["pipe", "pipe", "pipe"],
      });
      let stdout = "";
      let stderr = "";
      child.stdout.setEncoding("utf8").on("data", (chunk: string) => {
        stdout += chunk;
      });
      let interrupted = false;
      child.stderr.setEncoding("utf8").on("data", (chunk: string) => {
        stderr += chunk;
        if (interruptWhen && !interrupted && interruptWhen.test(stderr)) {
          interrupted = true;
          child.kill("SIGINT");
        }
      });
      child.stdin.end(stdin ?? "");
      onSpawn?.(child);
      return new Promise((resolve, reject) => {
        child.once("error", reject);
        child.once("close", (code) => {
          outputs.push(stdout, stderr);
          resolve({ code, stdout, stderr });
        });
      });
    },
    async close() {
      await workers.close(1_000);
      await new Promise<void>((resolve) => {
        server?.close(() => resolve());
        server?.closeAllConnections();
      });
      await Promise.all([apiQueues.close(), workerQueues.close()]);
      await deleteKeysWithPrefix(apiConnection, prefix);
      apiConnection.disconnect();
      workerConnection.disconnect();
      await sandbox.close();
    },
  };
}

/** Writes a file into the stack's scratch directory and returns its path. */
export function writeInput(stack: Stack, name: string, text: string): string {
  const path = join(stack.dir, name);
  writeFileSync(path, text);
  return path;
}

/** A name no other test uses, so the sandbox's per-name counts belong to one test. */
export const uniqueName = (prefix: string) => `${prefix}${randomUUID().replaceAll("-", "").slice(0, 10)}`;
