import { identityKeyOf, parseProviderInput } from "@provisioner/provider-client";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { createIdentityLocks, type Identity, identityLockKey } from "./jobs/create-database/identity-lock.ts";
import { fastProviderSettings, type Harness, inputFor, startHarness } from "./test-support.ts";
import { type RunningWorkers, startWorkers } from "./workers.ts";

let harness: Harness;
let second: RunningWorkers;

// One job at a time per worker, so two jobs run at once only on two workers.
const oneAtATime = { ...fastProviderSettings, concurrency: 1 };

beforeAll(async () => {
  harness = await startHarness({ providers: { artie: oneAtATime } });
  await harness.startWorkers();
  second = await startWorkers({
    queues: harness.queues,
    connection: harness.connection,
    logger: (await import("pino")).pino({ level: "silent" }),
    providers: ["artie"],
  });
});
afterAll(async () => {
  await second.close(1_000);
  await harness.close();
});
beforeEach(() => harness.setFaults([]));

describe("one identity, many keys", () => {
  it("two jobs for one Artie database under different keys, run at once by two workers, create it once", async () => {
    // Slow look-ups and creates, so both jobs are between look-up and create at the same time.
    harness.setFaults([{ provider: "artie", operation: "*", fault: "latency", latencyMs: 300 }]);
    const input = inputFor.artie();
    const ids = await Promise.all(
      ["race-a", "race-b"].map((idempotencyKey) => harness.submit({ provider: "artie", input, idempotencyKey })),
    );
    const views = await Promise.all(ids.map((id) => harness.waitFor(id)));
    expect(views.map((view) => view.status)).toEqual(["succeeded", "succeeded"]);
    expect(views.map((view) => view.result?.outcome).sort()).toEqual(["created", "deduplicated"]);
    expect(harness.creations("artie")[`conn-1/${input.name as string}`]).toBe(1);
  });
});

describe("a provider that refuses a second create", () => {
  it("keeps two BRIDGEPORT jobs for one database under different keys to one create, taking no lock", async () => {
    // Slow creates, so both jobs are at the provider at once (the harness's worker runs two at a time).
    harness.setFaults([{ provider: "bridgeport", operation: "*", fault: "latency", latencyMs: 300 }]);
    const input = inputFor.bridgeport();
    const ids = await Promise.all(
      ["race-c", "race-d"].map((idempotencyKey) => harness.submit({ provider: "bridgeport", input, idempotencyKey })),
    );
    await new Promise((resolve) => setTimeout(resolve, 150));
    const locks = await harness.connection.keys(`${harness.queues.config.prefix}:identity-lock:*`);
    const views = await Promise.all(ids.map((id) => harness.waitFor(id)));
    expect(views.map((view) => view.status)).toEqual(["succeeded", "succeeded"]);
    expect(views.map((view) => view.result?.outcome).sort()).toEqual(["created", "deduplicated"]);
    expect(harness.creations("bridgeport")[`env_test/${input.name as string}`]).toBe(1);
    expect(locks).toEqual([]);
  });
});

const artieIdentity = (input: Record<string, unknown>): Identity => ({
  provider: "artie",
  account: "default",
  key: identityKeyOf("artie", parseProviderInput("artie", input)),
});
const lockKeyOf = (input: Record<string, unknown>) =>
  identityLockKey(harness.queues.config.prefix, artieIdentity(input));

describe("the identity lock", () => {
  it("is taken over once the lease of a holder that died runs out, without spending an attempt", async () => {
    const input = inputFor.artie();
    // A holder that never releases: a worker killed mid-create.
    await harness.connection.set(lockKeyOf(input), "dead-holder", "PX", 1_500);
    const started = Date.now();
    const id = await harness.submit({ provider: "artie", input });
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    expect(harness.creations("artie")[`conn-1/${input.name as string}`]).toBeUndefined();
    const view = await harness.waitFor(id);
    expect(view.status).toBe("succeeded");
    expect(view.result?.outcome).toBe("created");
    expect(Date.now() - started).toBeGreaterThanOrEqual(1_400);
    expect(view.attempts).toBe(1);
    expect(view.errors).toEqual([]);
    expect(await harness.connection.exists(lockKeyOf(input))).toBe(0);
  });

  it("is released when the create fails for good, and when it fails for a retry", async () => {
    harness.setFaults([{ provider: "artie", fault: "error", status: 400, times: 1 }]);
    const doomed = inputFor.artie();
    const dead = await harness.waitFor(await harness.submit({ provider: "artie", input: doomed }));
    expect(dead.status).toBe("dead");
    expect(await harness.connection.exists(lockKeyOf(doomed))).toBe(0);

    // Retry-After holds the next run back long enough to see the lock free between the two.
    harness.setFaults([{ provider: "artie", fault: "error", status: 500, retryAfter: "2", times: 1 }]);
    const retried = inputFor.artie();
    const id = await harness.submit({ provider: "artie", input: retried });
    const view = await harness.waitFor(id, (job) => job.errors.length > 0);
    expect(view.errors[0]).toMatchObject({ kind: "transient", status: 500 });
    expect(await harness.connection.exists(lockKeyOf(retried))).toBe(0);
    expect((await harness.waitFor(id)).status).toBe("succeeded");
  });

  it("is renewed while held, and never released by a holder that lost it", async () => {
    const locks = createIdentityLocks({
      connection: harness.connection,
      prefix: harness.queues.config.prefix,
      leaseMs: 300,
    });
    const identity = artieIdentity(inputFor.artie());
    const key = identityLockKey(harness.queues.config.prefix, identity);
    await locks.hold(identity, undefined, async () => {
      await new Promise((resolve) => setTimeout(resolve, 900));
      await expect(locks.hold(identity, undefined, async () => "second")).rejects.toMatchObject({
        name: "IdentityBusyError",
      });
      // The lease ran out under a stalled holder and another took the lock over.
      await harness.connection.set(key, "successor", "PX", 5_000);
    });
    expect(await harness.connection.get(key)).toBe("successor");
    await harness.connection.del(key);
  });
});
