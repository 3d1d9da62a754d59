import type { OpenAPIHono } from "@hono/zod-openapi";
import type { ApiEnv } from "./context.ts";

const docsPage = `<!doctype html>
<html>
  <head>
    <title>Provisioner API</title>
    <meta charset="utf-8" />
    <meta name="viewport" content="width=device-width, initial-scale=1" />
  </head>
  <body>
    <div id="app"></div>
    <script src="https://cdn.jsdelivr.net/npm/@scalar/api-reference"></script>
    <script>Scalar.createApiReference("#app", { url: "/openapi.json" });</script>
  </body>
</html>
`;

/**
 * `GET /openapi.json`, generated from the routes' own zod schemas, and `GET /docs`, a
 * Scalar page to read and try it. Scalar loads from its CDN: one HTML page is all the
 * API serves for it, with no package to keep current.
 */
export function mountDocs(app: OpenAPIHono<ApiEnv>): void {
  app.openAPIRegistry.registerComponent("securitySchemes", "bearerAuth", {
    type: "http",
    scheme: "bearer",
    description:
      "API_TOKEN, or a named token from API_TOKENS_FILE. Each operation's requirement names the scope it needs (jobs:write, jobs:read, dead-letters:manage or secrets:read).",
  });
  app.doc31("/openapi.json", {
    openapi: "3.1.0",
    info: {
      title: "Provisioner API",
      version: "1.0.0",
      description:
        "Creates databases through provider APIs, durably. Every error is `{error: {code, message, field?, hint?, requestId}}` and every response carries `x-request-id`.",
    },
    tags: [{ name: "jobs" }, { name: "dead letters" }, { name: "health" }],
  });
  app.get("/docs", (c) => c.html(docsPage));
}
