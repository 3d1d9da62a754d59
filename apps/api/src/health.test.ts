import { providerNames } from "@provisioner/provider-client";
import type { RedisConnection } from "@provisioner/queue";
import { createRedisConnection, openQueues, type QueueSet } from "@provisioner/queue";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type App, createApp } from "./app.ts";
import {
  type Json,
  jsonRequest,
  silentLogger,
  startTestApi,
  type TestApi,
  testConfig,
  testTokens,
} from "./test-support.ts";

let api: TestApi;
beforeAll(async () => {
  api = await startTestApi();
});
afterAll(async () => {
  await api.close();
});

describe("health", () => {
  it("answers /healthz and /readyz with ok while Redis answers", async () => {
    for (const path of ["/healthz", "/readyz"]) {
      const res = await api.call("GET", path, { token: null });
      expect(res.status).toBe(200);
      expect(await res.json()).toEqual({ ok: true });
    }
  });
});

describe("when Redis is unreachable", () => {
  let connection: RedisConnection;
  let queues: QueueSet;
  let app: App;
  beforeAll(() => {
    connection = createRedisConnection("redis://127.0.0.1:1", "api"); // nothing listens on port 1
    connection.on("error", () => {});
    queues = openQueues(testConfig(), connection);
    for (const queue of queues.accounts.map(({ queue }) => queue)) queue.on("error", () => {});
    app = createApp({ queues, tokens: testTokens, logger: silentLogger });
  });
  afterAll(async () => {
    await queues.close();
    connection.disconnect();
  });

  it("answers 503 REDIS_UNAVAILABLE with Retry-After to POST /v1/jobs", async () => {
    const res = await app.request(
      "/v1/jobs",
      jsonRequest("POST", { provider: "postgres", input: { name: "unreachable" } }),
    );
    expect(res.status).toBe(503);
    expect(res.headers.get("retry-after")).toBe("5");
    expect(((await res.json()) as Json).error.code).toBe("REDIS_UNAVAILABLE");
  });

  it("answers 503 to /readyz within a second, while /healthz stays 200", async () => {
    const started = Date.now();
    const res = await app.request("/readyz");
    expect(res.status).toBe(503);
    expect(res.headers.get("retry-after")).toBe("5");
    expect(((await res.json()) as Json).error.code).toBe("REDIS_UNAVAILABLE");
    expect(Date.now() - started).toBeLessThan(1_500);
    expect((await app.request("/healthz")).status).toBe(200);
  });
});

describe("documentation", () => {
  it("serves an OpenAPI document listing every route, with the bearer scheme and each route's scope", async () => {
    const res = await api.call("GET", "/openapi.json", { token: null });
    expect(res.status).toBe(200);
    const doc: Json = JSON.parse(await res.text());
    expect(doc.openapi).toBe("3.1.0");
    const routes = Object.entries(doc.paths as Record<string, object>).flatMap(([path, methods]) =>
      Object.keys(methods).map((method) => `${method.toUpperCase()} ${path}`),
    );
    expect(routes.sort()).toEqual(
      [
        "GET /healthz",
        "GET /readyz",
        "GET /metrics",
        "POST /v1/jobs",
        "GET /v1/jobs",
        "GET /v1/jobs/{id}",
        "GET /v1/jobs/{id}/secrets",
        "POST /v1/jobs/bulk",
        "GET /v1/batches/{id}",
        "GET /v1/dead-letters",
        "GET /v1/dead-letters/{id}",
        "DELETE /v1/dead-letters/{id}",
        "POST /v1/dead-letters/{id}/replay",
        "POST /v1/dead-letters/replay",
        "POST /v1/events/{source}",
        "GET /v1/callback-deliveries",
        "GET /v1/callback-deliveries/{id}",
        "POST /v1/callback-deliveries/{id}/retry",
      ].sort(),
    );
    expect(doc.components.securitySchemes.bearerAuth).toMatchObject({ type: "http", scheme: "bearer" });
    // OpenAPI 3.1 lets a bearer requirement name roles: each route names the scope it checks.
    expect(doc.paths["/v1/jobs"].post.security).toEqual([{ bearerAuth: ["jobs:write"] }]);
    // The request schema is the validating one: each provider's input is documented.
    expect(doc.components.schemas.JobRequest.oneOf).toHaveLength(providerNames.length);
  });

  it("serves a docs page that loads the document", async () => {
    const res = await api.call("GET", "/docs", { token: null });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toMatch(/text\/html/);
    expect(await res.text()).toContain("/docs/assets/swagger-ui-bundle.js");
    expect(res.headers.get("content-security-policy")).toContain("script-src 'self';");
    const init = await api.call("GET", "/docs/assets/init.js", { token: null });
    expect(await init.text()).toContain('url: "/openapi.json"');
    const bundle = await api.call("GET", "/docs/assets/swagger-ui-bundle.js", { token: null });
    expect(bundle.status).toBe(200);
    expect(bundle.headers.get("content-type")).toMatch(/javascript/);
    expect((await api.call("GET", "/docs/assets/package.json", { token: null })).status).toBe(404);
  });
});
