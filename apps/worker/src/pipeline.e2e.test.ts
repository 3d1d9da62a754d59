import { getDeadLetter, readJobResult, replayDeadLetter } from "@provisioner/queue";
import { readAllValues } from "@provisioner/testing";
import pg from "pg";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { describePipelineScenarios } from "./pipeline-scenarios.ts";
import { type Harness, inputFor, postgresAdminUrl, startHarness } from "./test-support.ts";

let harness: Harness;

beforeAll(async () => {
  harness = await startHarness();
  await harness.startWorkers({ lockDurationMs: 5_000, stalledIntervalMs: 5_000 });
});
afterAll(() => harness.close());
beforeEach(() => harness.setFaults([]));

describePipelineScenarios(() => harness);

describe("retry timing", () => {
  it("waits out a 429's Retry-After without spending an attempt", async () => {
    harness.setFaults([{ provider: "bridgeport", fault: "rate_limit", retryAfter: "2", times: 1 }]);
    const started = Date.now();
    const id = await harness.submit({ provider: "bridgeport", input: inputFor.bridgeport() });
    const view = await harness.waitFor(id);
    expect(view.status).toBe("succeeded");
    expect(Date.now() - started).toBeGreaterThanOrEqual(2_000);
    expect(view.attempts).toBe(1);
    expect(view.errors).toEqual([expect.objectContaining({ kind: "rate_limited", status: 429, retryAfterMs: 2_000 })]);
  });

  it("dies with every attempt's error listed once attempts run out, and a replay succeeds after recovery", async () => {
    harness.setFaults([{ provider: "prisma", fault: "error", status: 500 }]);
    const id = await harness.submit({ provider: "prisma", input: inputFor.prisma() });
    const dead = await harness.waitFor(id);
    expect(dead.status).toBe("dead");
    expect(dead.attempts).toBe(3);
    expect(dead.errors.map((e) => e.attempt)).toEqual([1, 2, 3]);
    const letter = await getDeadLetter(harness.queues, id);
    expect(letter?.errors).toHaveLength(3);
    expect(letter?.reason).toMatchObject({ kind: "transient", status: 500 });

    harness.setFaults([]);
    await replayDeadLetter(harness.queues, id);
    const replayed = await harness.waitFor(id, (view) => view.status === "succeeded");
    expect(replayed.result?.outcome).toBe("created");
    expect(await getDeadLetter(harness.queues, id)).toBeUndefined();
  });

  it("replays with corrected input under a fresh BRIDGEPORT Idempotency-Key", async () => {
    harness.setFaults([{ provider: "bridgeport", fault: "error", status: 400, times: 1 }]);
    const input = inputFor.bridgeport();
    const id = await harness.submit({ provider: "bridgeport", input });
    expect((await harness.waitFor(id)).status).toBe("dead");
    await replayDeadLetter(harness.queues, id, { input: { ...input, type: "mysql" } });
    const view = await harness.waitFor(id, (v) => v.status === "succeeded");
    expect(view.result?.resource).toMatchObject({ name: input.name, type: "mysql" });
  });
});

describe("Prisma provisioning", () => {
  it("waits for provisioning to finish without spending attempts, keeping the connection strings", async () => {
    const slow = await startHarness({ prismaProvisioningMs: 1_200 });
    try {
      await slow.startWorkers();
      const id = await slow.submit({ provider: "prisma", input: inputFor.prisma() });
      const view = await slow.waitFor(id);
      expect(view.status).toBe("succeeded");
      expect(view.result?.outcome).toBe("created");
      expect(view.attempts).toBe(1);
      expect(slow.sandbox.state.stats().requests.prisma.find).toBeGreaterThanOrEqual(1);
      const job = await slow.queues.queueOf("prisma").getJob(id);
      expect(readJobResult(job?.returnvalue)?.secrets).toMatch(/^enc:v1:/);
    } finally {
      await slow.close();
    }
  });
});

describe("isolation between providers", () => {
  it("finishes Artie jobs on time while Prisma answers 503 to everything", async () => {
    harness.setFaults([{ provider: "prisma", fault: "error", status: 503 }]);
    const prisma = await Promise.all(
      Array.from({ length: 20 }, () => harness.submit({ provider: "prisma", input: inputFor.prisma() })),
    );
    const started = Date.now();
    const artie = await Promise.all(
      Array.from({ length: 20 }, () => harness.submit({ provider: "artie", input: inputFor.artie() })),
    );
    const views = await Promise.all(artie.map((id) => harness.waitFor(id, undefined, 5_000)));
    expect(views.every((view) => view.status === "succeeded")).toBe(true);
    expect(Date.now() - started).toBeLessThan(3_000);
    const stillFailing = await Promise.all(prisma.map((id) => harness.waitFor(id, () => true)));
    expect(stillFailing.some((view) => view.status !== "succeeded")).toBe(true);
  });
});

const postgresUp = await new pg.Client({ connectionString: postgresAdminUrl, connectionTimeoutMillis: 2_000 })
  .connect()
  .then(
    async function (this: void) {
      return true;
    },
    () => false,
  );

describe.skipIf(!postgresUp && !process.env.CI)("postgres jobs", () => {
  it("create the database on the real server, and adopt it when it already exists", async () => {
    const input = inputFor.postgres();
    const id = await harness.submit({ provider: "postgres", input });
    const view = await harness.waitFor(id);
    expect(view.status).toBe("succeeded");
    expect(view.result?.outcome).toBe("created");
    const again = await harness.submit({ provider: "postgres", input, idempotencyKey: "other" });
    expect((await harness.waitFor(again)).result?.outcome).toBe("deduplicated");
    const admin = new pg.Client({ connectionString: postgresAdminUrl });
    await admin.connect();
    const { rowCount } = await admin.query("SELECT 1 FROM pg_database WHERE datname = $1", [input.name]);
    await admin.query(`DROP DATABASE IF EXISTS "${input.name as string}"`);
    await admin.end();
    expect(rowCount).toBe(1);
  });
});

describe("secrets at rest", () => {
  it("never stores a password, a sharedConfig or a connection string in plaintext in Redis", async () => {
    const ids = await Promise.all([
      harness.submit({ provider: "bridgeport", input: inputFor.bridgeport() }),
      harness.submit({ provider: "artie", input: inputFor.artie() }),
      harness.submit({ provider: "prisma", input: inputFor.prisma() }),
    ]);
    harness.setFaults([{ provider: "bridgeport", fault: "error", status: 400 }]);
    const dead = await harness.submit({ provider: "bridgeport", input: inputFor.bridgeport() });
    await Promise.all([...ids, dead].map((id) => harness.waitFor(id)));

    const values = await readAllValues(harness.connection, harness.env.QUEUE_PREFIX as string);
    const everything = values.join("\n");
    expect(everything.length).toBeGreaterThan(1_000);
    for (const secret of ["bridgeport-secret", "artie-secret", "postgres://"]) expect(everything).not.toContain(secret);
  });
});

describe("untrusted job data", () => {
  it("parks a job whose data fails validation at once, without calling the provider", async () => {
    const before = harness.sandbox.state.stats().requests.bridgeport.create;
    // An id of the form the API makes (provider, account, digest), so the job view finds its queue.
    const id = `bridgeport-default-${"0".repeat(32)}`;
    await harness.queues
      .queueOf("bridgeport")
      .add("create-database", { provider: "bridgeport", input: "rm -rf /" } as never, {
        jobId: id,
        attempts: 3,
      });
    const view = await harness.waitFor(id);
    expect(view.status).toBe("dead");
    expect(view.attempts).toBe(1);
    expect(view.input).toEqual({});
    expect(view.errors).toEqual([expect.objectContaining({ kind: "invalid", code: "INVALID_JOB_DATA" })]);
    expect(harness.sandbox.state.stats().requests.bridgeport.create).toBe(before);
    expect((await getDeadLetter(harness.queues, id))?.reason.code).toBe("INVALID_JOB_DATA");
  });
});
