import type { ProviderName } from "@provisioner/provider-client";
import { type PrivateRedis, startPrivateRedis } from "@provisioner/testing";
import { afterAll, beforeAll, expect, it } from "vitest";
import { type Harness, inputFor, startHarness } from "./test-support.ts";

let redis: PrivateRedis;
let harness: Harness;

beforeAll(async () => {
  redis = await startPrivateRedis();
  harness = await startHarness({ redisUrl: redis.url });
  await harness.startWorkers({ lockDurationMs: 5_000, stalledIntervalMs: 1_000 });
});
afterAll(async () => {
  await harness.close();
  await redis.close();
});

it("loses no accepted job across a Redis restart, and workers finish every one of them, each created once", async () => {
  // Slow enough that the restart lands while calls are in flight.
  harness.setFaults([{ provider: "*", fault: "latency", latencyMs: 200 }]);
  const providers: Exclude<ProviderName, "postgres" | "mysql">[] = ["artie", "bridgeport", "prisma"];
  const submitted = await Promise.all(
    Array.from({ length: 60 }, async (_, i) => {
      const provider = providers[i % providers.length] as (typeof providers)[number];
      const input = inputFor[provider]();
      return { provider, input, id: await harness.submit({ provider, input }) };
    }),
  );

  await harness.waitFor(submitted[0]?.id as string, (view) => view.status !== "queued");
  await redis.stop();
  await new Promise((resolve) => setTimeout(resolve, 1_000));
  await redis.start();
  harness.setFaults([]);

  const views = await Promise.all(submitted.map(({ id }) => harness.waitFor(id, undefined, 30_000)));
  expect(views.map((view) => view.status)).toEqual(submitted.map(() => "succeeded"));
  const { creations, duplicates } = harness.sandbox.state.stats();
  expect(duplicates).toEqual([]);
  const created = submitted
    .filter(({ provider }) => provider !== "prisma")
    .map(({ provider, input }) => creations[provider][`${provider === "artie" ? "conn-1" : "env_test"}/${input.name}`]);
  expect(created.every((count) => count === 1)).toBe(true);
});
