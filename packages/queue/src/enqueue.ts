import { randomUUID } from "node:crypto";
import type { JobStatus } from "@provisioner/api-contract";
import { canonicalJson, sha256 } from "@provisioner/json";
import {
  identityKeyOf,
  type ProviderName,
  type ProviderRequest,
  secretInputFields,
} from "@provisioner/provider-client";
import { type JobData, readJobData } from "./job-data.ts";
import { addJobsIndexed } from "./job-index.ts";
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
}

export type SubmitOutcome =
  | { accepted: true; id: string; status: JobStatus; deduplicated: boolean }
  | { accepted: false; id: string; code: "IDEMPOTENCY_KEY_REUSED"; message: string };

/**
 * Queues requests: one MULTI per provider queue that adds the jobs and indexes the new
 * ones, then one pipelined read-back that tells a new job from one that already stood for
 * the key. BullMQ refuses a second job with an existing id atomically, so concurrent
 * repeats of a key make one job.
 */
export async function submitJobs(queues: QueueSet, requests: readonly SubmitRequest[]): Promise<SubmitOutcome[]> {
  const now = Date.now();
  const prepared = requests.map((request) => prepare(queues, request, now));

  const byProvider = new Map<ProviderName, typeof prepared>();
  for (const job of prepared) byProvider.set(job.data.provider, [...(byProvider.get(job.data.provider) ?? []), job]);
  await Promise.all([...byProvider].map(([provider, jobs]) => addJobsIndexed(queues, provider, jobs)));

  const stored = await readStoredJobs(queues, prepared);
  return Promise.all(
    prepared.map(async (job, index): Promise<SubmitOutcome> => {
      const existing = stored[index];
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
      const state = await queues.byProvider[job.data.provider].getJobState(job.id);
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
  };
  if (request.batchId !== undefined) data.batchId = request.batchId;
  if (request.callbackUrl !== undefined) data.callbackUrl = request.callbackUrl;
  if (request.metadata !== undefined) data.metadata = request.metadata;
  return { id, data };
}

/** The stored `submissionId` and `requestHash` of each job, in one round trip. */
async function readStoredJobs(
  queues: QueueSet,
  jobs: readonly { id: string; data: JobData }[],
): Promise<(Pick<JobData, "submissionId" | "requestHash"> | undefined)[]> {
  // One HGET per job, sent together (a pipeline in effect): on a cluster, jobs of several
  // queues lie in several slots, which one ioredis pipeline refuses.
  const replies = await Promise.all(
    jobs.map((job) => queues.connection.hget(queues.byProvider[job.data.provider].toKey(job.id), "data")),
  );
  return replies.map((raw, index) => {
    if (typeof raw !== "string") return undefined;
    // Data that fails the schema reads as a stand-in whose hash matches no request: a key reused.
    const { data } = readJobData({ queueName: jobs[index]?.data.provider ?? "", data: JSON.parse(raw) });
    return { submissionId: data.submissionId, requestHash: data.requestHash };
  });
}
