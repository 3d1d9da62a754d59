// The callback queue's name and what its jobs carry, apart from `queueCallback` so that
// `queues.ts` can type the queue without importing the code that fills it.
import { batchViewSchema } from "@provisioner/api-contract";
import { providerNames } from "@provisioner/provider-client";
import { z } from "zod";
import { type AttemptError, attemptErrorSchema } from "./job-data.ts";

// Braced like the account queues: a Redis Cluster hash tag keeps its keys in one slot.
export const callbackQueueName = "{callbacks}";

/**
 * What a job's `callbackUrl` receives when the job ends, in the same `{type, timestamp,
 * data}` form as the events Provisioner takes in. Never a secret: the resource is the one
 * `GET /v1/jobs/{id}` shows.
 */
export const callbackEventSchema = z.object({
  type: z.enum(["job.succeeded", "job.dead"]),
  timestamp: z.string(),
  data: z.object({
    id: z.string(),
    provider: z.enum(providerNames),
    account: z.string(),
    status: z.enum(["succeeded", "dead"]),
    idempotencyKey: z.string(),
    outcome: z.enum(["created", "deduplicated"]).optional(),
    resource: z.record(z.string(), z.unknown()).optional(),
    error: attemptErrorSchema.optional(),
    batchId: z.string().optional(),
    metadata: z.record(z.string(), z.unknown()).optional(),
  }),
});
export type CallbackEvent = z.output<typeof callbackEventSchema>;

/**
 * What a bulk request's `callbackUrl` receives once every job of the batch is terminal: the
 * counts and the first dead items, as `GET /v1/batches/{id}` shows them at that moment.
 */
export const batchEventSchema = z.object({
  type: z.literal("batch.finished"),
  timestamp: z.string(),
  // The batch view's fields; `outcomes` may be absent from a notice queued by an older version.
  data: batchViewSchema
    .pick({ id: true, total: true, counts: true, dead: true, deadCursor: true })
    .extend({ outcomes: batchViewSchema.shape.outcomes.optional() }),
});
export type BatchEvent = z.output<typeof batchEventSchema>;

export const callbackJobSchema = z.object({ url: z.url(), event: z.union([callbackEventSchema, batchEventSchema]) });
export type CallbackJob = z.output<typeof callbackJobSchema>;

export type JobEnding =
  | { status: "succeeded"; outcome: "created" | "deduplicated"; resource: Record<string, unknown> }
  | { status: "dead"; error: AttemptError };
