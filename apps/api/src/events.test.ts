import { randomBytes } from "node:crypto";
import type { RedisConnection } from "@provisioner/queue";
import { createRedisConnection, deleteKeysWithPrefix, openQueues, type QueueSet } from "@provisioner/queue";
import { Webhook } from "standardwebhooks";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type App, createApp } from "./app.ts";
import {
  adminToken,
  jsonRequest,
  queuedCount,
  redisUrl,
  silentLogger,
  testConfig,
  testTokens,
  waitUntilReady,
} from "./test-support.ts";

const secret = `whsec_${randomBytes(24).toString("base64")}`;
let connection: RedisConnection;
let queues: QueueSet;
let app: App;

beforeAll(async () => {
  const base = testConfig();
  const config = {
    ...base,
    sources: { billing: { secret } },
    triggers: [
      {
        source: "billing",
        event: "tenant.created",
        provider: "bridgeport" as const,
        account: "default",
        input: { envId: "env_prod", name: "tenant-{{data.tenantId}}", type: "postgres", port: "{{data.port}}" },
      },
    ],
  };
  connection = createRedisConnection(redisUrl, "api");
  await waitUntilReady(connection);
  queues = openQueues(config, connection);
  app = createApp({ queues, tokens: testTokens, logger: silentLogger });
});
afterAll(async () => {
  await deleteKeysWithPrefix(connection, queues.config.prefix);
  await queues.close();
  connection.disconnect();
});

function send(id: string, event: unknown, options: { source?: string; at?: Date; key?: string } = {}) {
  const body = JSON.stringify(event);
  const at = options.at ?? new Date();
  return app.request(`/v1/events/${options.source ?? "billing"}`, {
    method: "POST",
    headers: {
      "content-type": "application/json",
      "webhook-id": id,
      "webhook-timestamp": String(Math.floor(at.getTime() / 1000)),
      "webhook-signature": new Webhook(options.key ?? secret).sign(id, at, body),
    },
    body,
  });
}

const created = (tenantId: string, port = 5432) => ({
  type: "tenant.created",
  timestamp: new Date().toISOString(),
  data: { tenantId, port },
});
const queued = () => queuedCount(queues.queueOf("bridgeport"));

describe("POST /v1/events/{source}", () => {
  it("turns a signed event into the trigger's job, keyed by its webhook-id, with no bearer token", async () => {
    const response = await send("msg_1", created("t1"));
    expect(response.status).toBe(202);
    const body = (await response.json()) as { eventId: string; jobs: { id: string; deduplicated: boolean }[] };
    expect(body.eventId).toBe("msg_1");
    expect(body.jobs).toHaveLength(1);
    const job = (await (
      await app.request(`/v1/jobs/${body.jobs[0]?.id}`, jsonRequest("GET", undefined, adminToken))
    ).json()) as {
      idempotencyKey: string;
      input: Record<string, unknown>;
      metadata: Record<string, unknown>;
    };
    expect(job.idempotencyKey).toBe("msg_1");
    expect(job.input).toMatchObject({ envId: "env_prod", name: "tenant-t1", type: "postgres", port: 5432 });
    expect(job.metadata).toEqual({ source: "billing", event: "tenant.created" });
  });

  it("answers a redelivered event with the job it made, making no other", async () => {
    const first = (await (await send("msg_2", created("t2"))).json()) as { jobs: { id: string }[] };
    const before = await queued();
    const again = await send("msg_2", created("t2"));
    expect(again.status).toBe(200);
    const body = (await again.json()) as { jobs: { id: string; deduplicated: boolean }[] };
    expect(body.jobs).toEqual([expect.objectContaining({ id: first.jobs[0]?.id, deduplicated: true })]);
    expect(await queued()).toBe(before);
  });

  it("refuses the same webhook-id for a different event", async () => {
    await send("msg_3", created("t3"));
    const reused = await send("msg_3", created("t3-other"));
    expect(reused.status).toBe(409);
    expect(((await reused.json()) as { error: { code: string } }).error.code).toBe("IDEMPOTENCY_KEY_REUSED");
  });

  it("refuses a bad signature, a missing one and a stale timestamp with 401, queuing nothing", async () => {
    const before = await queued();
    expect((await send("msg_4", created("t4"), { key: `whsec_${randomBytes(24).toString("base64")}` })).status).toBe(
      401,
    );
    expect((await send("msg_5", created("t5"), { at: new Date(Date.now() - 10 * 60_000) })).status).toBe(401);
    const unsigned = await app.request("/v1/events/billing", {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${adminToken}` },
      body: JSON.stringify(created("t6")),
    });
    expect(unsigned.status).toBe(401);
    expect(await queued()).toBe(before);
  });

  it("answers 404 for a source that is not configured", async () => {
    expect((await send("msg_7", created("t7"), { source: "crm" })).status).toBe(404);
  });

  it("accepts an event no trigger is for, making no job", async () => {
    const response = await send("msg_8", { type: "invoice.paid", timestamp: "2026-11-22T08:00:00Z", data: {} });
    expect(response.status).toBe(202);
    expect(((await response.json()) as { jobs: unknown[] }).jobs).toEqual([]);
  });

  it("names the event field a trigger needs and the event lacks, queuing nothing", async () => {
    const before = await queued();
    const response = await send("msg_9", {
      type: "tenant.created",
      timestamp: "2026-11-22T08:00:00Z",
      data: { port: 1 },
    });
    expect(response.status).toBe(400);
    expect(((await response.json()) as { error: { field: string } }).error.field).toBe("data.tenantId");
    expect(await queued()).toBe(before);
  });

  it("names the trigger and field when the rendered input fails the provider's schema", async () => {
    const response = await send("msg_10", created("t10", "not-a-port" as unknown as number));
    expect(response.status).toBe(400);
    expect(((await response.json()) as { error: { field: string } }).error.field).toBe("triggers.0.input.port");
  });
});
