import { z } from "@hono/zod-openapi";
import { requireScope } from "../auth.ts";
import { errorResponses, everyResponseHeaders } from "../errors.ts";
import type { Scope } from "../identity.ts";

/**
 * What a route needs to be guarded by `scope`: the check itself and the `bearerAuth`
 * requirement (app.ts registers the scheme) naming the scope, which OpenAPI 3.1 allows for
 * non-OAuth schemes. One value for both, so the document cannot say one scope while the
 * route checks another.
 */
export const scoped = (scope: Scope) => ({
  security: [{ bearerAuth: [scope] }],
  middleware: [requireScope(scope)] as [ReturnType<typeof requireScope>],
});

/** A documented JSON response. */
export const json = <T>(schema: T, description: string) => ({
  description,
  headers: everyResponseHeaders,
  content: { "application/json": { schema } },
});

/** A documented response without a body. */
export const noContent = (description: string) => ({ description, headers: everyResponseHeaders });

/**
 * The error responses of a bearer-authenticated `/v1` route: what app.ts's middleware can
 * answer before any handler runs (400 for a body that is not JSON or a bad parameter, 401,
 * 403, 413, 503), and the route's own. Declared here once so no route forgets one.
 */
export const guardedErrors = <const S extends 404 | 409 | 415>(...own: S[]) =>
  errorResponses<400 | 401 | 403 | 413 | 503 | S>(400, 401, 403, 413, 503, ...own);

/** `{id}` in a route's path: a job's id, which is also its dead letter's and (for batches) the batch's. */
export const idParamSchema = z.object({
  id: z
    .string()
    .min(1)
    .max(200)
    .openapi({ param: { name: "id", in: "path" } }),
});
