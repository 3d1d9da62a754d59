import { createBullBoard } from "@bull-board/api";
import { BullMQAdapter } from "@bull-board/api/bullMQAdapter";
import { HonoAdapter } from "@bull-board/hono";
import { serveStatic } from "@hono/node-server/serve-static";
import { type QueueSet, readJobData } from "@provisioner/queue";
import type { Hono } from "hono";
import { createMiddleware } from "hono/factory";
import type { TokenResolver } from "./auth.ts";
import type { ApiEnv } from "./context.ts";
import { ApiError, errorResponse } from "./errors.ts";

export const dashboardPath = "/admin/queues";

/** Replaces every encrypted value with a marker: ciphertext tells an operator nothing. */
function hideEncrypted(value: unknown): unknown {
  if (typeof value === "string") return value.startsWith("enc:v1:") ? "[encrypted]" : value;
  if (Array.isArray(value)) return value.map(hideEncrypted);
  if (typeof value === "object" && value !== null) {
    return Object.fromEntries(Object.entries(value).map(([key, inner]) => [key, hideEncrypted(inner)]));
  }
  return value;
}

/**
 * The queues' dashboard (bull-board), read-only: replays and discards go through the API,
 * which gives a replay its new life (data, key, index). Each account's queue is listed
 * (`{provider.account}`); its failed tab is its dead letters; its jobs' data (with its
 * `lane`) is shown as `readJobData` reads it. A browser cannot
 * send a bearer token, so it asks for basic auth and takes an API token with `jobs:read`
 * as the password (any user name).
 */
export function mountDashboard(app: Hono<ApiEnv>, queues: QueueSet, tokens: TokenResolver): void {
  const serverAdapter = new HonoAdapter(serveStatic).setBasePath(dashboardPath);
  const adapters = [...queues.accounts.map(({ queue }) => queue), queues.callbacks].map((queue) => {
    const adapter = new BullMQAdapter(queue, { readOnlyMode: true });
    adapter.setFormatter(
      "data",
      queue === queues.callbacks
        ? hideEncrypted
        : (data: unknown) => hideEncrypted(readJobData({ queueName: queue.name, data }).data),
    );
    adapter.setFormatter("returnValue", hideEncrypted);
    adapter.setFormatter("progress", hideEncrypted);
    return adapter;
  });
  createBullBoard({ queues: adapters, serverAdapter, options: { uiConfig: { boardTitle: "Provisioner" } } });
  const guard = createMiddleware<ApiEnv>(async (c, next) => {
    const header = c.req.header("authorization") ?? "";
    const encoded = /^Basic[ \t]+(\S+)$/i.exec(header)?.[1];
    const password = encoded ? Buffer.from(encoded, "base64").toString("utf8").split(":").slice(1).join(":") : "";
    const identity = password ? tokens.resolve(password) : undefined;
    if (!identity) {
      const response = errorResponse(
        c,
        new ApiError("UNAUTHORIZED", "the dashboard takes an API token with jobs:read as the password"),
      );
      response.headers.set("www-authenticate", 'Basic realm="Provisioner dashboard", charset="UTF-8"');
      return response;
    }
    c.set("token", identity);
    if (!identity.scopes.has("jobs:read")) {
      return errorResponse(
        c,
        new ApiError("FORBIDDEN", "this token lacks the jobs:read scope", { hint: "ask for a token with jobs:read" }),
      );
    }
    await next();
  });
  app.use(dashboardPath, guard);
  app.use(`${dashboardPath}/*`, guard);
  app.route(dashboardPath, serverAdapter.registerPlugin());
}
