import { isRedisUnavailable, type QueueSet } from "@provisioner/queue";
import type { Context } from "hono";
import { createMiddleware } from "hono/factory";
import { HTTPException } from "hono/http-exception";
import type { Logger } from "pino";
import type { ApiEnv } from "./context.ts";
import { ApiError } from "./errors.ts";

/** One line per request: id, method, path, status, duration and the token's name. Never a body. */
export function requestLog(logger: Logger) {
  return createMiddleware<ApiEnv>(async (c, next) => {
    const started = performance.now();
    await next();
    logger.info(
      {
        requestId: c.get("requestId"),
        method: c.req.method,
        path: c.req.path,
        status: c.res.status,
        ms: Math.round(performance.now() - started),
        tokenName: c.get("token")?.name,
      },
      "request",
    );
  });
}

/**
 * 503 at once while the API's Redis connection is down. Without it, a request that
 * reaches a queue opened while Redis was unreachable waits for BullMQ's connection to
 * become ready, which may be never.
 */
export function requireRedis(queues: QueueSet) {
  return createMiddleware<ApiEnv>(async (_c, next) => {
    if (queues.connection.status !== "ready") throw redisUnavailable();
    await next();
  });
}

const redisUnavailable = (cause?: unknown) =>
  new ApiError("REDIS_UNAVAILABLE", "the queue store (Redis) is unreachable", {
    hint: "retry after Retry-After seconds; repeating a submission is safe, its idempotency key makes one job",
    cause,
  });

// What hono and @hono/zod-openapi throw before a handler runs, in the envelope's terms.
const fromHttpException: Partial<Record<number, () => ApiError>> = {
  400: () => new ApiError("INVALID_JSON", "the request body is not valid JSON"),
  413: () => new ApiError("PAYLOAD_TOO_LARGE", "the request body is too large"),
  415: () =>
    new ApiError("UNSUPPORTED_MEDIA_TYPE", "the request body must be JSON", {
      hint: "send Content-Type: application/json",
    }),
};

/** Any thrown value as the ApiError to answer with; unknown errors are logged and become INTERNAL. */
export function toApiError(error: unknown, c: Context<ApiEnv>, logger: Logger): ApiError {
  if (error instanceof ApiError) return error;
  if (error instanceof HTTPException) {
    const mapped = fromHttpException[error.status]?.();
    if (mapped) return mapped;
  }
  if (isRedisUnavailable(error)) {
    logger.warn({ requestId: c.get("requestId"), err: error }, "redis unavailable");
    return redisUnavailable(error);
  }
  logger.error({ requestId: c.get("requestId"), err: error }, "unhandled error");
  return new ApiError("INTERNAL", "internal error", { hint: `quote request id ${c.get("requestId")}` });
}
