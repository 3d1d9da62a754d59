import { createRoute } from "@hono/zod-openapi";
import { okSchema } from "@provisioner/api-contract";
import { keyHolders, type QueueSet, type RedisConnection } from "@provisioner/queue";
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
export async function redisAnswers(connection: RedisConnection, timeoutMs = readinessTimeoutMs): Promise<boolean> {
  if (connection.status !== "ready") return false;
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), timeoutMs);
  });
  try {
    return await Promise.race([answersOrFails(connection), timeout]);
  } catch {
    return false;
  } finally {
    clearTimeout(timer);
  }
}

/**
 * A single Redis: PING. A cluster: every master says `cluster_state:ok`, as any node
 * answers PING while the slots of a restarting master are down.
 */
async function answersOrFails(connection: RedisConnection): Promise<boolean> {
  if (!connection.isCluster) return (await connection.ping()) === "PONG";
  const masters = keyHolders(connection);
  const infos = await Promise.all(masters.map((node) => node.cluster("INFO")));
  return masters.length > 0 && infos.every((info) => /cluster_state:ok/.test(String(info)));
}

export function healthRoutes(queues: QueueSet) {
  return createRouter()
    .openapi(healthRoute, (c) => c.json({ ok: true as const }, 200))
    .openapi(readyRoute, async (c) => {
      if (!(await redisAnswers(queues.connection))) {
        throw new ApiError("REDIS_UNAVAILABLE", "Redis does not answer", {
          hint: "check REDIS_URL (or REDIS_CLUSTER_NODES) and that Redis runs",
        });
      }
      return c.json({ ok: true as const }, 200);
    });
}
