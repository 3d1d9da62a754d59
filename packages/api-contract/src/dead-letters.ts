import { z } from "zod";
import { attemptErrorSchema, failureKindSchema } from "./attempts.ts";
import { laneSchema, providerSchema } from "./jobs.ts";

/** A dead letter as the API shows it: what died, why, every attempt's error, the request with its secrets removed. */
export const deadLetterViewSchema = z
  .object({
    id: z.string(),
    provider: providerSchema,
    account: z.string(),
    lane: laneSchema,
    diedAt: z.string(),
    reason: attemptErrorSchema,
    errors: z.array(attemptErrorSchema),
    attemptsMade: z.number().int(),
    request: z.object({
      input: z.record(z.string(), z.unknown()),
      idempotencyKey: z.string(),
      batchId: z.string().nullable(),
      callbackUrl: z.string().nullable(),
      metadata: z.record(z.string(), z.unknown()).nullable(),
      submittedAt: z.string(),
    }),
  })
  .meta({ id: "DeadLetter" });
export type DeadLetterView = z.output<typeof deadLetterViewSchema>;

export const deadLetterListSchema = z.object({
  deadLetters: z.array(deadLetterViewSchema).meta({ description: "A page, newest first." }),
  nextCursor: z.string().nullable().meta({ description: "Pass as `cursor` for the next page; null on the last." }),
  total: z.number().int().meta({
    description: "How many match (one ZCARD per queue); with `kind`, entries not yet pruned are counted too.",
  }),
});
export type DeadLetterList = z.output<typeof deadLetterListSchema>;

export const listDeadLettersQuerySchema = z.object({
  provider: providerSchema.optional(),
  kind: failureKindSchema.optional(),
  cursor: z.string().max(300).optional(),
  limit: z.coerce.number().int().min(1).max(200).optional(),
});
export type ListDeadLettersQuery = z.output<typeof listDeadLettersQuerySchema>;

export const replayOneSchema = z.strictObject({
  input: z
    .record(z.string(), z.unknown())
    .optional()
    .meta({ description: "A corrected create body; checked against the dead job's provider schema." }),
});

export const replayManySchema = z
  .strictObject({
    provider: providerSchema.optional(),
    kind: failureKindSchema.optional(),
    all: z.boolean().optional(),
    limit: z.number().int().min(1).max(10_000).optional().meta({
      description:
        "Stop after this many entries (replayed or skipped) and answer `nextCursor`; without it, every match in one call.",
    }),
    cursor: z.string().max(300).optional().meta({ description: "A `nextCursor` from the previous call, to go on." }),
  })
  .refine((filter) => filter.provider !== undefined || filter.kind !== undefined || filter.all === true, {
    path: ["all"],
    message: "give provider, kind, or all: true",
  });
export type ReplayFilter = z.input<typeof replayManySchema>;

export const replayedSchema = z.object({ id: z.string(), status: z.literal("queued") });
export type Replayed = z.output<typeof replayedSchema>;

export const replayedManySchema = z.object({
  replayed: z.number().int(),
  ids: z.array(z.string()),
  skipped: z.array(z.string()).meta({ description: "Entries whose job is no longer dead." }),
  nextCursor: z.string().nullable().optional().meta({
    description:
      "Only with `limit`: pass as `cursor` (with the same filter) to go on; null once every match was reached.",
  }),
});
export type ReplayedMany = z.output<typeof replayedManySchema>;
