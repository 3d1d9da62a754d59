// The API's answers as this CLI reads them (README "The API"). Loose objects: a field the API
// adds later passes through (and shows in `--json`), a field the CLI relies on must be there.
import { z } from "zod";

export const jobStatusSchema = z.enum(["queued", "running", "retrying", "succeeded", "dead"]);
export type JobStatus = z.output<typeof jobStatusSchema>;

export const errorEnvelopeSchema = z.object({
  error: z.object({
    code: z.string(),
    message: z.string(),
    field: z.string().optional(),
    hint: z.string().optional(),
    requestId: z.string().optional(),
  }),
});

export const bulkResponseSchema = z.looseObject({
  batchId: z.string(),
  accepted: z.number(),
  deduplicated: z.number(),
  rejected: z.array(
    z.object({
      index: z.number().int(),
      error: z.object({ code: z.string(), message: z.string(), field: z.string().optional() }),
    }),
  ),
  jobs: z.array(
    z.object({ index: z.number().int(), id: z.string(), status: jobStatusSchema, deduplicated: z.boolean() }),
  ),
});
export type BulkResponse = z.output<typeof bulkResponseSchema>;

export const batchViewSchema = z.looseObject({
  id: z.string(),
  total: z.number().int(),
  counts: z.object({
    queued: z.number().int(),
    running: z.number().int(),
    retrying: z.number().int(),
    succeeded: z.number().int(),
    dead: z.number().int(),
    expired: z.number().int(),
  }),
  dead: z.array(z.object({ id: z.string(), reason: z.string().nullable() })),
});
export type BatchView = z.output<typeof batchViewSchema>;

export const attemptErrorSchema = z.looseObject({
  at: z.string(),
  attempt: z.number().int(),
  kind: z.string(),
  status: z.number().int().optional(),
  code: z.string().optional(),
  message: z.string(),
});
export type AttemptError = z.output<typeof attemptErrorSchema>;

export const jobViewSchema = z.looseObject({
  id: z.string(),
  provider: z.string(),
  account: z.string(),
  status: jobStatusSchema,
  attempts: z.number().int(),
  maxAttempts: z.number().int(),
  nextAttemptAt: z.string().nullable(),
  createdAt: z.string(),
  finishedAt: z.string().nullable(),
  idempotencyKey: z.string(),
  batchId: z.string().nullable(),
  input: z.record(z.string(), z.unknown()),
  result: z
    .looseObject({ outcome: z.enum(["created", "deduplicated"]), resource: z.record(z.string(), z.unknown()) })
    .nullable(),
  errors: z.array(attemptErrorSchema),
});
export type JobView = z.output<typeof jobViewSchema>;

export const deadLetterViewSchema = z.looseObject({
  id: z.string(),
  provider: z.string(),
  account: z.string(),
  diedAt: z.string(),
  reason: attemptErrorSchema,
  errors: z.array(attemptErrorSchema),
  attemptsMade: z.number().int(),
  request: z.looseObject({
    input: z.record(z.string(), z.unknown()),
    idempotencyKey: z.string(),
    batchId: z.string().nullable(),
    submittedAt: z.string(),
  }),
});
export type DeadLetterView = z.output<typeof deadLetterViewSchema>;

export const deadLetterListSchema = z.looseObject({ deadLetters: z.array(deadLetterViewSchema), total: z.number() });
export type DeadLetterList = z.output<typeof deadLetterListSchema>;

export const replayedSchema = z.looseObject({ id: z.string(), status: z.string() });
export const replayedManySchema = z.looseObject({
  replayed: z.number().int(),
  ids: z.array(z.string()),
  skipped: z.array(z.string()),
});
export type ReplayedMany = z.output<typeof replayedManySchema>;

/** One item of `POST /v1/jobs/bulk` as the CLI sends it: always with its own key, so a resend is safe. */
export interface BulkItem {
  provider: string;
  account?: string;
  input: Record<string, unknown>;
  idempotencyKey: string;
}
