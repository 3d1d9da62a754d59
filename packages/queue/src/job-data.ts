import { attemptErrorSchema } from "@provisioner/api-contract";
import { providerNames } from "@provisioner/provider-client";
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
  /** Bumped by every replay, so a dead-letter entry of an earlier life is not mistaken for this one's. */
  generation: z.number().int().min(0).default(0),
  batchId: z.string().optional(),
  callbackUrl: z.url().optional(),
  metadata: z.record(z.string(), z.union([z.string(), z.number(), z.boolean(), z.null()])).optional(),
});
export type JobData = z.output<typeof jobDataSchema>;

/** A finished job's return value. `secrets` is one encrypted blob, or absent. */
export const jobResultSchema = z.object({
  outcome: z.enum(["created", "deduplicated"]),
  resource: z.record(z.string(), z.unknown()),
  secrets: z.string().optional(),
  completedAt: z.string(),
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

/** A dead-letter entry: the original request (secrets encrypted) and why it died. */
export const deadLetterSchema = z.object({
  jobId: z.string(),
  provider: z.enum(providerNames),
  account: z.string(),
  job: jobDataSchema,
  reason: attemptErrorSchema,
  errors: z.array(attemptErrorSchema),
  attemptsMade: z.number().int(),
  diedAt: z.string(),
});
export type DeadLetter = z.output<typeof deadLetterSchema>;

/**
 * A job's data as far as it can be trusted. Anything that put a job on a provider queue
 * could have written it, so data that fails the schema is replaced by a stand-in that
 * keeps only what BullMQ itself vouches for (queue, id, timestamp): never echoed, never
 * replayed as it was.
 */
export function readJobData(job: { id?: string | undefined; queueName: string; timestamp: number; data: unknown }): {
  data: JobData;
  valid: boolean;
} {
  const parsed = jobDataSchema.safeParse(job.data);
  if (parsed.success) return { data: parsed.data, valid: true };
  const provider = z.enum(providerNames).catch("artie").parse(job.queueName);
  return {
    valid: false,
    data: {
      v: 1,
      provider,
      account: "unknown",
      input: {},
      idempotencyKey: job.id ?? "unknown",
      requestHash: "invalid",
      submissionId: "invalid",
      submittedAt: job.timestamp,
      generation: 0,
    },
  };
}
