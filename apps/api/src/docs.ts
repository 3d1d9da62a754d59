import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import type { OpenAPIHono } from "@hono/zod-openapi";
import type { Context } from "hono";
import type { ApiEnv } from "./context.ts";

/**
 * Forbids every host but the API's own. Swagger UI needs no inline script (its start-up is
 * `/docs/assets/init.js`); its React code sets styles through the DOM, which CSP allows, and
 * its stylesheet embeds its icons as `data:` images.
 */
export const docsPolicy =
  "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

const docsPage = `<!doctype html>
<html lang="en">
  <head>
    <title>Provisioner API</title>
    <meta charset="utf-8" />
    <meta name="viewport" content="width=device-width, initial-scale=1" />
    <link rel="stylesheet" href="/docs/assets/swagger-ui.css" />
  </head>
  <body>
    <div id="docs"></div>
    <script src="/docs/assets/swagger-ui-bundle.js"></script>
    <script src="/docs/assets/init.js"></script>
  </body>
</html>
`;

// No validator badge (it would call validator.swagger.io), try-it-out on, the bearer token kept across reloads.
const initScript = `window.ui = SwaggerUIBundle({
  url: "/openapi.json",
  dom_id: "#docs",
  validatorUrl: null,
  tryItOutEnabled: true,
  persistAuthorization: true,
  deepLinking: true,
  displayRequestDuration: true,
});
`;

/** Swagger UI's bundle, from the pinned `swagger-ui-dist` package: served by the API, never a CDN. */
function swaggerAssets(): Record<string, { body: string; type: string }> {
  const dist = dirname(createRequire(import.meta.url).resolve("swagger-ui-dist/package.json"));
  const read = (file: string) => readFileSync(join(dist, file), "utf8");
  return {
    "swagger-ui.css": { body: read("swagger-ui.css"), type: "text/css; charset=utf-8" },
    "swagger-ui-bundle.js": { body: read("swagger-ui-bundle.js"), type: "text/javascript; charset=utf-8" },
    "init.js": { body: initScript, type: "text/javascript; charset=utf-8" },
  };
}

const withPolicy = (c: Context, policy: string) => {
  c.header("content-security-policy", policy);
  c.header("x-content-type-options", "nosniff");
};

/**
 * `GET /openapi.json`, generated from the routes' own zod schemas, and `GET /docs`, Swagger
 * UI to read it and try calls with a token, served whole from the API's own assets.
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
    tags: [{ name: "jobs" }, { name: "dead letters" }, { name: "callback deliveries" }, { name: "health" }],
  });
  const assets = swaggerAssets();
  app.get("/docs", (c) => {
    withPolicy(c, docsPolicy);
    return c.html(docsPage);
  });
  app.get("/docs/assets/:file", (c) => {
    const asset = assets[c.req.param("file")];
    if (!asset) return c.notFound();
    withPolicy(c, docsPolicy);
    c.header("cache-control", "public, max-age=3600");
    return c.body(asset.body, 200, { "content-type": asset.type });
  });
}
