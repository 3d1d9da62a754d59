import type { QueueSet } from "@provisioner/queue";
import type { Logger } from "pino";
import { authenticate, type TokenResolver } from "./auth.ts";
import { createRouter } from "./context.ts";
import { mountDashboard } from "./dashboard.ts";
import { mountDocs } from "./docs.ts";
import { ApiError, errorResponse } from "./errors.ts";
import { createMetrics } from "./metrics.ts";
import { guardJsonBody, inSequence, limitBody, observeRequests, requireRedis, toApiError } from "./middleware.ts";
import { RememberingTrieRouter } from "./router.ts";
import { bulkRoutes } from "./routes/bulk.ts";
import { callbackDeliveryRoutes } from "./routes/callback-deliveries.ts";
import { deadLetterRoutes } from "./routes/dead-letters.ts";
import { eventRoutes } from "./routes/events.ts";
import { healthRoutes } from "./routes/health.ts";
import { jobRoutes } from "./routes/jobs.ts";
import { metricsRoutes } from "./routes/metrics.ts";

export const defaultBodyLimitBytes = 2 * 1024 * 1024;

export interface AppDeps {
  /** The queues, opened on a connection made with `createRedisConnection(url, "api")` so Redis faults fail fast. */
  queues: QueueSet;
  /** Resolves bearer tokens to a name and scopes. */
  tokens: TokenResolver;
  logger: Logger;
  /** The largest request body accepted, in bytes; larger is 413. Default 2 MiB. */
  bodyLimitBytes?: number;
}

/** The HTTP API, with no port: `server.ts` listens, tests call `app.request()`. */
export function createApp({ queues, tokens, logger, bodyLimitBytes = defaultBodyLimitBytes }: AppDeps) {
  if (!Number.isSafeInteger(bodyLimitBytes) || bodyLimitBytes < 1) {
    throw new RangeError(`bodyLimitBytes must be a positive integer, not ${bodyLimitBytes}`);
  }
  const app = createRouter(new RememberingTrieRouter());
  const metrics = createMetrics(queues);
  app.use(observeRequests(logger, metrics));
  app.onError((error, c) => errorResponse(c, toApiError(error, c, logger)));
  app.notFound((c) => errorResponse(c, new ApiError("NOT_FOUND", `no route for ${c.req.method} ${c.req.path}`)));

  app.route("/", healthRoutes(queues));
  app.route("/", metricsRoutes(metrics, tokens));
  mountDocs(app);
  mountDashboard(app, queues, tokens);

  const limitedBody = limitBody(bodyLimitBytes, () => {
    throw new ApiError("PAYLOAD_TOO_LARGE", `the request body exceeds ${bodyLimitBytes} bytes`, {
      hint: "split a bulk request into smaller ones",
    });
  });

  // Authentication first, so an unknown caller cannot make us read a body; Redis last, so a
  // bad token or an oversize body is told so even during an outage. Events authenticate by
  // their signature instead of a bearer token (routes/events.ts).
  const authenticated = authenticate(tokens);
  const unlessEvent: typeof authenticated = (c, next) =>
    c.req.path.startsWith("/v1/events/") ? next() : authenticated(c, next);
  app.use("/v1/*", inSequence(unlessEvent, limitedBody, guardJsonBody(), requireRedis(queues)));
  app.route("/v1", eventRoutes(queues));
  app.route("/v1", jobRoutes(queues));
  app.route("/v1", bulkRoutes(queues));
  app.route("/v1", deadLetterRoutes(queues));
  app.route("/v1", callbackDeliveryRoutes(queues));
  return app;
}

export type App = ReturnType<typeof createApp>;
