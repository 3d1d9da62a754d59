import { randomUUID } from "node:crypto";
import { createRoute } from "@hono/zod-openapi";
import {
  type BulkResponse,
  batchQuerySchema,
  batchViewSchema,
  bulkRequestSchema,
  bulkResponseSchema,
  jobRequestSchema,
} from "@provisioner/api-contract";
import { getBatch, type QueueSet, recordBatch, type SubmitRequest, submitJobs } from "@provisioner/queue";
import { createRouter, validationError } from "../context.ts";
import { ApiError, notFound } from "../errors.ts";
import { checkCallbackUrl, keyReused, toSubmitRequest } from "../queue-request.ts";
import { guardedErrors, idParamSchema, json, scoped } from "./common.ts";

type Rejection = BulkResponse["rejected"][number];

const bulkRoute = createRoute({
  method: "post",
  operationId: "submitJobs",
  path: "/jobs/bulk",
  tags: ["jobs"],
  summary: "Queue up to 1,000 jobs; valid items are queued even when others are rejected",
  ...scoped("jobs:write"),
  request: { body: { required: true, content: { "application/json": { schema: bulkRequestSchema } } } },
  responses: {
    202: json(bulkResponseSchema, "Every valid item is queued (or answered by its existing job)."),
    ...guardedErrors(415),
  },
});

const batchRoute = createRoute({
  method: "get",
  operationId: "getBatch",
  path: "/batches/{id}",
  tags: ["jobs"],
  summary: "Counts per status of a bulk request's jobs, and its dead items",
  ...scoped("jobs:read"),
  request: { params: idParamSchema, query: batchQuerySchema },
  responses: { 200: json(batchViewSchema, "The batch."), ...guardedErrors(404) },
});

const rejection = (index: number, error: ApiError): Rejection => ({
  index,
  error:
    error.field === undefined
      ? { code: error.code, message: error.message }
      : { code: error.code, message: error.message, field: error.field },
});

/** Validates each item on its own: a bad item is rejected, the rest go on. */
function triage(items: readonly unknown[], config: QueueSet["config"], batchId: string) {
  const rejected: Rejection[] = [];
  const valid: { index: number; request: SubmitRequest }[] = [];
  items.forEach((item, index) => {
    const parsed = jobRequestSchema.safeParse(item);
    if (!parsed.success) {
      rejected.push(rejection(index, validationError(parsed.error)));
      return;
    }
    try {
      // A bulk request's items are bulk work unless an item says otherwise.
      const lane = parsed.data.lane ?? "bulk";
      valid.push({ index, request: { ...toSubmitRequest(config, parsed.data), batchId, lane } });
    } catch (error) {
      if (!(error instanceof ApiError)) throw error;
      rejected.push(rejection(index, error));
    }
  });
  return { rejected, valid };
}

export function bulkRoutes(queues: QueueSet) {
  return createRouter()
    .openapi(bulkRoute, async (c) => {
      const batchId = randomUUID();
      const body = c.req.valid("json");
      checkCallbackUrl(queues.config, body.callbackUrl);
      const { rejected, valid } = triage(body.jobs, queues.config, batchId);
      // One submitJobs call: one addBulk per provider queue and one read-back, whatever the count.
      const outcomes =
        valid.length > 0
          ? await submitJobs(
              queues,
              valid.map((item) => item.request),
            )
          : [];
      const jobs: BulkResponse["jobs"] = [];
      outcomes.forEach((outcome, i) => {
        const { index, request } = valid[i] as (typeof valid)[number];
        if (outcome.accepted) {
          jobs.push({ index, id: outcome.id, status: outcome.status, deduplicated: outcome.deduplicated });
        } else {
          rejected.push(rejection(index, keyReused(outcome, request.idempotencyKey !== undefined)));
        }
      });
      await recordBatch(
        queues,
        batchId,
        jobs.map((job) => ({ id: job.id, status: job.status, repeat: job.deduplicated })),
        body.callbackUrl,
      );
      rejected.sort((a, b) => a.index - b.index);
      const deduplicated = jobs.filter((job) => job.deduplicated).length;
      return c.json({ batchId, accepted: jobs.length, deduplicated, rejected, jobs }, 202);
    })
    .openapi(batchRoute, async (c) => {
      const { id } = c.req.valid("param");
      const batch = await getBatch(queues, id, c.req.valid("query"));
      if (!batch) throw notFound("batch", id);
      return c.json(batch, 200);
    });
}
