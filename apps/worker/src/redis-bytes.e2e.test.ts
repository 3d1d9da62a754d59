import { type PrivateRedis, startPrivateRedis } from "@provisioner/testing";
import { afterAll, beforeAll, expect, it } from "vitest";
import { type Harness, inputFor, startHarness } from "./test-support.ts";

// What a finished job keeps in Redis, on Redis's default settings (a Redis of the test's own, so
// no `hash-max-listpack-value` elsewhere changes the encoding): its hash is a hash table, where
// the fields a succeeded job drops (packages/queue finished-job.ts) and its deflated result
// (job-result.ts) are most of what was saved. Under this test's prefix a BRIDGEPORT job's hash
// takes 1,160 bytes; 1,608 before both, 1,352 without the trim, 1,416 without the deflate, so
// the bound fails if either is undone.
let redis: PrivateRedis;
let harness: Harness;

beforeAll(async () => {
  redis = await startPrivateRedis({ appendOnly: false });
  harness = await startHarness({ redisUrl: redis.url });
});
afterAll(async () => {
  await harness?.close();
  await redis?.close();
});

it("keeps a succeeded BRIDGEPORT job's hash within 1,250 bytes on Redis's default settings", async () => {
  const ids = await Promise.all(
    [1, 2, 3].map(() => harness.submit({ provider: "bridgeport", input: inputFor.bridgeport() })),
  );
  await harness.startWorkers();
  const queue = harness.queues.queueOf("bridgeport");
  for (const id of ids) {
    expect((await harness.waitFor(id)).status).toBe("succeeded");
    // Its event lists it as succeeded just after BullMQ completes it; the trim comes with it.
    const deadline = Date.now() + 5_000;
    while ((await harness.connection.hexists(queue.toKey(id), "priority")) === 1) {
      if (Date.now() > deadline) throw new Error(`job ${id} was not trimmed`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    expect(await harness.connection.call("OBJECT", "ENCODING", queue.toKey(id))).toBe("hashtable");
    const bytes = Number(await harness.connection.call("MEMORY", "USAGE", queue.toKey(id), "SAMPLES", "0"));
    expect(bytes).toBeLessThanOrEqual(1_250);
  }
}, 30_000);
