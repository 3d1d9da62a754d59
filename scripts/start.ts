// `npm start`: the whole stack on one machine (SPEC section 2). Redis from REDIS_CLUSTER_NODES
// or REDIS_URL, or a private redis-server with append-only persistence under .data/; the sandbox provider;
// a worker; the API. Every provider URL points at the sandbox unless already set.
import { type ChildProcess, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { sandboxProviderEnv } from "@provisioner/sandbox";
import { z } from "zod";
import { ensureRedis } from "./redis.ts";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const dataDir = join(root, ".data");

// What the user may set; everything else is chosen here. Secrets default to ones kept in .data/.
const settings = z
  .object({
    REDIS_URL: z.string().default("redis://127.0.0.1:6379"),
    // A cluster is the operator's to run; the API and the worker read it from the environment.
    REDIS_CLUSTER_NODES: z.string().optional(),
    PORT: z.coerce.number().int().min(1).max(65_535).default(3000),
    SANDBOX_PORT: z.coerce.number().int().min(1).max(65_535).default(4010),
    API_TOKEN: z.string().min(1).optional(),
    PROVISIONER_ENCRYPTION_KEY: z.string().min(1).optional(),
    NODE_ENV: z.string().default("development"),
    // One machine: the demo's callback receivers are local, which production refuses by default.
    CALLBACK_ALLOW_PRIVATE_NETWORKS: z.enum(["true", "false"]).default("true"),
  })
  .parse(process.env);
const redisUrl = settings.REDIS_URL;
const sandboxUrl = `http://127.0.0.1:${settings.SANDBOX_PORT}`;

/** The sandbox's address and tokens for each provider, unless the user pointed it elsewhere. */
const providerDefaults: Record<string, string> = {
  ...sandboxProviderEnv(sandboxUrl),
  SANDBOX_PRISMA_PROVISIONING_MS: "1500",
};

/** A token and an encryption key for this machine, kept so jobs stay readable across restarts. */
function devSecrets(): { apiToken: string; encryptionKey: string } {
  const path = join(dataDir, "dev-secrets.json");
  if (existsSync(path)) return JSON.parse(readFileSync(path, "utf8"));
  mkdirSync(dataDir, { recursive: true });
  const secrets = {
    apiToken: `dev_${randomBytes(24).toString("base64url")}`,
    encryptionKey: randomBytes(32).toString("base64"),
  };
  writeFileSync(path, JSON.stringify(secrets, null, 2), { mode: 0o600 });
  return secrets;
}

if (settings.REDIS_CLUSTER_NODES === undefined) await ensureRedis(redisUrl, dataDir);
const secrets = devSecrets();
const env: NodeJS.ProcessEnv = {
  ...providerDefaults,
  ...process.env,
  NODE_ENV: settings.NODE_ENV,
  REDIS_URL: redisUrl,
  PORT: String(settings.PORT),
  SANDBOX_PORT: String(settings.SANDBOX_PORT),
  API_TOKEN: settings.API_TOKEN ?? secrets.apiToken,
  PROVISIONER_ENCRYPTION_KEY: settings.PROVISIONER_ENCRYPTION_KEY ?? secrets.encryptionKey,
  CALLBACK_ALLOW_PRIVATE_NETWORKS: settings.CALLBACK_ALLOW_PRIVATE_NETWORKS,
};

/**
 * The Node flags an app's own `npm start` passes (its package.json start script: the heap
 * settings that keep its memory flat), so `npm start` runs each process as production does.
 */
function nodeFlags(script: string): string[] {
  const manifest = join(root, script.split("/src/")[0] as string, "package.json");
  const start = (JSON.parse(readFileSync(manifest, "utf8")) as { scripts?: { start?: string } }).scripts?.start;
  return (start ?? "").split(/\s+/).filter((word) => word.startsWith("--"));
}

const children = new Map<string, ChildProcess>();
let stopping = false;

function run(name: string, script: string, ready: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...nodeFlags(script), join(root, script)], {
      env,
      stdio: ["ignore", "pipe", "pipe"],
    });
    children.set(name, child);
    let announced = false;
    const relay = (stream: NodeJS.ReadableStream, sink: NodeJS.WriteStream) => {
      let pending = "";
      stream.on("data", (chunk: Buffer) => {
        pending += chunk.toString();
        const lines = pending.split("\n");
        pending = lines.pop() ?? "";
        for (const line of lines) {
          sink.write(`[${name}] ${line}\n`);
          if (!announced && line.includes(ready)) {
            announced = true;
            resolve();
          }
        }
      });
    };
    relay(child.stdout as NodeJS.ReadableStream, process.stdout);
    relay(child.stderr as NodeJS.ReadableStream, process.stderr);
    child.on("exit", (code) => {
      if (!announced) reject(new Error(`${name} exited (${code}) before it was ready`));
      else if (!stopping) {
        console.error(`[${name}] exited (${code}); stopping the rest`);
        void stop(1);
      }
    });
  });
}

async function stop(code = 0) {
  if (stopping) return;
  stopping = true;
  await Promise.all(
    [...children.values()].map(
      (child) =>
        new Promise<void>((resolve) => {
          if (child.exitCode !== null) return resolve();
          child.once("exit", () => resolve());
          child.kill("SIGTERM");
        }),
    ),
  );
  process.exit(code);
}
process.on("SIGINT", () => void stop());
process.on("SIGTERM", () => void stop());

try {
  await run("sandbox", "apps/sandbox/src/server.ts", "listening");
  await run("worker", "apps/worker/src/main.ts", "worker ready");
  await run("api", "apps/api/src/server.ts", "listening");
} catch (error) {
  console.error((error as Error).message);
  await stop(1);
}

const api = `http://127.0.0.1:${settings.PORT}`;
console.log(`
Provisioner is running.
  API        ${api}
  Docs       ${api}/docs
  Dashboard  ${api}/admin/queues
  Sandbox    ${sandboxUrl} (stands in for Artie, BRIDGEPORT and Prisma)
  API token  ${env.API_TOKEN}

Try it:
  curl -s -X POST ${api}/v1/jobs -H "Authorization: Bearer ${env.API_TOKEN}" -H "content-type: application/json" \\
    -d '{"provider":"bridgeport","input":{"envId":"env_demo","name":"tenant-1","type":"postgres"}}'
Ctrl-C stops everything.`);
