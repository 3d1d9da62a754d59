// Submission through the real API: bulk requests of up to 1,000 paced over the first 60% of
// the run, each repeated as it is (same idempotency keys) until the API accepts it; then the
// first bulk once more, as a client that is unsure it got through would.
import pRetry from "p-retry";
import { ApiAnswerError, type ApiClient } from "./api-client.ts";
import type { PlannedJob } from "./jobs.ts";
import { sleep, sleepUntil } from "./time.ts";

export interface Submission {
  /** The job id of every accepted item, by the job's index. */
  ids: Map<number, string>;
  /** Items the API refused (there should be none: every item is valid). */
  rejected: { index: number; code: string; message: string }[];
  /** Bulk requests that had to be repeated, and why: `503 REDIS_UNAVAILABLE`, `no answer`, … */
  repeats: string[];
  /** The first bulk sent again once all were in: items that did not come back as the same job, deduplicated. */
  resubmittedAsNew: number;
}

export interface SubmitDeps {
  client: ApiClient;
  jobs: readonly PlannedJob[];
  bulkSize: number;
  bulkEveryMs: number;
  /** `performance.now()` when the run began. */
  startedAt: number;
  /** Called with each accepted bulk's batch id, as it is accepted. */
  onBatch: (batchId: string) => void;
  signal: AbortSignal;
  log: (line: string) => void;
}

export async function submitAll(deps: SubmitDeps): Promise<Submission> {
  const { jobs, bulkSize, signal } = deps;
  const submission: Submission = { ids: new Map(), rejected: [], repeats: [], resubmittedAsNew: 0 };
  for (let first = 0, bulk = 0; first < jobs.length; first += bulkSize, bulk++) {
    await sleepUntil(deps.startedAt + bulk * deps.bulkEveryMs, signal);
    const chunk = jobs.slice(first, first + bulkSize);
    const answer = await submitBulk(deps, submission, bulk, chunk);
    deps.onBatch(answer.batchId);
    for (const job of answer.jobs) {
      const planned = chunk[job.index];
      if (planned !== undefined) submission.ids.set(planned.index, job.id);
    }
    for (const refusal of answer.rejected) {
      submission.rejected.push({ index: first + refusal.index, ...refusal.error });
    }
  }
  // A client that sends the same bulk twice must get the same jobs back, not new ones.
  const again = jobs.slice(0, bulkSize);
  const answer = await submitBulk(deps, submission, 0, again);
  const repeated = new Map(answer.jobs.map((job) => [job.index, job]));
  submission.resubmittedAsNew = again.filter((job, i) => {
    const echo = repeated.get(i);
    return echo === undefined || !echo.deduplicated || echo.id !== submission.ids.get(job.index);
  }).length;
  return submission;
}

/** One bulk, repeated as it is through a 503 (Redis down) or a lost answer; a 4xx is our bug. */
function submitBulk(deps: SubmitDeps, submission: Submission, bulk: number, chunk: readonly PlannedJob[]) {
  const { client, signal, log } = deps;
  return pRetry(() => client.submitBulk(chunk.map((job) => job.request)), {
    retries: 30,
    minTimeout: 200,
    maxTimeout: 2_000,
    signal,
    shouldRetry: ({ error }) => !(error instanceof ApiAnswerError) || error.status >= 500,
    onFailedAttempt: async ({ error, retriesLeft }) => {
      const why = error instanceof ApiAnswerError ? `${error.status} ${error.code}` : `no answer (${error.message})`;
      submission.repeats.push(why);
      const waitMs = error instanceof ApiAnswerError ? (error.retryAfterMs ?? 0) : 0;
      if (retriesLeft > 0)
        log(`bulk ${bulk}: ${why}; repeating it${waitMs > 0 ? ` after Retry-After ${waitMs} ms` : ""}`);
      await sleep(waitMs, signal);
    },
  });
}
