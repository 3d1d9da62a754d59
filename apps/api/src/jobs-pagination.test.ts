import { type ProviderName, parseProviderRequest, providerNames } from "@provisioner/provider-client";
import type { RedisConnection } from "@provisioner/queue";
import {
  createRedisConnection,
  deleteKeysWithPrefix,
  type JobData,
  type JobProgress,
  type JobStatus,
  jobStatuses,
  readJobData,
  recordJobStatus,
  type SubmitRequest,
  submitJobs,
} from "@provisioner/queue";
import { type Job, UnrecoverableError, Worker } from "bullmq";
import fc from "fast-check";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { type Json, redisUrl, startTestApi, type TestApi } from "./test-support.ts";

let api: TestApi;
let workerConnection: RedisConnection;
beforeAll(async () => {
  api = await startTestApi();
  workerConnection = createRedisConnection(redisUrl, "worker");
});
afterAll(async () => {
  await api.close();
  await workerConnection.quit();
});
// Every property run starts from an empty prefix.
beforeEach(() => deleteKeysWithPrefix(api.connection, api.queues.config.prefix));

const inputOf: Record<ProviderName, (name: string) => Record<string, unknown>> = {
  artie: (name) => ({ name, connector: { type: "snowflake", uuid: "conn-1", sharedConfig: { password: "pw" } } }),
  bridgeport: (name) => ({ envId: "env_test", name, type: "postgres", password: "pw" }),
  prisma: (name) => ({ projectId: "proj_abc123", name }),
  postgres: (name) => ({ name }),
  mysql: (name) => ({ name }),
};
let serial = 0;
const requestFor = (provider: ProviderName): SubmitRequest => {
  serial += 1;
  const request = parseProviderRequest(provider, inputOf[provider](`page_${serial}`));
  return { ...request, account: "default", idempotencyKey: `k-${serial}` };
};

/** Where a generated job should end up; `provisioning` is BullMQ's delayed with the runner's mark. */
const targets = ["queued", "running", "retrying", "provisioning", "succeeded", "dead"] as const;
type Target = (typeof targets)[number];
const statusOfTarget = (target: Target): JobStatus => (target === "provisioning" ? "running" : target);

/** A worker that takes jobs only when told, so a test moves each one where it wants. */
function manualWorker(provider: ProviderName): Worker<JobData> {
  return new Worker<JobData>(api.queues.queueOf(provider).name, null, {
    connection: workerConnection,
    prefix: api.queues.config.prefix,
    autorun: false,
  });
}
const token = "pagination-test";
const later = () => Date.now() + 3_600_000;

/** Records a move in the listing's status indexes, as the worker's events (or its runner) do. */
const record = (job: Job<JobData>, status: JobStatus) => recordJobStatus(api.queues, job, status);

async function moveActiveJob(job: Job<JobData>, target: Exclude<Target, "queued" | "running">): Promise<void> {
  await moveActiveJobUnrecorded(job, target);
  await record(job, statusOfTarget(target));
}

/** The move alone, as BullMQ makes it in its own scripts: the status indexes lag behind it. */
async function moveActiveJobUnrecorded(job: Job<JobData>, target: Exclude<Target, "queued" | "running">) {
  if (target === "succeeded") {
    await job.moveToCompleted(
      { outcome: "created", resource: {}, completedAt: new Date().toISOString() },
      token,
      false,
    );
  } else if (target === "dead") {
    await job.moveToFailed(new UnrecoverableError("gave up"), token, false);
  } else {
    if (target === "provisioning") {
      const mark: JobProgress = { created: true, provisioningRun: job.attemptsStarted };
      await job.updateProgress(mark);
    }
    await job.moveToDelayed(later(), token);
  }
}

interface Submitted {
  id: string;
  provider: ProviderName;
  submittedAt: number;
}

/** Submits in batches (one timestamp per batch, so ties are common), repeating some requests. */
async function submitInBatches(batches: { provider: ProviderName; repeat: boolean }[][]): Promise<Submitted[]> {
  const jobs = new Map<string, Submitted>();
  const sent: SubmitRequest[] = [];
  for (const batch of batches) {
    const requests = batch.map(({ provider, repeat }) =>
      repeat && sent.length > 0 ? (sent[serial % sent.length] as SubmitRequest) : requestFor(provider),
    );
    sent.push(...requests);
    const outcomes = await submitJobs(api.queues, requests);
    for (const outcome of outcomes) {
      if (!outcome.accepted) throw new Error(`rejected: ${outcome.message}`);
      if (jobs.has(outcome.id)) continue;
      const provider = outcome.id.slice(0, outcome.id.indexOf("-")) as ProviderName;
      const job = await api.queues.queueOf(provider).getJob(outcome.id);
      if (!job) throw new Error(`job ${outcome.id} is missing`);
      jobs.set(outcome.id, { id: outcome.id, provider, submittedAt: readJobData(job).data.submittedAt });
    }
    // Let the clock move between some batches and not others.
    if (batch.length % 2 === 0) await new Promise((resolve) => setTimeout(resolve, 2));
  }
  return [...jobs.values()];
}

/** Newest first; jobs submitted in the same millisecond by id, highest first. */
const newestFirst = (a: Submitted, b: Submitted) =>
  b.submittedAt - a.submittedAt || (a.id < b.id ? 1 : a.id > b.id ? -1 : 0);

/** Every page of `GET /v1/jobs` with these filters, each checked against `limit`. */
async function walk(query: {
  status?: JobStatus | undefined;
  provider?: ProviderName | undefined;
  limit: number;
}): Promise<string[]> {
  const ids: string[] = [];
  let cursor: string | null = null;
  for (let page = 0; page < 500; page++) {
    const params = new URLSearchParams({ limit: String(query.limit) });
    if (query.status) params.set("status", query.status);
    if (query.provider) params.set("provider", query.provider);
    if (cursor) params.set("cursor", cursor);
    const res = await api.call("GET", `/v1/jobs?${params}`);
    expect(res.status).toBe(200);
    const body: Json = await res.json();
    expect(body.jobs.length).toBeLessThanOrEqual(query.limit);
    for (const job of body.jobs) {
      if (query.status) expect(job.status).toBe(query.status);
      if (query.provider) expect(job.provider).toBe(query.provider);
      ids.push(job.id);
    }
    cursor = body.nextCursor;
    if (cursor === null) return ids;
  }
  throw new Error("the walk never ended");
}

const providerArb = fc.constantFrom(...providerNames);
const batchesArb = fc.array(fc.array(fc.record({ provider: providerArb, repeat: fc.boolean() }), { maxLength: 6 }), {
  maxLength: 5,
});

describe("GET /v1/jobs pagination", () => {
  it("lists every job exactly once, newest first, for every limit and every status and provider filter", async () => {
    await fc.assert(
      fc.asyncProperty(batchesArb, fc.infiniteStream(fc.constantFrom(...targets)), async (batches, targetStream) => {
        await deleteKeysWithPrefix(api.connection, api.queues.config.prefix);
        const jobs = await submitInBatches(batches);
        const target = new Map<string, Target>();
        for (const provider of providerNames) {
          const worker = manualWorker(provider);
          try {
            const taken: Job<JobData>[] = [];
            for (let job = await worker.getNextJob(token, { block: false }); job; ) {
              taken.push(job);
              job = await worker.getNextJob(token, { block: false });
            }
            for (const job of taken) {
              const wanted = targetStream.next().value as Target;
              target.set(job.id as string, wanted);
              await record(job, "running");
              if (wanted === "queued") {
                await job.moveToWait(token);
                await record(job, "queued");
              } else if (wanted !== "running") await moveActiveJob(job, wanted);
            }
          } finally {
            await worker.close();
          }
        }

        for (const limit of [1, 3, 50]) {
          // `queued` last: its walk would move any member left behind there (a repair) first.
          for (const status of [undefined, ...[...jobStatuses].reverse()]) {
            for (const provider of [undefined, ...providerNames]) {
              const expected = jobs
                .filter((job) => !provider || job.provider === provider)
                .filter((job) => !status || statusOfTarget(target.get(job.id) as Target) === status)
                .sort(newestFirst)
                .map((job) => job.id);
              expect(await walk({ status, provider, limit }), `limit ${limit} ${status} ${provider}`).toEqual(expected);
            }
          }
        }
      }),
      { numRuns: 12 },
    );
  });

  it("lists every job exactly once, newest first, while jobs change state between pages", async () => {
    type Step = { provider: ProviderName; move: "take" | "succeed" | "die" | "retry" | "provision" | "promote" };
    const stepArb: fc.Arbitrary<Step> = fc.record({
      provider: providerArb,
      move: fc.constantFrom("take", "succeed", "die", "retry", "provision", "promote"),
    });
    await fc.assert(
      fc.asyncProperty(
        batchesArb,
        fc.constantFrom(1, 3),
        fc.array(fc.array(stepArb, { maxLength: 4 }), { maxLength: 30 }),
        async (batches, limit, stepsBetweenPages) => {
          await deleteKeysWithPrefix(api.connection, api.queues.config.prefix);
          const jobs = await submitInBatches(batches);
          const workers = new Map(providerNames.map((provider) => [provider, manualWorker(provider)]));
          const active = new Map<ProviderName, Job<JobData>[]>(providerNames.map((provider) => [provider, []]));
          const delayed: Job<JobData>[] = [];
          async function step({ provider, move }: Step) {
            const running = active.get(provider) as Job<JobData>[];
            if (move === "take") {
              const job = await workers.get(provider)?.getNextJob(token, { block: false });
              if (job) running.push(job);
              if (job) await record(job, "running");
            } else if (move === "promote") {
              await delayed.shift()?.promote();
            } else {
              const job = running.shift();
              if (!job) return;
              const target = {
                succeed: "succeeded",
                die: "dead",
                retry: "retrying",
                provision: "provisioning",
              } as const;
              await moveActiveJob(job, target[move]);
              if (move === "retry" || move === "provision") delayed.push(job);
            }
          }

          try {
            const ids: string[] = [];
            let cursor: string | null = null;
            for (let page = 0; ; page++) {
              const params = new URLSearchParams({ limit: String(limit) });
              if (cursor) params.set("cursor", cursor);
              const body: Json = await (await api.call("GET", `/v1/jobs?${params}`)).json();
              expect(body.jobs.length).toBeLessThanOrEqual(limit);
              ids.push(...body.jobs.map((job: Json) => job.id));
              cursor = body.nextCursor;
              if (cursor === null) break;
              for (const move of stepsBetweenPages[page] ?? []) await step(move);
            }
            expect(ids).toEqual([...jobs].sort(newestFirst).map((job) => job.id));
          } finally {
            await Promise.all([...workers.values()].map((worker) => worker.close()));
          }
        },
      ),
      { numRuns: 12 },
    );
  });

  it("skips jobs whose retention ended, still filling each page", async () => {
    const jobs = await submitInBatches([
      [{ provider: "postgres", repeat: false }],
      [{ provider: "artie", repeat: false }],
    ]);
    await new Promise((resolve) => setTimeout(resolve, 2));
    const [removed] = await submitInBatches([[{ provider: "postgres", repeat: false }]]);
    await api.queues.queueOf("postgres").remove((removed as Submitted).id);
    const first: Json = await (await api.call("GET", "/v1/jobs?limit=1")).json();
    expect(first.jobs.map((job: Json) => job.id)).toEqual([[...jobs].sort(newestFirst)[0]?.id]);
    expect(await walk({ limit: 1 })).toEqual([...jobs].sort(newestFirst).map((job) => job.id));
  });

  it("lists a replayed job as new: at the top, once", async () => {
    const [dead, other] = await submitInBatches([
      [{ provider: "postgres", repeat: false }],
      [{ provider: "postgres", repeat: false }],
    ]);
    const worker = manualWorker("postgres");
    try {
      const job = await worker.getNextJob(token, { block: false });
      expect(job?.id).toBe(dead?.id);
      await moveActiveJob(job as Job<JobData>, "dead");
    } finally {
      await worker.close();
    }
    await new Promise((resolve) => setTimeout(resolve, 2));
    const failed = await api.queues.queueOf("postgres").getJob((dead as Submitted).id);
    if (!failed) throw new Error("the dead job is gone");
    await failed.log(
      JSON.stringify({ at: new Date().toISOString(), attempt: 1, kind: "invalid", retryable: false, message: "x" }),
    );
    expect((await api.call("POST", `/v1/dead-letters/${dead?.id}/replay`, { body: {} })).status).toBe(202);
    expect(await walk({ limit: 1 })).toEqual([dead?.id, other?.id]);
  });
});

describe("GET /v1/jobs?status= over status indexes that lag", () => {
  const listed = async (status: JobStatus) => {
    const body: Json = await (await api.call("GET", `/v1/jobs?status=${status}`)).json();
    return body.jobs.map((job: Json) => job.id);
  };
  const indexSizes = async () => {
    const queueName = api.queues.queueOf("postgres").name;
    const { prefix } = api.queues.config;
    const keys = jobStatuses.map((s) => `${prefix}:job-index:${s}:${queueName}`);
    return Promise.all(keys.map((key) => api.connection.zcard(key)));
  };

  it("moves a member it finds in the wrong status index to the right one, and drops one whose job is gone", async () => {
    const [moved, gone, waiting] = await submitInBatches([
      [{ provider: "postgres", repeat: false }],
      [{ provider: "postgres", repeat: false }],
      [{ provider: "postgres", repeat: false }],
    ]);
    const worker = manualWorker("postgres");
    try {
      for (const target of ["succeeded", "succeeded"] as const) {
        const job = (await worker.getNextJob(token, { block: false })) as Job<JobData>;
        await record(job, "running");
        // Succeeded with no event: its member stays in `running`.
        await moveActiveJobUnrecorded(job, target);
      }
    } finally {
      await worker.close();
    }
    await api.queues.queueOf("postgres").remove((gone as Submitted).id);
    // Sizes: queued, running, retrying, succeeded, dead.
    expect(await indexSizes()).toEqual([1, 2, 0, 0, 0]);
    // The lag: the job is missing from its new status's listing until something moves it...
    expect(await listed("succeeded")).toEqual([]);
    // ...such as a read of the index it sits in, which leaves it out and moves it.
    expect(await listed("running")).toEqual([]);
    expect(await indexSizes()).toEqual([1, 0, 0, 1, 0]);
    expect(await listed("succeeded")).toEqual([moved?.id]);
    expect(await listed("queued")).toEqual([waiting?.id]);
  });
});

describe("GET /v1/jobs cursors", () => {
  it("takes a cursor issued before the status indexes, with a status filter too", async () => {
    const [newer, older] = await submitInBatches([
      [{ provider: "postgres", repeat: false }],
      [{ provider: "postgres", repeat: false }],
    ]).then((jobs) => jobs.sort(newestFirst));
    // The earlier version's cursor: base64url of {after: "<padded submittedAt>:<id>"}.
    const after = `${String(newer?.submittedAt).padStart(15, "0")}:${newer?.id}`;
    const cursor = Buffer.from(JSON.stringify({ after })).toString("base64url");
    for (const filter of ["", "&status=queued"]) {
      const body: Json = await (await api.call("GET", `/v1/jobs?limit=5&cursor=${cursor}${filter}`)).json();
      expect(body.jobs.map((job: Json) => job.id)).toEqual([older?.id]);
    }
    const bad = await api.call("GET", "/v1/jobs?status=queued&cursor=bm90LWEtY3Vyc29y");
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as Json).error).toMatchObject({ code: "VALIDATION_ERROR", field: "cursor" });
  });
});
