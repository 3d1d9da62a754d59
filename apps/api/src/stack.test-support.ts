// A whole stack in one test process for the operability tests: the sandbox provider, a
// callback receiver, two worker sets (each its own Redis connection and /metrics server, as
// two worker processes would have) and the API listening on a real port; plus one known run
// that leaves jobs in every state.
import { randomUUID } from "node:crypto";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { serve } from "@hono/node-server";
import type { RedisConnection } from "@provisioner/queue";
import { createRedisConnection, deleteKeysWithPrefix, openQueues, type QueueSet } from "@provisioner/queue";
import { type RunningSandbox, startSandbox } from "@provisioner/sandbox";
import {
  createLogger as createWorkerLogger,
  type RunningWorkers,
  serveMetrics,
  startWorkers,
} from "@provisioner/worker";
import { createApp } from "./app.ts";
import {
  adminToken,
  bridgeportInput,
  type Json,
  jsonRequest,
  readerToken,
  redisUrl,
  sandboxConfig,
  silentLogger,
  testTokens,
  waitUntilReady,
} from "./test-support.ts";

/** Values that must never show: a database password, a callback URL's query token, the signing secret. */
export const canaries = {
  password: `canary-pw-${randomUUID()}`,
  callbackToken: `canary-q-${randomUUID()}`,
  signingSecret: `whsec_${Buffer.from(`canary-signing-${randomUUID()}`).toString("base64")}`,
};

export interface Stack {
  apiUrl: string;
  workerMetricsUrls: string[];
  sandbox: RunningSandbox;
  /** Takes notices to `/ok`; refuses those to `/gone` with a 410. */
  receiverUrl: string;
  queues: QueueSet;
  /** A JSON request with the admin token, or the `jobs:read`-only one. */
  call(method: string, path: string, body?: unknown, as?: "admin" | "reader"): Promise<Response>;
  close(): Promise<void>;
}

const listen = (server: Server) =>
  new Promise<number>((resolve) =>
    server.listen(0, "127.0.0.1", () => resolve((server.address() as AddressInfo).port)),
  );

export async function startStack(): Promise<Stack> {
  const prefix = `test-ops-${randomUUID().slice(0, 8)}`;
  const sandbox = await startSandbox();
  // The receiver takes notices to /ok and refuses (410: for good) those to /gone.
  const receiver = createServer((request, response) => {
    request.resume();
    response.writeHead(request.url?.startsWith("/ok") ? 204 : 410).end();
  });
  const receiverUrl = `http://127.0.0.1:${await listen(receiver)}`;
  const loaded = sandboxConfig(sandbox.url, prefix);
  const config = { ...loaded, callbacks: { allowPrivateNetworks: true, maxAttempts: 2, backoffBaseMs: 10 } };

  const apiConnection = createRedisConnection(redisUrl, "api");
  await waitUntilReady(apiConnection);
  const queues = openQueues(config, apiConnection);
  const app = createApp({ queues, tokens: testTokens, logger: silentLogger });
  const api = serve({ fetch: app.fetch, hostname: "127.0.0.1", port: 0 });
  await new Promise((resolve) => api.once("listening", resolve));
  const apiUrl = `http://127.0.0.1:${(api.address() as AddressInfo).port}`;

  const workerSets: { connection: RedisConnection; queues: QueueSet; running: RunningWorkers; metrics: Server }[] = [];
  for (let i = 0; i < 2; i++) {
    const connection = createRedisConnection(redisUrl, "worker");
    const workerQueues = openQueues(config, connection);
    const running = await startWorkers({
      queues: workerQueues,
      connection,
      logger: createWorkerLogger("silent"),
      providers: ["bridgeport"],
      callbackSigningSecret: canaries.signingSecret,
    });
    const metrics = await serveMetrics(running.metrics.registry, 0, "127.0.0.1");
    workerSets.push({ connection, queues: workerQueues, running, metrics });
  }

  const call = (method: string, path: string, body?: unknown, as: "admin" | "reader" = "admin") =>
    fetch(`${apiUrl}${path}`, jsonRequest(method, body, as === "admin" ? adminToken : readerToken));
  return {
    apiUrl,
    workerMetricsUrls: workerSets.map(
      ({ metrics }) => `http://127.0.0.1:${(metrics.address() as AddressInfo).port}/metrics`,
    ),
    sandbox,
    queues,
    call,
    receiverUrl,
    async close() {
      for (const set of workerSets) {
        set.metrics.close();
        await set.running.close(1_000);
      }
      await deleteKeysWithPrefix(apiConnection, prefix);
      await Promise.all([queues.close(), ...workerSets.map((set) => set.queues.close())]);
      for (const set of workerSets) set.connection.disconnect();
      apiConnection.disconnect();
      await new Promise((resolve) => api.close(resolve));
      receiver.close();
      await sandbox.close();
    },
  };
}

async function waitFor<T>(what: string, read: () => Promise<T | undefined>): Promise<T> {
  for (let i = 0; i < 400; i++) {
    const value = await read();
    if (value !== undefined) return value;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  throw new Error(`timed out waiting for ${what}`);
}

export const waitForJob = (stack: Stack, id: string, status: string): Promise<Json> =>
  waitFor(`job ${id} to be ${status}`, async () => {
    const view: Json = await (await stack.call("GET", `/v1/jobs/${id}`)).json();
    return view.status === status ? view : undefined;
  });

/**
 * The known run, on BRIDGEPORT's default account: three databases created (one after a 500,
 * one after a 429 that pauses the queue), one deduplicated (the same name under another key),
 * one dead (a 400), whose `dead` notice the receiver refuses: one failed callback delivery
 * beside one delivered. Returns the ids by what happened to them.
 */
export async function seedKnownRun(stack: Stack) {
  const { receiverUrl } = stack;
  const tag = randomUUID().slice(0, 6);
  stack.sandbox.state.setFaults([
    { provider: "bridgeport", fault: "error", status: 400, namePrefix: `dead_${tag}` },
    { provider: "bridgeport", fault: "error", status: 500, namePrefix: `flaky_${tag}`, times: 1 },
    { provider: "bridgeport", fault: "rate_limit", retryAfter: "1", namePrefix: `slow_${tag}`, times: 1 },
  ]);
  const submit = async (name: string, extra: Record<string, unknown> = {}) => {
    const body = { provider: "bridgeport", input: bridgeportInput(name, canaries.password), ...extra };
    const answer: Json = await (await stack.call("POST", "/v1/jobs", body)).json();
    return answer.id as string;
  };
  const created = await submit(`ok_${tag}`, { callbackUrl: `${receiverUrl}/ok?token=${canaries.callbackToken}` });
  await waitForJob(stack, created, "succeeded");
  const deduplicated = await submit(`ok_${tag}`, { idempotencyKey: `again-${tag}` });
  const dead = await submit(`dead_${tag}`, { callbackUrl: `${receiverUrl}/gone?token=${canaries.callbackToken}` });
  const flaky = await submit(`flaky_${tag}`);
  const slow = await submit(`slow_${tag}`);
  await Promise.all([
    waitForJob(stack, deduplicated, "succeeded"),
    waitForJob(stack, dead, "dead"),
    waitForJob(stack, flaky, "succeeded"),
    waitForJob(stack, slow, "succeeded"),
  ]);
  const failedDelivery = await waitFor("the refused callback to fail", async () => {
    const list: Json = await (await stack.call("GET", "/v1/callback-deliveries?status=failed")).json();
    return list.deliveries[0]?.id as string | undefined;
  });
  stack.sandbox.state.setFaults([]);
  return { created, deduplicated, dead, flaky, slow, failedDelivery };
}
