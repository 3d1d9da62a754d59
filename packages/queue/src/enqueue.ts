import { randomUUID } from "node:crypto";
import type { JobStatus, Lane } from "@provisioner/api-contract";
import { canonicalJson, sha256 } from "@provisioner/json";
import {
  identityKeyOf,
  type ProviderName,
  type ProviderRequest,
  secretInputFields,
} from "@provisioner/provider-client";
import type { Queue } from "bullmq";
import { type JobData, readJobData } from "./job-data.ts";
import { addJobsIndexed } from "./job-index.ts";
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

/**
 * Queues requests: one MULTI per account queue that adds the jobs (each with its lane's
 * priority, lanes.ts) and indexes the new ones, then a read-back that tells a new job from
 * one that already stood for the key. BullMQ refuses a second job with an existing id
 * atomically, so concurrent repeats of a key make one job.
 */
export async function submitJobs(queues: QueueSet, requests: readonly SubmitRequest[]): Promise<SubmitOutcome[]> {
  const now = Date.now();
  const prepared = requests.map((request) => prepare(queues, request, now));

  const byQueue = new Map<Queue, typeof prepared>();
  for (const job of prepared) {
    const queue = queues.queueOf(job.data.provider, job.data.account);
    byQueue.set(queue, [...(byQueue.get(queue) ?? []), job]);
  }
  const clocks = await readLaneClocks(queues, [...byQueue.keys()]);
  await Promise.all(
    [...byQueue].map(([queue, jobs], index) => {
      const clock = clocks[index] ?? 1;
      let bulkIndex = 0;
      const prioritized = jobs.map((job) => ({
        ...job,
        priority: priorityOf(job.data.lane, clock, job.data.lane === "bulk" ? bulkIndex++ : 0),
      }));
      return addJobsIndexed(queues, queue, prioritized);
    }),
  );

  const stored = await readStoredJobs(queues, byQueue);
  return Promise.all(
    prepared.map(async (job): Promise<SubmitOutcome> => {
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
      const state = await queues.queueOf(job.data.provider, job.data.account).getJobState(job.id);
      return { accepted: true, id: job.id, status: statusOfState(state) ?? "queued", deduplicated: true };
    }),
  );
}

function prepare(queues: QueueSet, request: SubmitRequest, now: number): { id: string; data: JobData } {
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
  return { id, data };
}

/**
 * The stored `submissionId` and `requestHash` of each job: one pipeline per queue, each in
 * its queue's slot, all sent at once.
 */
async function readStoredJobs(
  queues: QueueSet,
  byQueue: ReadonlyMap<Queue, readonly { id: string; data: JobData }[]>,
): Promise<Map<string, Pick<JobData, "submissionId" | "requestHash"> | undefined>> {
  const stored = new Map<string, Pick<JobData, "submissionId" | "requestHash"> | undefined>();
  await Promise.all(
    [...byQueue].map(async ([queue, jobs]) => {
      const pipeline = queues.connection.pipeline();
      for (const job of jobs) pipeline.hget(queue.toKey(job.id), "data");
      const replies = (await pipeline.exec()) ?? [];
      replies.forEach(([error, raw], index) => {
        if (error) throw error;
        const id = jobs[index]?.id as string;
        if (typeof raw !== "string") {
          stored.set(id, undefined);
          return;
        }
        // Data that fails the schema reads as a stand-in whose hash matches no request: a key reused.
        const { data } = readJobData({ queueName: queue.name, data: JSON.parse(raw) });
        stored.set(id, { submissionId: data.submissionId, requestHash: data.requestHash });
      });
    }),
  );
  return stored;
}
