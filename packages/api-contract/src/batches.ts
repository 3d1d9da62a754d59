import { z } from "zod";
import { errorDetailSchema } from "./errors.ts";
import { callbackUrlSchema, type JobStatus, jobStatuses, submittedSchema } from "./jobs.ts";

export const maxBulkJobs = 1000;

export const bulkRequestSchema = z
  .strictObject({
    // Items are validated one by one (against `jobRequestSchema`) so one bad item rejects only itself.
    jobs: z
      .array(z.unknown())
      .min(1)
      .max(maxBulkJobs)
      .meta({ items: { $ref: "#/components/schemas/JobRequest" } }),
    callbackUrl: callbackUrlSchema.optional().meta({
      description:
        "Receives one signed `batch.finished` event (Standard Webhooks) once every job of the batch is terminal, with the counts and the first dead items.",
    }),
  })
  .meta({
    id: "BulkRequest",
    example: {
      jobs: [
        { provider: "postgres", input: { name: "tenant_north" }, metadata: { region: "north" } },
        { provider: "postgres", input: { name: "tenant_south" }, metadata: { region: "south" } },
      ],
    },
  });

export const bulkResponseSchema = z
  .object({
    batchId: z.uuid(),
    accepted: z.number().int().meta({ description: "Items queued or answered by an existing job." }),
    deduplicated: z.number().int(),
    rejected: z.array(
      z.object({ index: z.number().int(), error: errorDetailSchema.pick({ code: true, message: true, field: true }) }),
    ),
    // An intersection, so the document shows each item as a `Submitted` with its index.
    jobs: z.array(submittedSchema.and(z.object({ index: z.number().int() }))),
  })
  .meta({ id: "BulkResponse" });
export type BulkResponse = z.output<typeof bulkResponseSchema>;

const countSchema = z.number().int();
/** `GET /v1/batches/{id}`: counts per status of a bulk request's jobs, and its dead items. */
export const batchViewSchema = z
  .object({
    id: z.string(),
    total: z.number().int(),
    counts: z.object({
      ...(Object.fromEntries(jobStatuses.map((status) => [status, countSchema])) as Record<
        JobStatus,
        typeof countSchema
      >),
      expired: countSchema.meta({ description: "Jobs past their retention." }),
    }),
    adopted: countSchema.meta({
      description:
        "Of the succeeded jobs, how many found their database already at the provider and adopted it (outcome `deduplicated`) rather than creating it.",
    }),
    finished: z.boolean().meta({ description: "Every job of the batch is terminal (succeeded, dead or expired)." }),
    dead: z
      .array(z.object({ id: z.string(), reason: z.string().nullable() }))
      .meta({ description: "A page of the dead items, newest first." }),
    deadCursor: z
      .string()
      .nullable()
      .meta({ description: "Pass as `deadCursor` for the next page of dead items; null on the last." }),
  })
  .meta({ id: "Batch" });

export const batchQuerySchema = z.object({
  deadCursor: z.string().max(300).optional(),
  deadLimit: z.coerce.number().int().min(1).max(200).optional(),
});
export type BatchView = z.output<typeof batchViewSchema>;
