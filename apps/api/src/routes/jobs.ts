import { createRoute, z } from "@hono/zod-openapi";
import {
  idempotencyKeySchema,
  type JobRequest,
  jobListSchema,
  jobRequestSchema,
  jobSecretsSchema,
  jobViewSchema,
  listJobsQuerySchema,
  submittedSchema,
} from "@provisioner/api-contract";
import { getJobSecrets, getJobView, InvalidCursorError, listJobs, type QueueSet, submitJob } from "@provisioner/queue";
import type { Context } from "hono";
import { createMiddleware } from "hono/factory";
import { type ApiEnv, createRouter, validationError } from "../context.ts";
import { ApiError, notFound } from "../errors.ts";
import { keyReused, toSubmitRequest } from "../queue-request.ts";
import { guardedErrors, idParamSchema, json, scoped } from "./common.ts";

// The header is the API's own way to give the body's `idempotencyKey`; the key's rules are the
// contract's. `.meta()`, not `.openapi()`: the contract's schemas are plain zod.
const idempotencyHeaderSchema = z.object({
  "idempotency-key": idempotencyKeySchema
    .optional()
    .meta({ description: "Alternative to the body's `idempotencyKey`." }),
});

/**
 * The `Idempotency-Key` header, checked against the contract's rule where the route's header
 * validator would run (after the scope, before the body). It reads that one header: a header
 * validator reads them all, which on @hono/node-server builds a WHATWG Headers object from
 * the raw ones (~10 µs of a `POST /v1/jobs`, the hottest route, in its CPU profile).
 */
const checkIdempotencyHeader = createMiddleware<ApiEnv>(async (c, next) => {
  const parsed = idempotencyHeaderSchema.safeParse({ "idempotency-key": c.req.header("idempotency-key") });
  if (!parsed.success) throw validationError(parsed.error);
  await next();
});

/** What @hono/zod-openapi's media-type gate lets through to a JSON body (and hono's validator then reads). */
const jsonContentType = /^application\/([a-z-.]+\+)?json(;\s*[a-zA-Z0-9-]+=([^;]+))*$/i;

/**
 * The common case of `POST /v1/jobs` in one step: a token with `jobs:write`, a valid or absent
 * `Idempotency-Key`, a JSON content type and a body that passes `jobRequestSchema` go straight
 * to `submit`. The route's own chain (scope, header, @hono/zod-openapi's media-type gate, its
 * zod validator, then the handler) is four more middleware layers, each an async frame, a
 * promise and a compose step, and an async parse (~13 KB allocated a request together, the
 * largest share of the API's own per request). Anything else falls through to that chain,
 * unchanged, so every refusal is answered exactly as before (this checks nothing it would not).
 */
function acceptCommonSubmission(submit: (c: Context<ApiEnv>, body: JobRequest) => Promise<Response>) {
  return createMiddleware<ApiEnv>(async (c, next) => {
    const token = c.get("token");
    const contentType = c.req.header("content-type");
    const headerKey = c.req.header("idempotency-key");
    if (
      token?.scopes.has("jobs:write") &&
      contentType !== undefined &&
      jsonContentType.test(contentType) &&
      (headerKey === undefined || idempotencyKeySchema.safeParse(headerKey).success)
    ) {
      let body: unknown;
      try {
        body = await c.req.json();
      } catch {
        return next();
      }
      const parsed = jobRequestSchema.safeParse(body);
      if (parsed.success) return submit(c, parsed.data);
    }
    return next();
  });
}

const submitScope = scoped("jobs:write");
const submitRoute = createRoute({
  method: "post",
  operationId: "submitJob",
  path: "/jobs",
  tags: ["jobs"],
  summary: "Queue one create-database job",
  security: submitScope.security,
  middleware: [...submitScope.middleware, checkIdempotencyHeader],
  request: {
    headers: idempotencyHeaderSchema,
    body: { required: true, content: { "application/json": { schema: jobRequestSchema } } },
  },
  responses: {
    202: json(submittedSchema, "Queued."),
    200: json(submittedSchema, "A job already stood for this idempotency key; it is returned."),
    ...guardedErrors(409, 415),
  },
});

const getRoute = createRoute({
  method: "get",
  operationId: "getJob",
  path: "/jobs/{id}",
  tags: ["jobs"],
  summary: "A job's status, attempts, errors and result (no secrets)",
  ...scoped("jobs:read"),
  request: { params: idParamSchema },
  responses: { 200: json(jobViewSchema, "The job."), ...guardedErrors(404) },
});

const listRoute = createRoute({
  method: "get",
  operationId: "listJobs",
  path: "/jobs",
  tags: ["jobs"],
  summary: "List jobs, newest first; walking every page lists each retained job once",
  ...scoped("jobs:read"),
  request: { query: listJobsQuerySchema },
  responses: {
    200: json(jobListSchema, "A page of jobs; pass `nextCursor` as `cursor` for the next one."),
    ...guardedErrors(),
  },
});

const secretsRoute = createRoute({
  method: "get",
  operationId: "getJobSecrets",
  path: "/jobs/{id}/secrets",
  tags: ["jobs"],
  summary: "A job's decrypted secret inputs and result secrets",
  ...scoped("secrets:read"),
  request: { params: idParamSchema },
  responses: { 200: json(jobSecretsSchema, "The secrets."), ...guardedErrors(404) },
});

/** The submit route as documented (its header included), and as mounted: its header checked by `checkIdempotencyHeader`. */
const { middleware: _checks, ...documentedSubmitRoute } = submitRoute;
const mountedSubmitRoute = { ...submitRoute, hide: true, request: { body: submitRoute.request.body } };

export function jobRoutes(queues: QueueSet) {
  const submit = async (c: Context<ApiEnv>, body: JobRequest) => {
    const headerKey = c.req.header("idempotency-key");
    const outcome = await submitJob(queues, toSubmitRequest(queues.config, body, headerKey));
    if (!outcome.accepted) throw keyReused(outcome, body.idempotencyKey !== undefined || headerKey !== undefined);
    const submitted = { id: outcome.id, status: outcome.status, deduplicated: outcome.deduplicated };
    return outcome.deduplicated ? c.json(submitted, 200) : c.json(submitted, 202);
  };
  const router = createRouter();
  router.openAPIRegistry.registerPath(documentedSubmitRoute);
  // Before the route's chain, which it answers for or hands the request on to.
  router.post(mountedSubmitRoute.path, acceptCommonSubmission(submit));
  return router
    .openapi(mountedSubmitRoute, (c) => submit(c, c.req.valid("json")))
    .openapi(getRoute, async (c) => {
      const { id } = c.req.valid("param");
      const view = await getJobView(queues, id);
      if (!view) throw notFound("job", id);
      return c.json(view, 200);
    })
    .openapi(listRoute, async (c) => {
      try {
        return c.json(await listJobs(queues, c.req.valid("query")), 200);
      } catch (error) {
        if (error instanceof InvalidCursorError) {
          throw new ApiError("VALIDATION_ERROR", error.message, { field: "cursor", hint: "omit it to start over" });
        }
        throw error;
      }
    })
    .openapi(secretsRoute, async (c) => {
      const { id } = c.req.valid("param");
      const secrets = await getJobSecrets(queues, id);
      if (!secrets) throw notFound("job", id);
      return c.json(secrets, 200);
    });
}
