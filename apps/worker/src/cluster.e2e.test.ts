import { randomBytes } from "node:crypto";
import type { ProviderName } from "@provisioner/provider-client";
import { type CallbackEvent, getDeadLetter, replayDeadLetter } from "@provisioner/queue";
import { type RedisCluster, startRedisCluster } from "@provisioner/testing";
import { Webhook } from "standardwebhooks";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { describePipelineScenarios } from "./pipeline-scenarios.ts";
import { type CallbackReceiver, type Harness, inputFor, startCallbackReceiver, startHarness } from "./test-support.ts";

// The worker's pipeline against a real Redis Cluster: three masters started for this file.
const secret = `whsec_${randomBytes(24).toString("base64")}`;
let cluster: RedisCluster;
let harness: Harness;
let receiver: CallbackReceiver;

beforeAll(async () => {
  cluster = await startRedisCluster();
  receiver = await startCallbackReceiver("/hooks");
  harness = await startHarness({
    redisClusterNodes: cluster.nodes,
    callbackSigningSecret: secret,
    callbackAllowPrivateNetworks: true,
  });
  await harness.startWorkers({ lockDurationMs: 5_000, stalledIntervalMs: 1_000 });
}, 60_000);
// Stopping workers and a cluster on a loaded CI machine can outlast the default 20 s.
afterAll(async () => {
  await harness?.close();
  receiver?.close();
  await cluster?.stop();
}, 60_000);
beforeEach(() => harness.setFaults([]));

it("runs on an ioredis Cluster connection", () => {
  expect(harness.connection.isCluster).toBe(true);
});

describePipelineScenarios(() => harness);

describe("on a cluster", () => {
  it("makes one job of a repeated submission", async () => {
    const input = inputFor.bridgeport();
    const ids = await Promise.all(
      [1, 2, 3].map(() => harness.submit({ provider: "bridgeport", input, idempotencyKey: "once-on-cluster" })),
    );
    expect(new Set(ids).size).toBe(1);
    expect((await harness.waitFor(ids[0] as string)).status).toBe("succeeded");
    expect(harness.creations("bridgeport")[`env_test/${input.name as string}`]).toBe(1);
  });

  it("keeps a dead letter and replays it to success", async () => {
    harness.setFaults([{ provider: "prisma", fault: "error", status: 500 }]);
    const id = await harness.submit({ provider: "prisma", input: inputFor.prisma() });
    expect((await harness.waitFor(id)).status).toBe("dead");
    expect((await getDeadLetter(harness.queues, id))?.reason).toMatchObject({ kind: "transient", status: 500 });
    harness.setFaults([]);
    await replayDeadLetter(harness.queues, id);
    expect((await harness.waitFor(id, (view) => view.status === "succeeded")).result?.outcome).toBe("created");
    expect(await getDeadLetter(harness.queues, id)).toBeUndefined();
  });

  it("delivers one signed callback when a job ends", async () => {
    const id = await harness.submit({ provider: "artie", input: inputFor.artie(), callbackUrl: receiver.url });
    await harness.waitFor(id);
    for (let i = 0; i < 200 && !receiver.received.some(({ body }) => body.includes(id)); i++) {
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
    const mine = receiver.received.filter(({ body }) => body.includes(id));
    expect(mine).toHaveLength(1);
    const [{ headers, body }] = mine as [(typeof mine)[number]];
    const event = new Webhook(secret).verify(body, headers as Record<string, string>) as CallbackEvent;
    expect(event).toMatchObject({ type: "job.succeeded", data: { id, status: "succeeded" } });
  });

  it("loses no accepted job when the master holding the queues restarts from its append-only file", async () => {
    harness.setFaults([{ provider: "*", fault: "latency", latencyMs: 200 }]);
    const providers: Exclude<ProviderName, "postgres">[] = ["artie", "bridgeport", "prisma"];
    const submitted = await Promise.all(
      Array.from({ length: 45 }, async (_, i) => {
        const provider = providers[i % providers.length] as (typeof providers)[number];
        return harness.submit({ provider, input: inputFor[provider]() });
      }),
    );
    await harness.waitFor(submitted[0] as string, (view) => view.status !== "queued");
    await cluster.restartMaster(await cluster.masterOf("{bridgeport.default}"));
    harness.setFaults([]);

    const views = await Promise.all(submitted.map((id) => harness.waitFor(id, undefined, 30_000)));
    expect(views.map((view) => view.status)).toEqual(submitted.map(() => "succeeded"));
    expect(harness.sandbox.state.stats().duplicates).toEqual([]);
  }, 60_000);
});
