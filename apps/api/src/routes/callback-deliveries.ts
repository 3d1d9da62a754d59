import { createRoute } from "@hono/zod-openapi";
import {
  callbackDeliveryListSchema,
  callbackDeliveryViewSchema,
  callbackRetriedSchema,
  listCallbackDeliveriesQuerySchema,
} from "@provisioner/api-contract";
import {
  getCallbackDelivery,
  InvalidCursorError,
  listFailedCallbackDeliveries,
  NotFailedError,
  type QueueSet,
  retryCallbackDelivery,
} from "@provisioner/queue";
import { createRouter } from "../context.ts";
import { ApiError, notFound } from "../errors.ts";
import { guardedErrors, idParamSchema, json, scoped } from "./common.ts";

const tags = ["callback deliveries"];

const listRoute = createRoute({
  tags,
  ...scoped("jobs:read"),
  method: "get",
  operationId: "listCallbackDeliveries",
  path: "/callback-deliveries",
  summary: "Job-end callbacks that ran out of tries or were refused, newest first",
  request: { query: listCallbackDeliveriesQuerySchema },
  responses: { 200: json(callbackDeliveryListSchema, "A page of failed deliveries."), ...guardedErrors() },
});

const getRoute = createRoute({
  tags,
  ...scoped("jobs:read"),
  method: "get",
  operationId: "getCallbackDelivery",
  path: "/callback-deliveries/{id}",
  summary: "One callback delivery: its receiver (without query), tries and last error",
  request: { params: idParamSchema },
  responses: { 200: json(callbackDeliveryViewSchema, "The delivery."), ...guardedErrors(404) },
});

const retryRoute = createRoute({
  tags,
  ...scoped("dead-letters:manage"),
  method: "post",
  operationId: "retryCallbackDelivery",
  path: "/callback-deliveries/{id}/retry",
  summary: "Send a failed delivery again with fresh tries, under the same webhook-id",
  request: { params: idParamSchema },
  responses: { 202: json(callbackRetriedSchema, "Queued for delivery again."), ...guardedErrors(404, 409) },
});

export function callbackDeliveryRoutes(queues: QueueSet) {
  return createRouter()
    .openapi(listRoute, async (c) => {
      try {
        return c.json(await listFailedCallbackDeliveries(queues, c.req.valid("query")), 200);
      } catch (error) {
        if (error instanceof InvalidCursorError) {
          throw new ApiError("VALIDATION_ERROR", error.message, { field: "cursor", hint: "omit it to start over" });
        }
        throw error;
      }
    })
    .openapi(getRoute, async (c) => {
      const { id } = c.req.valid("param");
      const delivery = await getCallbackDelivery(queues, id);
      if (!delivery) throw notFound("callback delivery", id);
      return c.json(delivery, 200);
    })
    .openapi(retryRoute, async (c) => {
      const { id } = c.req.valid("param");
      try {
        const status = await retryCallbackDelivery(queues, id);
        if (!status) throw notFound("callback delivery", id);
        return c.json({ id, status }, 202);
      } catch (error) {
        if (error instanceof NotFailedError) throw new ApiError("CONFLICT", error.message);
        throw error;
      }
    });
}
