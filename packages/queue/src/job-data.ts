import { type AttemptError, attemptErrorSchema, laneSchema } from "@provisioner/api-contract";
import { type ProviderError, type ProviderName, providerNames } from "@provisioner/provider-client";
import { z } from "zod";

// The attempt error is part of the API's answers, so the contract declares it; re-exported
// for the modules here that record and read it.
export { type AttemptError, attemptErrorSchema } from "@provisioner/api-contract";

/**
 * What a create-database job holds in Redis. The API writes it, the worker re-validates
 * it when it takes the job (dequeued data is not trusted). Secret input fields are
 * encrypted before it is written.
 */
export const jobDataSchema = z.object({
  v: z.literal(1),
  provider: z.enum(providerNames),
  account: z.string().min(1),
  /** The provider's create body; secret fields hold `enc:v1:` strings. */
  input: z.record(z.string(), z.unknown()),
  /** The caller's key, or one derived from provider, account and the request's identity. */
  idempotencyKey: z.string().min(1),
  /** Hash of the request without its secrets: tells a repeat from a reuse of the key. */
  requestHash: z.string().min(1),
  /** Unique per submission: tells the job this request made from one that already stood. */
  submissionId: z.string().min(1),
  /** When the request was accepted (ms); a job's maximum age counts from here. */
  submittedAt: z.number().int(),
  /**
   * The key providers see (BRIDGEPORT's Idempotency-Key, the seed of Prisma's logicalId);
   * absent means the job id. A replay with corrected input takes a new one, since
   * BRIDGEPORT refuses a key it saw with a different body.
   */
  providerKey: z.string().min(1).optional(),
  /** Bumped by every replay: names this life of the job (its job-end callback's id, its provider key). */
  generation: z.number().int().min(0).default(0),
  /** Its lane within the account (lanes.ts); jobs queued before lanes existed were interactive. */
  lane: laneSchema.default("interactive"),
  batchId: z.string().optional(),
  callbackUrl: z.url().optional(),
  metadata: z.record(z.string(), z.union([z.string(), z.number(), z.boolean(), z.null()])).optional(),
});
export type JobData = z.output<typeof jobDataSchema>;

/** The record of one failed attempt: the error's own `toJSON()`, numbered and timed. */
export const attemptRecordOf = (error: ProviderError, attempt: number, at: Date = new Date()): AttemptError =>
  attemptErrorSchema.parse({ ...error.toJSON(), at: at.toISOString(), attempt });

/** A finished job's return value. `secrets` is one encrypted blob, or absent. */
export const jobResultSchema = z.object({
  outcome: z.enum(["created", "deduplicated"]),
  resource: z.record(z.string(), z.unknown()),
  secrets: z.string().optional(),
  /** Written by earlier versions only: the job's `finishedOn` says when, and is what the job view shows. */
  completedAt: z.string().optional(),
});
export type JobResult = z.output<typeof jobResultSchema>;

/** What a job remembers between runs that spend no attempt (waiting for Prisma's `ready`). */
export const jobProgressSchema = z.object({
  created: z.boolean(),
  secrets: z.string().optional(),
  /**
   * The run (BullMQ's `attemptsStarted`) that found the database still provisioning. While
   * the job waits after that run it is running, not retrying; a later run that delays it
   * for another reason has another number, so the mark goes stale by itself.
   */
  provisioningRun: z.number().int().optional(),
});
export type JobProgress = z.output<typeof jobProgressSchema>;

/**
 * The form this version stores a job's data in (`v: 2`): what `jobDataSchema` holds, under
 * one-letter names, without what the job's queue already says (its provider and account: the
 * queue is `{provider.account}`) or a default (generation 0, the interactive lane), and with the
 * request hash, the submission id and the batch id (hex and UUIDs) in base64url. About 150 bytes
 * less a job than the full form, which earlier versions stored (`v: 1`) and `readJobData` still
 * reads. `t`, the submission time, comes first: the index scripts read a job's life from the
 * stored text without decoding it (job-index.ts `placeMemberLua`).
 */
const storedJobDataSchema = z.object({
  v: z.literal(2),
  t: z.number().int(),
  i: jobDataSchema.shape.input,
  k: jobDataSchema.shape.idempotencyKey,
  h: z.string().min(1),
  s: z.string().min(1),
  g: z.number().int().min(1).optional(),
  l: z.literal("bulk").optional(),
  b: z.string().optional(),
  p: jobDataSchema.shape.providerKey,
  c: jobDataSchema.shape.callbackUrl,
  m: jobDataSchema.shape.metadata,
});
type StoredJobData = z.output<typeof storedJobDataSchema>;

const hexDigest = /^[0-9a-f]{64}$/;
const compactDigest = /^[\w-]{43}$/;
const uuid = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const compactUuid = /^[\w-]{22}$/;
// Lossless both ways; a value of another shape is stored as it is.
const packHex = (value: string, shape: RegExp) =>
  shape.test(value) ? Buffer.from(value.replaceAll("-", ""), "hex").toString("base64url") : value;
const unpackDigest = (value: string) =>
  compactDigest.test(value) ? Buffer.from(value, "base64url").toString("hex") : value;
function unpackUuid(value: string): string {
  if (!compactUuid.test(value)) return value;
  const hex = Buffer.from(value, "base64url").toString("hex");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/** A job's data as this version stores it: what every writer hands BullMQ (`storedJobDataSchema`). */
export function storedJobData(data: JobData): StoredJobData {
  const stored: StoredJobData = {
    v: 2,
    t: data.submittedAt,
    i: data.input,
    k: data.idempotencyKey,
    h: packHex(data.requestHash, hexDigest),
    s: packHex(data.submissionId, uuid),
  };
  if (data.generation > 0) stored.g = data.generation;
  if (data.lane === "bulk") stored.l = "bulk";
  if (data.batchId !== undefined) stored.b = packHex(data.batchId, uuid);
  if (data.providerKey !== undefined) stored.p = data.providerKey;
  if (data.callbackUrl !== undefined) stored.c = data.callbackUrl;
  if (data.metadata !== undefined) stored.m = data.metadata;
  return stored;
}

function fromStored(stored: StoredJobData, provider: ProviderName, account: string): JobData {
  const data: JobData = {
    v: 1,
    provider,
    account,
    input: stored.i,
    idempotencyKey: stored.k,
    requestHash: unpackDigest(stored.h),
    submissionId: unpackUuid(stored.s),
    submittedAt: stored.t,
    generation: stored.g ?? 0,
    lane: stored.l ?? "interactive",
  };
  if (stored.b !== undefined) data.batchId = unpackUuid(stored.b);
  if (stored.p !== undefined) data.providerKey = stored.p;
  if (stored.c !== undefined) data.callbackUrl = stored.c;
  if (stored.m !== undefined) data.metadata = stored.m;
  return data;
}

/**
 * A job's data as far as it can be trusted: the one way every reader (the worker, the job
 * view, the dead letters, the dashboard, enqueue's read-back) reads it from Redis, in this
 * version's stored form or an earlier one's. Anything that put a job on an account queue
 * could have written it, so data that fails the schema is replaced by a stand-in that
 * keeps only what BullMQ itself vouches for (queue, id, timestamp): never echoed, never
 * replayed as it was.
 */
export function readJobData(job: {
  id?: string | undefined;
  queueName: string;
  timestamp?: number | undefined;
  data: unknown;
}): JobDataReading {
  // The worker reads one job's data at its start, in its handler and in each of its events:
  // one schema check per data object, shared by every reader (which copy, never mutate, it).
  const data = job.data;
  const cacheable = typeof data === "object" && data !== null;
  const known = cacheable ? readings.get(data) : undefined;
  if (known) return known;
  const reading = checkJobData(job);
  // A stand-in is built from the job's id and queue too, so only a valid reading is kept.
  if (cacheable && reading.valid) readings.set(data, reading);
  return reading;
}

const providerNameSchema = z.enum(providerNames);

type JobDataReading = { data: JobData; valid: true } | { data: JobData; valid: false; problem: string };
const readings = new WeakMap<object, JobDataReading>();

function checkJobData(job: Parameters<typeof readJobData>[0]): JobDataReading {
  // The queue's name is `{provider.account}` (queues.ts `queueNameOf`).
  const [, queueProvider, queueAccount] = /^\{([a-z]+)\.([A-Za-z0-9_-]+)\}$/.exec(job.queueName) ?? [];
  const queueOf = providerNameSchema.safeParse(queueProvider);
  const version = (job.data as { v?: unknown } | null | undefined)?.v;
  const parsed =
    version === 2 && queueOf.success && queueAccount
      ? storedJobDataSchema.safeParse(job.data)
      : jobDataSchema.safeParse(job.data);
  if (parsed.success) {
    const data =
      parsed.data.v === 2 ? fromStored(parsed.data, queueOf.data as ProviderName, queueAccount as string) : parsed.data;
    return { data, valid: true };
  }
  const issue = parsed.error.issues[0];
  return {
    valid: false,
    problem: `${issue?.path.join(".")}: ${issue?.message}`,
    data: {
      v: 1,
      provider: queueOf.success ? queueOf.data : "artie",
      account: queueAccount ?? "unknown",
      input: {},
      idempotencyKey: job.id ?? "unknown",
      requestHash: "invalid",
      submissionId: "invalid",
      submittedAt: job.timestamp ?? 0,
      generation: 0,
      lane: "interactive",
    },
  };
}
