// The product's processes, started as `npm run start:*` starts them, pointed at the run's
// Redis and sandbox, with settings written for a run that has to finish in minutes.
import { randomBytes } from "node:crypto";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { sandboxProviderEnv } from "@provisioner/sandbox";
import { type Child, freePort, type ProcessGroup } from "./processes.ts";
import type { PrivateRedis } from "./redis.ts";

/** Each package's `src/index.ts`; its process entry sits beside it. */
const entry = (pkg: string, file: string) => fileURLToPath(new URL(file, import.meta.resolve(pkg)));
/**
 * The Node flags the package's own `npm start` passes (its package.json start script: the
 * heap settings that keep its memory flat), so a process here runs as production runs it.
 */
export function startFlagsOf(pkg: string): string[] {
  const manifest = fileURLToPath(new URL("../package.json", import.meta.resolve(pkg)));
  const start = (JSON.parse(readFileSync(manifest, "utf8")) as { scripts?: { start?: string } }).scripts?.start;
  return (start ?? "").split(/\s+/).filter((word) => word.startsWith("--"));
}
const sandboxMain = entry("@provisioner/sandbox", "./server.ts");
const apiMain = entry("@provisioner/api", "./server.ts");
const workerMain = entry("@provisioner/worker", "./main.ts");

// Enough attempts for an 8 s outage with no Retry-After: at a 200 ms base and 3 s cap, full
// jitter spends 9 attempts in 8 s on average and more when the dice roll low, and the
// background faults fail about one call in six on top. Simulated, 12 attempts kill about
// 0.7% of the jobs the outage meets (dead, though not designed to fail); 20 kill none.
const providerSettings = {
  attempts: 20,
  backoff: { baseMs: 200, capMs: 3_000 },
  // Hung calls give up quickly.
  timeoutMs: 2_000,
  concurrency: 20,
  maxAgeMs: 86_400_000,
};

export interface StackEnv {
  /** What the API and the workers share. */
  common: Record<string, string>;
  apiToken: string;
  /** Worker-only settings. */
  worker: Record<string, string>;
}

export function stackEnv(options: {
  runDir: string;
  redis: Pick<PrivateRedis, "env" | "prefix">;
  sandboxUrl: string;
  graceMs: number;
  mysqlAdminUrl?: string | undefined;
}): StackEnv {
  const configPath = join(options.runDir, "provisioner.json");
  writeFileSync(
    configPath,
    JSON.stringify({
      providers: {
        artie: providerSettings,
        bridgeport: providerSettings,
        prisma: providerSettings,
        mysql: providerSettings,
      },
    }),
  );
  const apiToken = randomBytes(24).toString("base64url");
  return {
    apiToken,
    // A clean environment: nothing from the caller's shell (a REDIS_URL, a PROVISIONER_CONFIG) leaks in.
    common: {
      PATH: process.env.PATH ?? "",
      LOG_LEVEL: "info",
      ...options.redis.env,
      QUEUE_PREFIX: options.redis.prefix,
      PROVISIONER_CONFIG: configPath,
      PROVISIONER_ENCRYPTION_KEY: randomBytes(32).toString("base64"),
      ...sandboxProviderEnv(options.sandboxUrl),
      ...(options.mysqlAdminUrl ? { MYSQL_ADMIN_URL: options.mysqlAdminUrl } : {}),
    },
    worker: {
      // A killed worker's jobs come back within a few seconds instead of half a minute.
      WORKER_LOCK_DURATION_MS: "3000",
      WORKER_STALLED_INTERVAL_MS: "1500",
      WORKER_SHUTDOWN_GRACE_MS: String(options.graceMs),
    },
  };
}

export interface Service {
  url: string;
  child: Child;
}

export async function startSandboxProcess(group: ProcessGroup): Promise<Service> {
  const port = await freePort();
  const child = await group.spawn({
    name: "sandbox",
    command: process.execPath,
    args: [sandboxMain],
    env: { PATH: process.env.PATH ?? "", SANDBOX_PORT: String(port), SANDBOX_HOST: "127.0.0.1" },
    readyWhen: "sandbox listening on",
  });
  return { url: `http://127.0.0.1:${port}`, child };
}

export async function startApiProcess(group: ProcessGroup, env: StackEnv): Promise<Service> {
  const port = await freePort();
  const child = await group.spawn({
    name: "api",
    command: process.execPath,
    args: [...startFlagsOf("@provisioner/api"), apiMain],
    env: { ...env.common, API_TOKEN: env.apiToken, PORT: String(port), HOST: "127.0.0.1" },
    readyWhen: "listening on",
  });
  return { url: `http://127.0.0.1:${port}`, child };
}

/** A worker process, resolved once it logs "worker ready". */
export function startWorkerProcess(group: ProcessGroup, env: StackEnv, name: string): Promise<Child> {
  return group.spawn({
    name,
    command: process.execPath,
    args: [...startFlagsOf("@provisioner/worker"), workerMain],
    env: { ...env.common, ...env.worker },
    readyWhen: "worker ready",
  });
}
