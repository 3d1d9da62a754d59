import { randomBytes, randomUUID } from "node:crypto";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { RedisConnection } from "@provisioner/queue";
import { createRedisConnection, deleteKeysWithPrefix, loadConfig, openQueues, type QueueSet } from "@provisioner/queue";
import { sandboxProviderEnv } from "@provisioner/sandbox";
import type { Queue } from "bullmq";
import { type App, createApp } from "./app.ts";
import { staticTokenResolver } from "./auth.ts";
import { scopes } from "./identity.ts";
import { createLogger } from "./logger.ts";

export const redisUrl = process.env.REDIS_URL ?? "redis://127.0.0.1:6379";
export const adminToken = "test-admin-token";
export const readerToken = "test-reader-token";

// biome-ignore lint/suspicious/noExplicitAny: tests read response bodies loosely and assert on them
export type Json = any;

/** A fresh config: its own key prefix and encryption key; provider URLs need not answer (no worker runs). */
export function testConfig(prefix = `test-${randomUUID()}`) {
  return loadConfig({
    REDIS_URL: redisUrl,
    QUEUE_PREFIX: prefix,
    PROVISIONER_ENCRYPTION_KEY: randomBytes(32).toString("base64"),
    ARTIE_API_URL: "http://127.0.0.1:9/artie",
    ARTIE_API_KEY: "k",
    BRIDGEPORT_API_URL: "http://127.0.0.1:9/bridgeport",
    BRIDGEPORT_API_TOKEN: "k",
    PRISMA_API_URL: "http://127.0.0.1:9/prisma",
    PRISMA_SERVICE_TOKEN: "k",
    POSTGRES_ADMIN_URL: "postgres://x@127.0.0.1:5432/postgres",
    MYSQL_ADMIN_URL: "mysql://x@127.0.0.1:3306",
  });
}

/**
 * A config whose accounts are a running sandbox, with fast retries (two attempts, tens of
 * milliseconds apart), for tests that run workers against it.
 */
export function sandboxConfig(sandboxUrl: string, prefix: string, env: Record<string, string> = {}) {
  const configPath = join(mkdtempSync(join(tmpdir(), "provisioner-test-")), "config.json");
  const fast = { attempts: 2, backoff: { baseMs: 20, capMs: 50 }, timeoutMs: 2_000 };
  writeFileSync(configPath, JSON.stringify({ providers: { artie: fast, bridgeport: fast, prisma: fast } }));
  return loadConfig({
    REDIS_URL: redisUrl,
    QUEUE_PREFIX: prefix,
    PROVISIONER_CONFIG: configPath,
    PROVISIONER_ENCRYPTION_KEY: randomBytes(32).toString("base64"),
    ...sandboxProviderEnv(sandboxUrl),
    ...env,
  });
}

export const testTokens = staticTokenResolver([
  { name: "admin", token: adminToken, scopes },
  { name: "reader", token: readerToken, scopes: ["jobs:read"] },
]);

export const silentLogger = createLogger({ level: "silent" });

export interface TestApi {
  app: App;
  queues: QueueSet;
  connection: RedisConnection;
  /** A JSON request with the admin token unless `token` (or `null` for none) says otherwise. */
  call(
    method: string,
    path: string,
    options?: { body?: unknown; token?: string | null; headers?: Record<string, string> },
  ): Promise<Response>;
  /** Deletes every key under the prefix and closes the queues and the connection. */
  close(): Promise<void>;
}

export async function waitUntilReady(connection: RedisConnection): Promise<void> {
  if (connection.status === "ready") return;
  await new Promise((resolve) => connection.once("ready", resolve));
}

export async function startTestApi(options: { bodyLimitBytes?: number } = {}): Promise<TestApi> {
  const config = testConfig();
  const connection = createRedisConnection(redisUrl, "api");
  await waitUntilReady(connection);
  const queues = openQueues(config, connection);
  const app = createApp({ queues, tokens: testTokens, logger: silentLogger, ...options });
  return {
    app,
    queues,
    connection,
    call: async (method, path, { body, token = adminToken, headers = {} } = {}) =>
      app.request(path, jsonRequest(method, body, token, headers)),
    async close() {
      await deleteKeysWithPrefix(connection, config.prefix);
      await queues.close();
      await connection.quit();
    },
  };
}

export function jsonRequest(
  method: string,
  body: unknown,
  token: string | null = adminToken,
  headers: Record<string, string> = {},
): RequestInit {
  const init: RequestInit = { method, headers: { ...headers } };
  const all = init.headers as Record<string, string>;
  if (token !== null) all.authorization = `Bearer ${token}`;
  if (body !== undefined) {
    all["content-type"] ??= "application/json";
    init.body = typeof body === "string" ? body : JSON.stringify(body);
  }
  return init;
}

/** A BRIDGEPORT create body; the password is the secret field. */
export const bridgeportInput = (name: string, password = "s3cret-pw") => ({
  envId: "env_test",
  name,
  type: "postgres",
  password,
});

/** A logger that keeps its lines, parsed, for assertions. */
export function capturingLogger() {
  const lines: Json[] = [];
  const logger = createLogger({ level: "info" }, { write: (line: string) => lines.push(JSON.parse(line)) });
  return { logger, lines };
}

/**
 * Jobs queued and not yet taken: BullMQ keeps a job with a priority (every job has its
 * lane's, packages/queue lanes.ts) in `prioritized`, not `waiting`.
 */
export async function queuedCount(queue: Queue): Promise<number> {
  const counts = await queue.getJobCounts("waiting", "prioritized");
  return (counts.waiting ?? 0) + (counts.prioritized ?? 0);
}
