import { randomUUID } from "node:crypto";
import type { JobStatus, Lane } from "@provisioner/api-contract";
import { canonicalJson, sha256 } from "@provisioner/json";
import {
  identityKeyOf,
  type ProviderName,
  type ProviderRequest,
  secretInputFields,
} from "@provisioner/provider-client";
import type { JobState, Queue, RedisClient } from "bullmq";
import { type JobData, readJobData } from "./job-data.ts";
import { addJobsIndexed, type ExistingJob } from "./job-index.ts";
import { priorityOf, readLaneClocks } from "./lanes.ts";
import { jobIdFor, type QueueSet } from "./queues.ts";
import { encryptFields, redactFields } from "./secrets.ts";
import { statusOfState } from "./status.ts";

/**
 * One validated "create this database" request: `input` has passed the provider's schema
 * and keeps its type (narrow on `provider`).
 */
export type SubmitRequest = ProviderRequest & SubmitOptions;
/** A request before its input is validated (a trigger's rendered template). */
export type UnvalidatedRequest = SubmitOptions & { provider: ProviderName; input: Record<string, unknown> };
interface SubmitOptions {
  account: string;
  idempotencyKey?: string | undefined;
  callbackUrl?: string | undefined;
  metadata?: Record<string, string | number | boolean | null> | undefined;
  batchId?: string | undefined;
  /** Default `interactive`. */
  lane?: Lane | undefined;
}

export type SubmitOutcome =
  | { accepted: true; id: string; status: JobStatus; deduplicated: boolean }
  | { accepted: false; id: string; code: "IDEMPOTENCY_KEY_REUSED"; message: string };

/** Jobs a MULTI carries: a large request goes as several, the next prepared while Redis runs the last. */
const chunkSize = 100;

/**
 * Queues requests: MULTIs per account queue, each of which indexes its new jobs, answers what
 * already stood under each id (so a new job is told from a repeat without a read-back), and
 * adds the jobs, each with its lane's priority (lanes.ts). BullMQ refuses a second job with
 * an existing id atomically, so concurrent repeats of a key make one job. A MULTI is sent as
 * soon as its chunk is prepared, so hashing and encrypting the next chunk runs while Redis
 * adds this one; one connection keeps their order, so a repeat in a later chunk finds the
 * job of an earlier one as it would in a later call.
 */
export async function submitJobs(queues: QueueSet, requests: readonly SubmitRequest[]): Promise<SubmitOutcome[]> {
  const now = Date.now();
  const byQueue = new Map<Queue, number[]>();
  requests.forEach((request, index) => {
    const queue = queues.queueOf(request.provider, request.account);
    const indexes = byQueue.get(queue);
    if (indexes) indexes.push(index);
    else byQueue.set(queue, [index]);
  });
  const queueList = [...byQueue.keys()];
  // BullMQ's clients resolved first, so each chunk's MULTI leaves as soon as it is prepared.
  const [clocks, clients] = await Promise.all([
    readLaneClocks(queues, queueList),
    Promise.all(queueList.map((queue) => queue.getBackend().client)),
  ]);

  const prepared: Prepared[] = new Array(requests.length);
  const chunks: { queue: Queue; jobs: Prepared[]; before: Promise<(ExistingJob | undefined)[]> }[] = [];
  [...byQueue].forEach(([queue, indexes], queueIndex) => {
    const clock = clocks[queueIndex] ?? 1;
    const client = clients[queueIndex] as RedisClient;
    let bulkIndex = 0;
    for (let start = 0; start < indexes.length; start += chunkSize) {
      const jobs = indexes.slice(start, start + chunkSize).map((index) => {
        const job = prepare(queues, requests[index] as SubmitRequest, now, clock, bulkIndex);
        if (job.data.lane === "bulk") bulkIndex++;
        prepared[index] = job;
        return job;
      });
      chunks.push({ queue, jobs, before: addJobsIndexed(queues, queue, client, jobs) });
    }
  });
  // Every chunk is in flight: wait for all (none left unobserved) before reading any.
  const answers = await Promise.allSettled(chunks.map((chunk) => chunk.before));
  const failed = answers.find((answer) => answer.status === "rejected");
  if (failed) throw failed.reason;

  const stored = new Map<string, Pick<JobData, "submissionId" | "requestHash">>();
  chunks.forEach(({ queue, jobs }, chunkIndex) => {
    const before = (answers[chunkIndex] as PromiseFulfilledResult<(ExistingJob | undefined)[]>).value;
    jobs.forEach((job, i) => {
      const existing = before[i];
      // The state the MULTI found: a repeat's status. (A repeat of an id new in this call finds none: its job is queued.)
      if (existing) job.existingState = existing.state;
      if (stored.has(job.id)) return;
      // A new id stands for the first request that named it; a repeat within this call is compared with it.
      // Data that fails the schema reads as a stand-in whose hash matches no request: a key reused.
      const data = existing ? readJobData({ queueName: queue.name, data: JSON.parse(existing.data) }).data : job.data;
      stored.set(job.id, { submissionId: data.submissionId, requestHash: data.requestHash });
    });
  });

  return prepared.map((job): SubmitOutcome => {
    const existing = stored.get(job.id);
    if (!existing || existing.submissionId === job.data.submissionId) {
      return { accepted: true, id: job.id, status: "queued", deduplicated: false };
    }
    if (existing.requestHash !== job.data.requestHash) {
      return {
        accepted: false,
        id: job.id,
        code: "IDEMPOTENCY_KEY_REUSED",
        message: "this idempotency key was already used for a different request",
      };
    }
    const status = job.existingState === undefined ? undefined : statusOfState(job.existingState);
    return { accepted: true, id: job.id, status: status ?? "queued", deduplicated: true };
  });
}

/** A request as its MULTI sends it, and, once answered, the state of the job that already stood under its id. */
interface Prepared {
  id: string;
  data: JobData;
  priority: number;
  existingState?: JobState | "unknown";
}

/** Requests waiting for this turn of the event loop's shared MULTI, per queue set. */
const pendingTurns = new WeakMap<QueueSet, { request: SubmitRequest; settle: PromiseWithResolvers<SubmitOutcome> }[]>();
/** A turn's submissions beyond this go in a second call, so one MULTI stays small. */
const turnLimit = 1_000;

/**
 * Queues one request together with every other one submitted in the same turn of the event
 * loop: one `submitJobs` call, so one MULTI per account queue, for all of them. Under
 * concurrent single submissions (`POST /v1/jobs` at 50 connections) this spends one
 * transaction, one lane-clock read and one round trip on several requests instead of one
 * each, and delays none by more than that turn. Each request keeps its own outcome, and the
 * rules of `submitJobs` hold within the group as between calls: the first request for a new
 * key makes the job, a later one in the group is its repeat (or a key reused). A Redis
 * failure fails every request of the group, each of which the caller may repeat safely.
 */
export function submitJob(queues: QueueSet, request: SubmitRequest): Promise<SubmitOutcome> {
  const settle = Promise.withResolvers<SubmitOutcome>();
  let turn = pendingTurns.get(queues);
  if (!turn || turn.length >= turnLimit) {
    const started: NonNullable<typeof turn> = [];
    turn = started;
    pendingTurns.set(queues, started);
    setImmediate(() => {
      if (pendingTurns.get(queues) === started) pendingTurns.delete(queues);
      submitJobs(
        queues,
        started.map((pending) => pending.request),
      ).then(
        (outcomes) => {
          for (const [i, pending] of started.entries()) pending.settle.resolve(outcomes[i] as SubmitOutcome);
        },
        (error: unknown) => {
          for (const pending of started) pending.settle.reject(error);
        },
      );
    });
  }
  turn.push({ request, settle });
  return settle.promise;
}

/** A request's job: its id, its data (secrets encrypted, the request hashed) and its lane priority (lanes.ts). */
function prepare(queues: QueueSet, request: SubmitRequest, now: number, clock: number, bulkIndex: number): Prepared {
  const secretFields = secretInputFields[request.provider];
  const idempotencyKey = request.idempotencyKey ?? `derived:${identityKeyOf(request.provider, request.input)}`;
  const id = jobIdFor(request.provider, request.account, idempotencyKey);
  // The hash leaves secrets out: a password must not sit in Redis even as a hash.
  const requestHash = sha256(
    canonicalJson({
      provider: request.provider,
      account: request.account,
      input: redactFields(request.input, secretFields),
    }),
  );
  const data: JobData = {
    v: 1,
    provider: request.provider,
    account: request.account,
    input: encryptFields(queues.keyring, request.input, secretFields),
    idempotencyKey,
    requestHash,
    submissionId: randomUUID(),
    submittedAt: now,
    generation: 0,
    lane: request.lane ?? "interactive",
  };
  if (request.batchId !== undefined) data.batchId = request.batchId;
  if (request.callbackUrl !== undefined) data.callbackUrl = request.callbackUrl;
  if (request.metadata !== undefined) data.metadata = request.metadata;
  return { id, data, priority: priorityOf(data.lane, clock, data.lane === "bulk" ? bulkIndex : 0) };
}
