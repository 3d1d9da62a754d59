import { randomUUID } from "node:crypto";
import type { HttpBindings } from "@hono/node-server";
import { isRedisUnavailable, type QueueSet } from "@provisioner/queue";
import type { Context, MiddlewareHandler } from "hono";
import { bodyLimit } from "hono/body-limit";
import { createMiddleware } from "hono/factory";
import { HTTPException } from "hono/http-exception";
import type { Logger } from "pino";
import type { ApiEnv } from "./context.ts";
import { ApiError } from "./errors.ts";
import { withoutRedaction } from "./logger.ts";
import type { ApiMetrics } from "./metrics.ts";

/** An incoming request id is kept when this short and plain, so a caller can follow its own id through our logs. */
const requestIdLimit = 128;
const plainRequestId = /^[\w=-]+$/;

/**
 * What every request gets, in one middleware rather than three (each layer costs every request
 * a promise, a closure and a compose step): its id, set on the context and the answer (the
 * caller's `x-request-id` when short and plain, else a fresh one); once answered, the request
 * metrics and one log line (id, method, path, status, duration and the token's name; never a body).
 */
export function observeRequests(logger: Logger, metrics: ApiMetrics) {
  const log = withoutRedaction(logger);
  return createMiddleware<ApiEnv>(async (c, next) => {
    const started = performance.now();
    const incoming = c.req.header("x-request-id");
    const requestId =
      incoming && incoming.length <= requestIdLimit && plainRequestId.test(incoming) ? incoming : randomUUID();
    c.set("requestId", requestId);
    setResponseHeader(c, "x-request-id", requestId);
    await next();
    const ms = performance.now() - started;
    metrics.recordRequest(c, ms / 1000);
    log.info(
      {
        requestId,
        method: c.req.method,
        path: c.req.path,
        status: c.res.status,
        ms: Math.round(ms),
        tokenName: c.get("token")?.name,
      },
      "request",
    );
  });
}

/**
 * A header for the response, whatever answers. On @hono/node-server it goes straight onto
 * Node's response, which merges it with the answer's own headers: `c.header()` before a
 * handler runs makes hono build a WHATWG Headers object for every response, copy the answer's
 * headers into it and the adapter copy them out again (~2 KB and a few µs a request); a
 * handler's `c.json()` alone hands the adapter a plain object. Elsewhere (`app.request()` in
 * tests) there is no Node response, and `c.header()` does it.
 */
function setResponseHeader(c: Context<ApiEnv>, name: string, value: string): void {
  const outgoing = (c.env as Partial<HttpBindings> | undefined)?.outgoing;
  if (outgoing && !outgoing.headersSent) outgoing.setHeader(name, value);
  else c.header(name, value);
}

/**
 * Middleware run one after another as one layer of the app's chain. Hono's compose gives each
 * layer an async dispatch frame, a promise and an error boundary of its own; these share the
 * one around the whole. Only for layers with nothing to do after next(): an error thrown
 * further in skips the code after their next() (the app's error handler still answers it, as
 * it would have), where compose would have caught it inside.
 */
export function inSequence(...layers: MiddlewareHandler<ApiEnv>[]): MiddlewareHandler<ApiEnv> {
  return (c, next) => {
    const run = (i: number): ReturnType<MiddlewareHandler<ApiEnv>> => {
      const layer = layers[i];
      return layer ? layer(c, () => run(i + 1) as Promise<void>) : next();
    };
    return run(0);
  };
}

/**
 * 503 at once while the API's Redis connection is down. Without it, a request that
 * reaches a queue opened while Redis was unreachable waits for BullMQ's connection to
 * become ready, which may be never.
 */
export function requireRedis(queues: QueueSet) {
  return createMiddleware<ApiEnv>((_c, next) => {
    if (queues.connection.status !== "ready") throw redisUnavailable();
    return next();
  });
}

/** How deep a JSON body may nest. The deepest request the API takes (a bulk item's free-form provider settings) needs well under this. */
export const maxJsonDepth = 64;

/** Keys that mean an attempt at prototype pollution, not data. */
const forbiddenKeys = new Set(["__proto__", "constructor", "prototype"]);

const jsonMediaType = /^application\/([\w.-]+\+)?json$/i;
const strictUtf8 = new TextDecoder("utf-8", { fatal: true });

/** Where a value sits in a body, kept as links to its parent so that walking copies nothing. */
type Trail = { key: string; up: Trail } | undefined;
const fieldOfTrail = (trail: Trail) => {
  const keys: string[] = [];
  for (let at = trail; at; at = at.up) keys.unshift(at.key);
  return keys.join(".");
};

/**
 * Whether a parsed body holds no hazard: the check every body pays, so it allocates nothing
 * per value (no entries, no trail; only objects are stacked). `hazardIn` names the hazard.
 */
function isHazardFree(body: unknown): boolean {
  const values: unknown[] = [body];
  const depths: number[] = [0];
  while (values.length > 0) {
    const value = values.pop();
    const depth = depths.pop() as number;
    if (typeof value !== "object" || value === null) continue;
    if (depth >= maxJsonDepth) return false;
    // for...in sees the parse's own keys (`__proto__` included); nothing on Object.prototype is enumerable.
    for (const key in value) {
      if (forbiddenKeys.has(key)) return false;
      const inner = (value as Record<string, unknown>)[key];
      if (typeof inner === "object" && inner !== null) {
        values.push(inner);
        depths.push(depth + 1);
      }
    }
  }
  return true;
}

/** The first hazard in a parsed body, too deep or a forbidden key; walked without recursion. */
function hazardIn(body: unknown): ApiError | undefined {
  const pending: { value: unknown; depth: number; trail: Trail }[] = [{ value: body, depth: 0, trail: undefined }];
  for (let next = pending.pop(); next; next = pending.pop()) {
    const { value, depth, trail } = next;
    if (typeof value !== "object" || value === null) continue;
    if (depth >= maxJsonDepth) {
      return new ApiError("VALIDATION_ERROR", `the request body nests deeper than ${maxJsonDepth} levels`);
    }
    for (const [key, inner] of Object.entries(value)) {
      const at = { key, up: trail };
      if (forbiddenKeys.has(key)) {
        const field = fieldOfTrail(at);
        return new ApiError("VALIDATION_ERROR", `${field}: the key ${key} is not accepted`, { field });
      }
      pending.push({ value: inner, depth: depth + 1, trail: at });
    }
  }
  return undefined;
}

/**
 * Checks a JSON body before any schema sees it: it must be UTF-8 (a decoder that replaces
 * bad bytes would let them into a job unannounced), and neither nest deeper than
 * `maxJsonDepth` (deeper values overflow the stack of whatever walks them later, here or in
 * the worker) nor carry a `__proto__`, `constructor` or `prototype` key. Other bodies pass
 * untouched, for the route's validator to refuse.
 */
export function guardJsonBody() {
  return createMiddleware<ApiEnv>(async (c, next) => {
    const mediaType = c.req.header("content-type")?.split(";")[0]?.trim() ?? "";
    // Not `c.req.raw.body`: on @hono/node-server that builds a WHATWG Request and stream around
    // the socket, where reading the bytes directly (arrayBuffer) does not.
    if (hasBody(c) && jsonMediaType.test(mediaType)) {
      const bytes = await c.req.arrayBuffer();
      // An empty body is no body: the route decides (a DELETE needs none, a POST's validator refuses it).
      if (bytes.byteLength === 0) return next();
      let text: string;
      try {
        text = strictUtf8.decode(bytes);
      } catch (error) {
        if (!(error instanceof TypeError)) throw error;
        throw new ApiError("INVALID_JSON", "the request body is not valid UTF-8");
      }
      let body: unknown;
      try {
        body = JSON.parse(text);
      } catch {
        throw new ApiError("INVALID_JSON", "the request body is not valid JSON");
      }
      const hazard = isHazardFree(body) ? undefined : hazardIn(body);
      if (hazard) throw hazard;
      // The route's validator reads the body again with c.req.json(): answer it with this parse.
      // Hono would otherwise rebuild a Response from the cached bytes, decode and parse them again.
      c.req.json = <T>() => Promise.resolve(body as T);
    }
    await next();
  });
}

const hasBody = (c: Context) => c.req.method !== "GET" && c.req.method !== "HEAD";

/**
 * 413 for a body over `maxBytes`. A body that declares its length is judged by the header
 * alone (Node's parser holds the body to it), without touching `c.req.raw.body`, which on
 * @hono/node-server builds a WHATWG Request and stream per request; only a body without one
 * (chunked) goes through hono's bodyLimit, which counts the bytes as they stream in.
 */
export function limitBody(maxBytes: number, onError: () => never) {
  const streamed = bodyLimit({ maxSize: maxBytes, onError });
  return createMiddleware<ApiEnv>((c, next) => {
    if (!hasBody(c)) return next();
    const length = c.req.header("content-length");
    if (length === undefined || c.req.header("transfer-encoding") !== undefined) return streamed(c, next);
    if (Number(length) > maxBytes) onError();
    return next();
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
