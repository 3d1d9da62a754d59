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
 * Queues requests: one MULTI per account queue that indexes the new jobs, answers what
 * already stood under each id (so a new job is told from a repeat without a read-back), and
 * adds the jobs, each with its lane's priority (lanes.ts). BullMQ refuses a second job with
 * an existing id atomically, so concurrent repeats of a key make one job.
 */
export async function submitJobs(queues: QueueSet, requests: readonly SubmitRequest[]): Promise<SubmitOutcome[]> {
  const now = Date.now();
  const prepared = requests.map((request) => prepare(queues, request, now));

  const byQueue = new Map<Queue, typeof prepared>();
  for (const job of prepared) {
    const queue = queues.queueOf(job.data.provider, job.data.account);
    const jobs = byQueue.get(queue);
    if (jobs) jobs.push(job);
    else byQueue.set(queue, [job]);
  }
  const clocks = await readLaneClocks(queues, [...byQueue.keys()]);
  const stored = new Map<string, Pick<JobData, "submissionId" | "requestHash">>();
  await Promise.all(
    [...byQueue].map(async ([queue, jobs], index) => {
      const clock = clocks[index] ?? 1;
      let bulkIndex = 0;
      const prioritized = jobs.map((job) => ({
        ...job,
        priority: priorityOf(job.data.lane, clock, job.data.lane === "bulk" ? bulkIndex++ : 0),
      }));
      const before = await addJobsIndexed(queues, queue, prioritized);
      jobs.forEach((job, i) => {
        if (stored.has(job.id)) return;
        const raw = before[i];
        // A new id stands for the first request that named it; a repeat within this call is compared with it.
        // Data that fails the schema reads as a stand-in whose hash matches no request: a key reused.
        const data = raw === undefined ? job.data : readJobData({ queueName: queue.name, data: JSON.parse(raw) }).data;
        stored.set(job.id, { submissionId: data.submissionId, requestHash: data.requestHash });
      });
    }),
  );

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
