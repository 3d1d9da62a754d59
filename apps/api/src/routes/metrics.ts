import { createRoute, z } from "@hono/zod-openapi";
import { authenticate, type TokenResolver } from "../auth.ts";
import { createRouter } from "../context.ts";
import { errorResponses, everyResponseHeaders } from "../errors.ts";
import type { ApiMetrics } from "../metrics.ts";
import { scoped } from "./common.ts";

const metricsRoute = createRoute({
  method: "get",
  operationId: "getMetrics",
  path: "/metrics",
  tags: ["health"],
  summary: "Prometheus metrics: jobs by provider and status, dead letters, Redis, HTTP requests",
  description:
    "Answers while Redis is down, with `provisioner_redis_up 0` and no queue gauges. Scrapers send the token as a bearer token.",
  ...scoped("jobs:read"),
  responses: {
    200: {
      description: "The Prometheus text format (version 0.0.4).",
      headers: everyResponseHeaders,
      content: { "text/plain": { schema: z.string() } },
    },
    ...errorResponses(401, 403),
  },
});

/** `GET /metrics`, outside /v1 (scrapers expect the conventional path) but behind the same tokens. */
export function metricsRoutes(metrics: ApiMetrics, tokens: TokenResolver) {
  const router = createRouter();
  router.use(metricsRoute.path, authenticate(tokens));
  return router.openapi(metricsRoute, async (c) =>
    c.text(await metrics.registry.metrics(), 200, { "content-type": metrics.registry.contentType }),
  );
}
