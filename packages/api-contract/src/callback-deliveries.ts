import { z } from "zod";

/**
 * A job-end (or batch-end) notice and how its delivery went. `url` is the receiver's address without its
 * query, fragment or credentials (a URL often carries a token there); the signing secret is
 * never shown.
 */
export const callbackDeliveryViewSchema = z
  .object({
    id: z.string().meta({ description: "The notice's id, also its `webhook-id`: the job's id and generation." }),
    jobId: z.string().meta({ description: "The job's id; for `batch.finished`, the batch's id." }),
    event: z.enum(["job.succeeded", "job.dead", "batch.finished"]),
    url: z.string().meta({ example: "https://hooks.example.com/provisioner" }),
    status: z.enum(["pending", "delivered", "failed"]).meta({
      description: "`failed`: out of tries, or refused by the receiver (a 4xx other than 408 and 429).",
    }),
    attemptsMade: z.number().int(),
    maxAttempts: z.number().int(),
    lastError: z.string().nullable(),
    createdAt: z.string(),
    failedAt: z.string().nullable(),
  })
  .meta({ id: "CallbackDelivery" });
export type CallbackDeliveryView = z.output<typeof callbackDeliveryViewSchema>;

export const callbackDeliveryListSchema = z.object({
  deliveries: z.array(callbackDeliveryViewSchema),
  nextCursor: z.string().nullable().meta({ description: "Pass back as `cursor` for the next page; null at the end." }),
});
export type CallbackDeliveryList = z.output<typeof callbackDeliveryListSchema>;

export const listCallbackDeliveriesQuerySchema = z.object({
  status: z.literal("failed").meta({ description: "Only failed deliveries are listed." }),
  cursor: z.string().optional(),
  limit: z.coerce.number().int().min(1).max(200).optional(),
});
export type ListCallbackDeliveriesQuery = z.output<typeof listCallbackDeliveriesQuerySchema>;

export const callbackRetriedSchema = z.object({ id: z.string(), status: z.literal("pending") });
export type CallbackRetried = z.output<typeof callbackRetriedSchema>;
