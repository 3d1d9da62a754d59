import { createBullBoard } from "@bull-board/api";
import { BullMQAdapter } from "@bull-board/api/bullMQAdapter";
import { HonoAdapter } from "@bull-board/hono";
import { serveStatic } from "@hono/node-server/serve-static";
import { providerQueues, type QueueSet, readJobData, readJobResult, shownUrl } from "@provisioner/queue";
import type { Hono } from "hono";
import { createMiddleware } from "hono/factory";
import type { TokenResolver } from "./auth.ts";
import type { ApiEnv } from "./context.ts";
import { ApiError, errorResponse } from "./errors.ts";

export const dashboardPath = "/admin/queues";

/**
 * Forbids every host but the API's own. bull-board's page has a loading placeholder styled
 * with `style` attributes and a `<style>` element, and its React code sets inline styles:
 * styles, unlike scripts, cannot run code, so style-src allows 'unsafe-inline' here (hashes
 * cannot cover style attributes without 'unsafe-hashes' on every one). Scripts are 'self'
 * only: its one inline `<script>` is a JSON data block, which CSP does not run.
 */
export const dashboardPolicy =
  "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; font-src 'self'; connect-src 'self'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'";

/** bull-board's page asks Google for its fonts; the dashboard uses the system's instead. */
const withoutRemoteLinks = (html: string) => html.replaceAll(/<link\b[^>]*\bhref="https?:\/\/[^"]*"[^>]*>/g, "");

/** Replaces every encrypted value with a marker: ciphertext tells an operator nothing. */
function hideEncrypted(value: unknown): unknown {
  if (typeof value === "string") return value.startsWith("enc:v1:") ? "[encrypted]" : value;
  if (Array.isArray(value)) return value.map(hideEncrypted);
  if (typeof value === "object" && value !== null) {
    return Object.fromEntries(Object.entries(value).map(([key, inner]) => [key, hideEncrypted(inner)]));
  }
  return value;
}

/** A callback URL as it may be shown: its query (often a token), fragment and credentials dropped. */
function withShownUrl(data: unknown, field: string): unknown {
  if (typeof data !== "object" || data === null) return data;
  const url = (data as Record<string, unknown>)[field];
  return typeof url === "string" ? { ...data, [field]: shownUrl(url) } : data;
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
  const adapters = [...providerQueues(queues), queues.callbacks].map((queue) => {
    const adapter = new BullMQAdapter(queue, { readOnlyMode: true });
    adapter.setFormatter(
      "data",
      queue === queues.callbacks
        ? (data: unknown) => hideEncrypted(withShownUrl(data, "url"))
        : (data: unknown) =>
            hideEncrypted(withShownUrl(readJobData({ queueName: queue.name, data }).data, "callbackUrl")),
    );
    // A job's result is stored deflated (packages/queue job-result.ts): shown as it reads.
    adapter.setFormatter("returnValue", (value: unknown) => hideEncrypted(readJobResult(value) ?? value));
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
    c.res.headers.set("content-security-policy", dashboardPolicy);
    if (c.res.headers.get("content-type")?.startsWith("text/html")) {
      const headers = new Headers(c.res.headers);
      headers.delete("content-length");
      c.res = new Response(withoutRemoteLinks(await c.res.text()), { status: c.res.status, headers });
    }
  });
  app.use(dashboardPath, guard);
  app.use(`${dashboardPath}/*`, guard);
  app.route(dashboardPath, serverAdapter.registerPlugin());
}
