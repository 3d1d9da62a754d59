import { createRoute, z } from "@hono/zod-openapi";
import { eventAcceptedSchema, eventSchema } from "@provisioner/api-contract";
import { isProviderError, parseProviderRequest } from "@provisioner/provider-client";
import {
  type ProvisionerConfig,
  type QueueSet,
  requestsForEvent,
  type SubmitRequest,
  submitJobs,
  TemplateError,
  type UnvalidatedRequest,
} from "@provisioner/queue";
import { createMiddleware } from "hono/factory";
import { Webhook } from "standardwebhooks";
import { type ApiEnv, createRouter } from "../context.ts";
import { ApiError, errorResponses } from "../errors.ts";
import { json } from "./common.ts";

const webhookHeaders = z.object({
  "webhook-id": z.string().min(1).max(256).openapi({ description: "The event's id: its idempotency key." }),
  "webhook-timestamp": z.string().min(1).max(20),
  "webhook-signature": z.string().min(1).max(2_000),
});

/**
 * Standard Webhooks verification with the source's secret, on the raw body, before the
 * body is parsed: a sender that cannot sign learns nothing about what we would accept.
 * The library also refuses timestamps more than five minutes off, so a captured request
 * cannot be replayed later.
 */
function verifySignature(config: ProvisionerConfig) {
  return createMiddleware<ApiEnv>(async (c, next) => {
    const source = c.req.param("source") ?? "";
    const secret = Object.hasOwn(config.sources, source) ? config.sources[source]?.secret : undefined;
    if (!secret) throw new ApiError("NOT_FOUND", "no event source by that name is configured");
    try {
      new Webhook(secret).verify(await c.req.text(), {
        "webhook-id": c.req.header("webhook-id") ?? "",
        "webhook-timestamp": c.req.header("webhook-timestamp") ?? "",
        "webhook-signature": c.req.header("webhook-signature") ?? "",
      });
    } catch {
      throw new ApiError("UNAUTHORIZED", "the event's signature does not verify", {
        hint: "sign with the source's whsec_ secret (Standard Webhooks); timestamps more than 5 minutes off are refused",
      });
    }
    await next();
  });
}

/**
 * Rendered inputs must pass their provider's schema, parsed here once into typed requests;
 * a failure names the trigger and field.
 */
function checkInputs(planned: { trigger: number; request: UnvalidatedRequest }[]): SubmitRequest[] {
  return planned.map(({ trigger, request }) => {
    try {
      return { ...request, ...parseProviderRequest(request.provider, request.input) };
    } catch (error) {
      if (!isProviderError(error)) throw error;
      throw new ApiError(
        "VALIDATION_ERROR",
        `trigger ${trigger} made an invalid ${request.provider} input: ${error.message}`,
        {
          field: `triggers.${trigger}.input.${error.field ?? ""}`,
          hint: "fix the trigger's input template in PROVISIONER_CONFIG, or the event",
        },
      );
    }
  });
}

/** `POST /v1/events/{source}`: a signed event becomes the jobs its source's triggers describe. */
export function eventRoutes(queues: QueueSet) {
  const route = createRoute({
    method: "post",
    operationId: "receiveEvent",
    path: "/events/{source}",
    tags: ["events"],
    summary: "Take a signed event; configured triggers turn it into jobs",
    description:
      "Authenticated by its Standard Webhooks signature (the source's secret), not a bearer token. `webhook-id` is the idempotency key: a redelivered event answers 200 with the jobs it made.",
    security: [],
    middleware: [verifySignature(queues.config)],
    request: {
      params: z.object({ source: z.string().min(1).max(100) }),
      headers: webhookHeaders,
      body: { required: true, content: { "application/json": { schema: eventSchema } } },
    },
    responses: {
      202: json(eventAcceptedSchema, "Accepted: the jobs it made (none when no trigger matches)."),
      200: json(eventAcceptedSchema, "A redelivery: every job already stood."),
      ...errorResponses(400, 401, 404, 409, 413, 415, 503),
    },
  });

  return createRouter().openapi(route, async (c) => {
    const { source } = c.req.valid("param");
    const webhookId = c.req.valid("header")["webhook-id"];
    let planned: ReturnType<typeof requestsForEvent>;
    try {
      planned = requestsForEvent(queues.config, source, webhookId, c.req.valid("json"));
    } catch (error) {
      if (!(error instanceof TemplateError)) throw error;
      throw new ApiError("VALIDATION_ERROR", error.message, { field: error.path });
    }
    const requests = checkInputs(planned);
    const outcomes = requests.length === 0 ? [] : await submitJobs(queues, requests);
    const reused = outcomes.find((outcome) => !outcome.accepted);
    if (reused) {
      throw new ApiError("IDEMPOTENCY_KEY_REUSED", "this webhook-id was already used for a different event", {
        field: "webhook-id",
      });
    }
    const jobs = outcomes.flatMap((outcome) =>
      outcome.accepted ? [{ id: outcome.id, status: outcome.status, deduplicated: outcome.deduplicated }] : [],
    );
    const redelivered = jobs.length > 0 && jobs.every((job) => job.deduplicated);
    return c.json({ eventId: webhookId, jobs }, redelivered ? 200 : 202);
  });
}
