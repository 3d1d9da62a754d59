import { randomBytes, randomUUID } from "node:crypto";
import { once } from "node:events";
import { mkdtempSync, writeFileSync } from "node:fs";
import { createServer, type IncomingHttpHeaders } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { ProviderName } from "@provisioner/provider-client";
import type { RedisConnection } from "@provisioner/queue";
import {
  createRedisConnection,
  deleteKeysWithPrefix,
  getJobView,
  type JobView,
  loadConfig,
  openQueues,
  type QueueSet,
  recordBatch,
  type SubmitRequest,
  submitJobs,
  type UnvalidatedRequest,
} from "@provisioner/queue";
import { sandboxProviderEnv, startSandbox } from "@provisioner/sandbox";
import { pino } from "pino";
import { type RunningWorkers, startWorkers, type WorkerTuning } from "./workers.ts";

export const redisUrl = process.env.REDIS_URL ?? "redis://127.0.0.1:6379";
export const postgresAdminUrl = process.env.POSTGRES_ADMIN_URL ?? "postgres://postgres@127.0.0.1:5432/postgres";
export const mysqlAdminUrl = process.env.MYSQL_ADMIN_URL ?? "mysql://root@127.0.0.1:3306";

/** Fast settings so retries finish in milliseconds; each test file may override. */
export const fastProviderSettings = {
  attempts: 3,
  backoff: { baseMs: 50, capMs: 200 },
  timeoutMs: 2_000,
  concurrency: 5,
};

export interface Harness {
  sandbox: Awaited<ReturnType<typeof startSandbox>>;
  queues: QueueSet;
  connection: RedisConnection;
  /** Environment a separate worker process needs to join this harness. */
  env: Record<string, string>;
  workers: RunningWorkers | undefined;
  startWorkers(tuning?: WorkerTuning): Promise<RunningWorkers>;
  submit(request: Omit<UnvalidatedRequest, "account"> & { account?: string }): Promise<string>;
  /** Submits a batch as the bulk route does: the jobs (bulk lane), then the batch's record of them. */
  submitBatch(rows: { provider: ProviderName; name: string }[], callbackUrl?: string): Promise<string>;
  waitFor(id: string, until?: (view: JobView) => boolean, timeoutMs?: number): Promise<JobView>;
  setFaults(rules: unknown[]): void;
  creations(provider: Exclude<ProviderName, "postgres" | "mysql">): Record<string, number>;
  close(): Promise<void>;
}

const terminal = (view: JobView) => view.status === "succeeded" || view.status === "dead";

/**
 * A sandbox on a free port, queues under a fresh Redis prefix, and (on demand) workers
 * in this process, all torn down by `close()`.
 */
export async function startHarness(
  options: {
    prismaProvisioningMs?: number;
    providers?: Record<string, unknown>;
    /** Named accounts per provider (PROVISIONER_CONFIG's `accounts`); each provider keeps its `default` too. */
    accounts?: (sandboxUrl: string) => Record<string, Record<string, unknown>>;
    redisUrl?: string;
    /** A Redis Cluster's seed nodes (`REDIS_CLUSTER_NODES`); wins over `redisUrl`. */
    redisClusterNodes?: string;
    callbackSigningSecret?: string;
    /** The PostgreSQL server jobs reach; default the local one. */
    postgresAdminUrl?: string;
    /** The MySQL or MariaDB server jobs reach; default the local one. */
    mysqlAdminUrl?: string;
    /** Let callbacks reach local receivers (CALLBACK_ALLOW_PRIVATE_NETWORKS). Default false, as in production. */
    callbackAllowPrivateNetworks?: boolean;
  } = {},
): Promise<Harness> {
  const sandbox = await startSandbox({ prismaProvisioningMs: options.prismaProvisioningMs ?? 0 });
  // No hash tag in the prefix: on a cluster each queue's own tag decides its slot, so queues spread.
  const prefix = `test-${randomUUID().slice(0, 8)}`;
  const dir = mkdtempSync(join(tmpdir(), "provisioner-"));
  const configPath = join(dir, "config.json");
  const providers = Object.fromEntries(
    ["artie", "bridgeport", "prisma", "postgres", "mysql"].map((p) => [
      p,
      options.providers?.[p] ?? fastProviderSettings,
    ]),
  );
  const accounts = options.accounts?.(sandbox.url);
  writeFileSync(configPath, JSON.stringify(accounts ? { providers, accounts } : { providers }));
  const env: Record<string, string> = {
    REDIS_URL: options.redisUrl ?? redisUrl,
    ...(options.redisClusterNodes ? { REDIS_CLUSTER_NODES: options.redisClusterNodes } : {}),
    QUEUE_PREFIX: prefix,
    PROVISIONER_CONFIG: configPath,
    PROVISIONER_ENCRYPTION_KEY: randomBytes(32).toString("base64"),
    ...sandboxProviderEnv(sandbox.url),
    POSTGRES_ADMIN_URL: options.postgresAdminUrl ?? postgresAdminUrl,
    MYSQL_ADMIN_URL: options.mysqlAdminUrl ?? mysqlAdminUrl,
    CALLBACK_ALLOW_PRIVATE_NETWORKS: String(options.callbackAllowPrivateNetworks ?? false),
  };
  const config = loadConfig(env);
  const connection = createRedisConnection(config.redis, "worker");
  const queues = openQueues(config, connection);
  const logger = pino({ level: process.env.TEST_LOG_LEVEL ?? "silent" });

  const harness: Harness = {
    sandbox,
    queues,
    connection,
    env,
    workers: undefined,
    async startWorkers(tuning) {
      harness.workers = await startWorkers({
        queues,
        connection,
        logger,
        tuning,
        callbackSigningSecret: options.callbackSigningSecret,
      });
      return harness.workers;
    },
    async submit(request) {
      // The harness stands in for the API's edge, unparsed: some tests hand in what the API
      // would refuse, to see what the worker makes of data it cannot trust.
      const [outcome] = await submitJobs(queues, [{ account: "default", ...request } as SubmitRequest]);
      if (!outcome?.accepted) throw new Error(`not accepted: ${JSON.stringify(outcome)}`);
      return outcome.id;
    },
    async submitBatch(rows, callbackUrl) {
      const batchId = randomUUID();
      const requests = rows.map(
        ({ provider, name }) =>
          ({
            provider,
            account: "default",
            input: { ...inputFor[provider](), name },
            batchId,
            lane: "bulk",
          }) as SubmitRequest,
      );
      const outcomes = await submitJobs(queues, requests);
      await recordBatch(
        queues,
        batchId,
        outcomes.map((outcome) => ({ id: outcome.id, status: outcome.accepted ? outcome.status : "queued" })),
        callbackUrl,
      );
      return batchId;
    },
    async waitFor(id, until = terminal, timeoutMs = 15_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const view = await getJobView(queues, id);
        if (view && until(view)) return view;
        if (Date.now() > deadline)
          throw new Error(`job ${id} still ${view?.status ?? "missing"} after ${timeoutMs} ms`);
        await new Promise((resolve) => setTimeout(resolve, 25));
      }
    },
    setFaults: (rules) => sandbox.state.setFaults(rules as never),
    creations: (provider) => sandbox.state.stats().creations[provider],
    async close() {
      await harness.workers?.close(1_000);
      await queues.close();
      await deleteKeysWithPrefix(connection, prefix);
      await connection.quit();
      await sandbox.close();
    },
  };
  return harness;
}

export const uniqueName = (prefix = "db") => `${prefix}_${randomUUID().replaceAll("-", "").slice(0, 12)}`;

/** A valid create body per provider with a fresh name. */
export const inputFor: Record<ProviderName, () => Record<string, unknown>> = {
  artie: () => ({
    name: uniqueName(),
    connector: { type: "snowflake", uuid: "conn-1", sharedConfig: { password: "artie-secret" } },
  }),
  bridgeport: () => ({ envId: "env_test", name: uniqueName(), type: "postgres", password: "bridgeport-secret" }),
  prisma: () => ({ projectId: "proj_abc123", name: uniqueName() }),
  postgres: () => ({ name: uniqueName("prov_test") }),
  mysql: () => ({ name: uniqueName("prov_test") }),
};

export interface CallbackReceiver {
  url: string;
  /** Every request received, in order. */
  received: { headers: IncomingHttpHeaders; body: string }[];
  /** Statuses to answer with, in order; 204 once they run out. */
  script: number[];
  close(): void;
}

/** A local HTTP server that records each callback it receives, at `path`. */
export async function startCallbackReceiver(path: string): Promise<CallbackReceiver> {
  const receiver: Omit<CallbackReceiver, "url" | "close"> = { received: [], script: [] };
  const server = createServer((request, response) => {
    let body = "";
    request.on("data", (chunk: Buffer) => {
      body += chunk.toString();
    });
    request.on("end", () => {
      receiver.received.push({ headers: request.headers, body });
      response.statusCode = receiver.script.shift() ?? 204;
      response.end();
    });
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}${path}`;
  return Object.assign(receiver, { url, close: () => void server.close() });
}
