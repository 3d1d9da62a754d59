import { randomUUID } from "node:crypto";
import { type JobData, type JobResult, type Lane, readJobData, submitJobs } from "@provisioner/queue";
import { defaultSandboxTokens } from "@provisioner/sandbox";
import type { Job } from "bullmq";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Harness, startHarness, uniqueName } from "./test-support.ts";

// Several BRIDGEPORT accounts on one sandbox, each its own queue and Worker. The sandbox
// tells an account's requests apart by the database names each test gives its jobs.
let harness: Harness;
const lanesAccount = { concurrency: 1 };

beforeAll(async () => {
  harness = await startHarness({
    accounts: (sandboxUrl) => {
      const good = { url: `${sandboxUrl}/bridgeport`, token: defaultSandboxTokens.bridgeport };
      return {
        bridgeport: {
          a: good,
          b: good,
          limited: { ...good, settings: { rateLimit: { max: 1, durationMs: 20_000 } } },
          wrong: { url: good.url, token: "bport_pat_not-the-one" },
          ordering: { ...good, settings: lanesAccount },
          batches: { ...good, settings: lanesAccount },
          stream: { ...good, settings: lanesAccount },
        },
      };
    },
  });
  harness.setFaults([
    { provider: "bridgeport", fault: "rate_limit", retryAfter: "30", namePrefix: "acct_a" },
    { provider: "bridgeport", fault: "latency", latencyMs: 40, namePrefix: "lane" },
  ]);
  await harness.startWorkers();
});
afterAll(() => harness?.close());

/** Queues one request's worth of jobs on `account`, as one batch; answers their ids in order. */
async function submitMany(account: string, count: number, lane: Lane, namePrefix: string): Promise<string[]> {
  const batchId = randomUUID();
  const outcomes = await submitJobs(
    harness.queues,
    Array.from({ length: count }, () => ({
      provider: "bridgeport" as const,
      account,
      lane,
      batchId,
      input: { envId: "env_test", name: uniqueName(namePrefix), type: "postgres" as const, password: "pw-secret" },
    })),
  );
  return outcomes.map((outcome) => {
    if (!outcome.accepted) throw new Error(`not accepted: ${JSON.stringify(outcome)}`);
    return outcome.id;
  });
}

const waitAll = (ids: readonly string[], timeoutMs?: number) =>
  Promise.all(ids.map((id) => harness.waitFor(id, undefined, timeoutMs)));

/** When each job started (BullMQ's `processedOn`), by id. */
async function startedAt(account: string, ids: readonly string[]): Promise<Map<string, number>> {
  const queue = harness.queues.queueOf("bridgeport", account);
  const jobs = (await Promise.all(ids.map((id) => queue.getJob(id)))) as Job<JobData, JobResult>[];
  return new Map(jobs.map((job) => [job.id as string, job.processedOn ?? Number.POSITIVE_INFINITY]));
}

async function until(condition: () => Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe("per-account isolation", () => {
  it("pauses only the account that answered 429 with Retry-After: 30; another account's jobs finish meanwhile", async () => {
    const paused = await submitMany("a", 3, "interactive", "acct_a");
    await until(
      async () => (await harness.waitFor(paused[0] as string, () => true)).errors.length > 0,
      10_000,
      "account a answered 429",
    );
    const others = await submitMany("b", 5, "interactive", "acct_b");
    const views = await waitAll(others, 10_000);
    expect(views.map((view) => view.status)).toEqual(Array(5).fill("succeeded"));
    // Account a is still waiting out its 30 s: not one of its jobs went through.
    for (const id of paused) {
      const view = await harness.waitFor(id, () => true);
      expect(view.status).not.toBe("succeeded");
      expect(view.errors.every((error) => error.kind === "rate_limited")).toBe(true);
    }
  });

  it("keeps one account's rate limit to that account: a limited account does not slow another", async () => {
    const limited = await submitMany("limited", 3, "interactive", "acct_limited");
    const free = await submitMany("b", 8, "interactive", "acct_free");
    await waitAll(free, 10_000);
    const views = await Promise.all(limited.map((id) => harness.waitFor(id, () => true)));
    // One create per 20 s for `limited` (its own override); the other account ran all of its.
    expect(views.filter((view) => view.status === "succeeded").length).toBeLessThanOrEqual(1);
  });

  it("kills a wrong token's job as auth and blocks no other account", async () => {
    const [bad] = await submitMany("wrong", 1, "interactive", "acct_wrong");
    const good = await submitMany("b", 3, "interactive", "acct_good");
    const dead = await harness.waitFor(bad as string);
    expect(dead.status).toBe("dead");
    expect(dead.errors.at(-1)).toMatchObject({ kind: "auth" });
    expect((await waitAll(good)).map((view) => view.status)).toEqual(Array(3).fill("succeeded"));
  });

  it("refuses a job whose data names another account than its queue's, without calling the provider", async () => {
    const [done] = await submitMany("b", 1, "interactive", "acct_forged");
    const queue = harness.queues.queueOf("bridgeport", "b");
    const original = (await harness.waitFor(done as string)).id;
    const job = await queue.getJob(original);
    // Someone with Redis access puts a job claiming account a in account b's queue (in the full
    // form: the short one takes its account from the queue).
    const id = `bridgeport-b-${"f".repeat(32)}`;
    const data = readJobData(job as Job<JobData>).data;
    const forged = { ...data, account: "a", submissionId: randomUUID(), submittedAt: Date.now() };
    await queue.add("create-database", forged, { jobId: id, attempts: 3 });
    const view = await harness.waitFor(id);
    expect(view.status).toBe("dead");
    expect(view.errors.at(-1)).toMatchObject({ code: "ACCOUNT_NOT_CONFIGURED" });
  });
});

describe("lanes within one account (concurrency 1, 40 ms a create)", () => {
  it("starts an interactive job before the bulk jobs waiting on a busy account", async () => {
    const bulk = await submitMany("ordering", 20, "bulk", "lane_order_bulk");
    const [interactive] = await submitMany("ordering", 1, "interactive", "lane_order_now");
    await waitAll([...bulk, interactive as string], 20_000);
    const started = await startedAt("ordering", [...bulk, interactive as string]);
    const interactiveStart = started.get(interactive as string) as number;
    const bulkBefore = bulk.filter((id) => (started.get(id) as number) < interactiveStart);
    // At most the bulk job running when it arrived and the one whose turn had come.
    expect(bulkBefore.length).toBeLessThanOrEqual(2);
  });

  it("shares the account between two batches round robin: the second progresses alongside the first", async () => {
    const first = await submitMany("batches", 30, "bulk", "lane_first");
    await until(
      async () =>
        ((await harness.queues.queueOf("bridgeport", "batches").getJobCounts("completed")).completed ?? 0) >= 5,
      10_000,
      "first batch under way",
    );
    const second = await submitMany("batches", 30, "bulk", "lane_second");
    await waitAll([...first, ...second], 30_000);
    const started = await startedAt("batches", [...first, ...second]);
    const firstDone = Math.max(...first.map((id) => started.get(id) as number));
    const secondBefore = second.filter((id) => (started.get(id) as number) < firstDone);
    // First in, first out would start none of the second batch before the first ends.
    expect(secondBefore.length).toBeGreaterThanOrEqual(12);
  });

  it("keeps bulk work moving under a steady interactive stream: bulk never starves", async () => {
    const bulk = await submitMany("stream", 10, "bulk", "lane_stream_bulk");
    const queue = harness.queues.queueOf("bridgeport", "stream");
    const bulkDone = async () => {
      const jobs = await Promise.all(bulk.map((id) => queue.getJob(id)));
      return jobs.every((job) => job?.finishedOn !== undefined);
    };
    const deadline = Date.now() + 20_000;
    // Interactive jobs arrive faster than the account runs them, for as long as bulk is unfinished.
    while (!(await bulkDone())) {
      if (Date.now() > deadline) throw new Error("bulk jobs starved");
      await submitMany("stream", 2, "interactive", "lane_stream_now");
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    // The stream saturated the account: with every bulk job finished, interactive jobs still wait.
    expect((await queue.getJobCounts("prioritized")).prioritized).toBeGreaterThan(0);
    const views = await waitAll(bulk);
    expect(views.map((view) => view.status)).toEqual(Array(10).fill("succeeded"));
  });
});
