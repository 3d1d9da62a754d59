import { once } from "node:events";
import type { AddressInfo } from "node:net";
import { serve } from "@hono/node-server";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createApp } from "./app.ts";
import {
  adminToken,
  bridgeportInput,
  capturingLogger,
  type Json,
  jsonRequest,
  queuedCount,
  readerToken,
  silentLogger,
  startTestApi,
  type TestApi,
  testTokens,
} from "./test-support.ts";

let api: TestApi;
beforeAll(async () => {
  api = await startTestApi();
});
afterAll(async () => {
  await api.close();
});

const aJob = { provider: "postgres", input: { name: "secure_db" } };

describe("authentication and scopes", () => {
  it.each([
    ["no Authorization header", null],
    ["an unknown token", "wrong-token"],
    ["a token that differs by one character", "test-admin-tokem"],
  ])("answers 401 UNAUTHORIZED with WWW-Authenticate for %s", async (_, token) => {
    const res = await api.call("POST", "/v1/jobs", { body: aJob, token });
    expect(res.status).toBe(401);
    expect(res.headers.get("www-authenticate")).toMatch(/^Bearer/);
    expect(((await res.json()) as Json).error.code).toBe("UNAUTHORIZED");
  });

  it("answers 401 for a non-Bearer scheme", async () => {
    const res = await api.call("GET", "/v1/jobs", { token: null, headers: { authorization: "Basic dXNlcjpwYXNz" } });
    expect(res.status).toBe(401);
  });

  it("answers 403 FORBIDDEN when the token lacks the route's scope, and queues nothing", async () => {
    const res = await api.call("POST", "/v1/jobs", { body: aJob, token: readerToken });
    expect(res.status).toBe(403);
    expect(((await res.json()) as Json).error).toMatchObject({ code: "FORBIDDEN" });
    expect(await queuedCount(api.queues.queueOf("postgres"))).toBe(0);
    for (const path of ["/v1/dead-letters", "/v1/jobs/postgres-x/secrets"]) {
      expect((await api.call("GET", path, { token: readerToken })).status).toBe(403);
    }
    expect((await api.call("GET", "/v1/jobs", { token: readerToken })).status).toBe(200);
  });

  it("leaves /healthz, /readyz, /openapi.json and /docs open", async () => {
    for (const path of ["/healthz", "/readyz", "/openapi.json", "/docs"]) {
      expect((await api.call("GET", path, { token: null })).status).toBe(200);
    }
  });
});

describe("the error envelope", () => {
  it("answers 400 INVALID_JSON for a malformed body", async () => {
    const res = await api.call("POST", "/v1/jobs", { body: '{"provider": "postgres",' });
    expect(res.status).toBe(400);
    expect(((await res.json()) as Json).error.code).toBe("INVALID_JSON");
  });

  it("answers 415 UNSUPPORTED_MEDIA_TYPE for a body that is not JSON", async () => {
    const res = await api.call("POST", "/v1/jobs", {
      body: JSON.stringify(aJob),
      headers: { "content-type": "text/plain" },
    });
    expect(res.status).toBe(415);
    expect(((await res.json()) as Json).error.code).toBe("UNSUPPORTED_MEDIA_TYPE");
  });

  it("answers 413 PAYLOAD_TOO_LARGE above the default 2 MiB limit", async () => {
    const jobs = Array.from({ length: 1000 }, (_, i) => ({
      provider: "postgres",
      input: { name: `big_${i}` },
      metadata: { padding: "x".repeat(1000), more: "y".repeat(1000), tail: "z".repeat(500) },
    }));
    const res = await api.call("POST", "/v1/jobs/bulk", { body: { jobs: [...jobs, ...jobs] } });
    expect(res.status).toBe(413);
    expect(((await res.json()) as Json).error.code).toBe("PAYLOAD_TOO_LARGE");
  });

  it("answers 413 above a configured limit, before looking at the body, and queues nothing", async () => {
    const app = createApp({ queues: api.queues, tokens: testTokens, logger: silentLogger, bodyLimitBytes: 100 });
    const body = { ...aJob, metadata: { note: "x".repeat(200) } };
    const res = await app.request("/v1/jobs", jsonRequest("POST", body));
    expect(res.status).toBe(413);
    expect(await queuedCount(api.queues.queueOf("postgres"))).toBe(0);
  });

  it("answers 413 over real HTTP whether the body declares its length or streams in chunks, and queues nothing", async () => {
    const limit = 100;
    const app = createApp({ queues: api.queues, tokens: testTokens, logger: silentLogger, bodyLimitBytes: limit });
    const server = serve({ fetch: app.fetch, hostname: "127.0.0.1", port: 0 });
    await once(server, "listening");
    const { port } = server.address() as AddressInfo;
    const url = `http://127.0.0.1:${port}/v1/jobs`;
    const headers = { authorization: `Bearer ${adminToken}`, "content-type": "application/json" };
    const oversize = JSON.stringify({ ...aJob, metadata: { note: "x".repeat(200) } });
    try {
      const declared = await fetch(url, { method: "POST", headers, body: oversize });
      const bytes = new TextEncoder().encode(oversize);
      const chunked = await fetch(url, {
        method: "POST",
        headers,
        duplex: "half",
        body: new ReadableStream({
          start(controller) {
            for (let at = 0; at < bytes.length; at += 40) controller.enqueue(bytes.slice(at, at + 40));
            controller.close();
          },
        }),
      } as RequestInit);
      for (const res of [declared, chunked]) {
        expect(res.status).toBe(413);
        expect(((await res.json()) as Json).error.code).toBe("PAYLOAD_TOO_LARGE");
      }
      const small = await fetch(url, { method: "POST", headers, body: JSON.stringify(aJob) });
      expect(small.status).toBe(202);
      expect(await queuedCount(api.queues.queueOf("postgres"))).toBe(1);
      await api.queues.queueOf("postgres").obliterate({ force: true });
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it("answers 404 NOT_FOUND in the envelope for an unknown route", async () => {
    const res = await api.call("GET", "/v2/nothing");
    expect(res.status).toBe(404);
    expect(((await res.json()) as Json).error).toMatchObject({ code: "NOT_FOUND", requestId: expect.any(String) });
  });

  it("puts x-request-id on successes and errors, equal to the envelope's requestId", async () => {
    const ok = await api.call("GET", "/healthz");
    expect(ok.headers.get("x-request-id")).toMatch(/^[0-9a-f-]{36}$/);
    for (const res of [
      await api.call("POST", "/v1/jobs", { body: aJob, token: null }),
      await api.call("POST", "/v1/jobs", { body: { provider: "postgres" } }),
      await api.call("GET", "/nowhere"),
    ]) {
      const id = res.headers.get("x-request-id");
      expect(id).toBeTruthy();
      expect(((await res.json()) as Json).error.requestId).toBe(id);
    }
  });

  it("keeps a sane incoming x-request-id and replaces an unsafe one", async () => {
    const kept = await api.call("GET", "/healthz", { headers: { "x-request-id": "trace-123_abc" } });
    expect(kept.headers.get("x-request-id")).toBe("trace-123_abc");
    const replaced = await api.call("GET", "/healthz", { headers: { "x-request-id": "bad id\u00e9<script>" } });
    expect(replaced.headers.get("x-request-id")).not.toContain("script");
  });
});

describe("secrets", () => {
  const password = "pw-that-must-not-leak-42";

  it("never shows a BRIDGEPORT password outside /secrets, and never stores it in plaintext", async () => {
    const single = await api.call("POST", "/v1/jobs", {
      body: { provider: "bridgeport", input: bridgeportInput("secret-db", password) },
    });
    const { id }: Json = await single.clone().json();
    const bulk = await api.call("POST", "/v1/jobs/bulk", {
      body: { jobs: [{ provider: "bridgeport", input: bridgeportInput("secret-db-2", password) }] },
    });
    const { batchId }: Json = await bulk.clone().json();
    const shown = [
      single,
      bulk,
      await api.call("GET", `/v1/jobs/${id}`),
      await api.call("GET", "/v1/jobs?provider=bridgeport"),
      await api.call("GET", `/v1/batches/${batchId}`),
    ];
    for (const res of shown) {
      expect(res.status).toBeLessThan(300);
      expect(await res.text()).not.toContain(password);
    }
    const view: Json = await (await api.call("GET", `/v1/jobs/${id}`)).json();
    expect(view.input).toEqual({ envId: "env_test", name: "secret-db", type: "postgres", password: "[redacted]" });

    const stored = await api.connection.hget(api.queues.queueOf("bridgeport").toKey(id), "data");
    expect(stored).toBeTruthy();
    expect(stored).not.toContain(password);

    const secrets = await api.call("GET", `/v1/jobs/${id}/secrets`);
    expect(secrets.status).toBe(200);
    expect(await secrets.json()).toEqual({ input: { password }, result: {} });
  });

  it("answers 404 for the secrets of an unknown job", async () => {
    expect((await api.call("GET", "/v1/jobs/bridgeport-nothing/secrets")).status).toBe(404);
  });
});

describe("logging", () => {
  it("logs one line per request with the token's name, never the token, a body or a secret", async () => {
    const { logger, lines } = capturingLogger();
    const app = createApp({ queues: api.queues, tokens: testTokens, logger });
    const body = { provider: "bridgeport", input: bridgeportInput("logged-db", "log-secret-pw") };
    const res = await app.request("/v1/jobs", jsonRequest("POST", body, adminToken, { "x-request-id": "log-test-1" }));
    expect(res.status).toBe(202);
    expect(lines).toEqual([
      expect.objectContaining({
        msg: "request",
        requestId: "log-test-1",
        method: "POST",
        path: "/v1/jobs",
        status: 202,
        ms: expect.any(Number),
        tokenName: "admin",
      }),
    ]);
    const text = JSON.stringify(lines);
    expect(text).not.toContain(adminToken);
    expect(text).not.toContain("log-secret-pw");
    expect(text).not.toContain("logged-db");
  });

  it("redacts authorization, input, password, token and secrets keys wherever a caller logs them", () => {
    const { logger, lines } = capturingLogger();
    logger.info({ headers: { authorization: "Bearer t" }, job: { input: { a: 1 }, password: "p" }, token: "t" }, "x");
    expect(lines[0]).toMatchObject({
      headers: { authorization: "[redacted]" },
      job: { input: "[redacted]", password: "[redacted]" },
      token: "[redacted]",
    });
  });

  it("answers 500 INTERNAL for an unexpected error and logs it with the request id", async () => {
    const { logger, lines } = capturingLogger();
    const postgres = api.queues.queueOf("postgres");
    const broken: typeof postgres = Object.create(postgres);
    broken.getJob = () => Promise.reject(new Error("boom"));
    const queues = {
      ...api.queues,
      queueOfJobId: () => ({ provider: "postgres" as const, account: "default", queue: broken }),
    };
    const app = createApp({ queues, tokens: testTokens, logger });
    const res = await app.request(`/v1/jobs/postgres-default-${"0".repeat(32)}`, jsonRequest("GET", undefined));
    expect(res.status).toBe(500);
    const { error }: Json = await res.json();
    expect(error).toMatchObject({ code: "INTERNAL", message: "internal error" });
    expect(lines).toContainEqual(
      expect.objectContaining({ msg: "unhandled error", requestId: error.requestId, err: expect.anything() }),
    );
  });
});
