import { createRoute } from "@hono/zod-openapi";
import { okSchema } from "@provisioner/api-contract";
import type { QueueSet } from "@provisioner/queue";
import type { Redis } from "ioredis";
import { createRouter } from "../context.ts";
import { ApiError, errorResponses } from "../errors.ts";
import { json } from "./common.ts";

/** How long /readyz waits for Redis to answer PING. */
const readinessTimeoutMs = 1_000;

const healthRoute = createRoute({
  method: "get",
  operationId: "checkLiveness",
  path: "/healthz",
  tags: ["health"],
  summary: "Liveness: the process answers",
  responses: { 200: json(okSchema, "Alive.") },
});

const readyRoute = createRoute({
  method: "get",
  operationId: "checkReadiness",
  path: "/readyz",
  tags: ["health"],
  summary: "Readiness: Redis answers PING within a second",
  responses: { 200: json(okSchema, "Ready."), ...errorResponses(503) },
});

/** True when Redis answers PING in time; never throws. */
export async function redisAnswers(connection: Redis, timeoutMs = readinessTimeoutMs): Promise<boolean> {
  if (connection.status !== "ready") return false;
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), timeoutMs);
  });
  try {
    return await Promise.race([connection.ping().then((reply) => reply === "PONG"), timeout]);
  } catch {
    return false;
  } finally {
    clearTimeout(timer);
  }
}

export function healthRoutes(queues: QueueSet) {
  return createRouter()
    .openapi(healthRoute, (c) => c.json({ ok: true as const }, 200))
    .openapi(readyRoute, async (c) => {
      if (!(await redisAnswers(queues.connection))) {
        throw new ApiError("REDIS_UNAVAILABLE", "Redis does not answer", {
          hint: "check REDIS_URL and that Redis runs",
        });
      }
      return c.json({ ok: true as const }, 200);
    });
}
