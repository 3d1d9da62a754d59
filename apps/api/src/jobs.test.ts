import { once } from "node:events";
import type { AddressInfo } from "node:net";
import { serve } from "@hono/node-server";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createApp } from "./app.ts";
import {
  adminToken,
  bridgeportInput,
  type Json,
  jsonRequest,
  queuedCount,
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

const submit = (body: unknown, headers: Record<string, string> = {}) => api.call("POST", "/v1/jobs", { body, headers });

describe("POST /v1/jobs", () => {
  it("answers over real HTTP with the request id on every answer: 202, 200 for a repeat, 409, 401, 415 and 400", async () => {
    // On @hono/node-server the id goes onto Node's response directly (middleware.ts setResponseHeader).
    const server = serve({ fetch: api.app.fetch, hostname: "127.0.0.1", port: 0 });
    await once(server, "listening");
    const { port } = server.address() as AddressInfo;
    const post = (body: string, headers: Record<string, string>) =>
      fetch(`http://127.0.0.1:${port}/v1/jobs`, {
        method: "POST",
        headers: { "x-request-id": "caller-id", ...headers },
        body,
      });
    const json = { authorization: `Bearer ${adminToken}`, "content-type": "application/json" };
    const request = { provider: "postgres", input: { name: "tenant_http" }, idempotencyKey: "key-http" };
    try {
      const answers = [
        [await post(JSON.stringify(request), json), 202],
        [await post(JSON.stringify(request), json), 200],
        [await post(JSON.stringify({ ...request, input: { name: "tenant_other" } }), json), 409],
        [await post(JSON.stringify(request), { ...json, authorization: "Bearer wrong" }), 401],
        [await post(JSON.stringify(request), { ...json, "content-type": "text/plain" }), 415],
        [await post(JSON.stringify({ ...request, provider: "nope" }), json), 400],
      ] as const;
      for (const [res, status] of answers) {
        expect(res.status).toBe(status);
        expect(res.headers.get("x-request-id")).toBe("caller-id");
        expect(res.headers.get("content-type")).toBe("application/json");
        const body: Json = await res.json();
        if (status >= 400) expect(body.error.requestId).toBe("caller-id");
      }
      expect(
        (await post(JSON.stringify(request), { ...json, "x-request-id": "" })).headers.get("x-request-id"),
      ).toMatch(/^[0-9a-f-]{36}$/);
    } finally {
      server.close();
    }
  });

  it("queues a job and answers 202 with its id", async () => {
    const res = await submit({ provider: "postgres", input: { name: "tenant_one" }, metadata: { tenant: 1 } });
    expect(res.status).toBe(202);
    const body: Json = await res.json();
    expect(body).toEqual({ id: expect.stringMatching(/^postgres-/), status: "queued", deduplicated: false });
    expect(await api.queues.queueOf("postgres").getJobState(body.id)).toBe("prioritized");
  });

  it("answers 200 with the same job when the key is repeated with the same request", async () => {
    const request = { provider: "postgres", input: { name: "tenant_two" }, idempotencyKey: "key-two" };
    const first: Json = await (await submit(request)).json();
    const again = await submit(request);
    expect(again.status).toBe(200);
    expect(await again.json()).toEqual({ id: first.id, status: "queued", deduplicated: true });
  });

  it("answers 409 IDEMPOTENCY_KEY_REUSED when the key comes back with a different request", async () => {
    await submit({ provider: "postgres", input: { name: "tenant_three" }, idempotencyKey: "key-three" });
    const res = await submit({ provider: "postgres", input: { name: "tenant_other" }, idempotencyKey: "key-three" });
    expect(res.status).toBe(409);
    const body: Json = await res.json();
    expect(body.error).toMatchObject({ code: "IDEMPOTENCY_KEY_REUSED", field: "idempotencyKey" });
  });

  it("derives a key from the database's identity when none is given", async () => {
    const first: Json = await (await submit({ provider: "postgres", input: { name: "tenant_derived" } })).json();
    const again = await submit({ provider: "postgres", input: { name: "tenant_derived" } });
    expect(again.status).toBe(200);
    expect(((await again.json()) as Json).id).toBe(first.id);
  });

  it("takes the key from the Idempotency-Key header", async () => {
    const request = { provider: "postgres", input: { name: "tenant_header" } };
    const first: Json = await (await submit(request, { "idempotency-key": "header-key" })).json();
    const withBodyKey = await submit({ ...request, idempotencyKey: "header-key" });
    expect(withBodyKey.status).toBe(200);
    expect(((await withBodyKey.json()) as Json).id).toBe(first.id);
  });

  it("answers 400 naming idempotencyKey when the header and body keys differ, queuing nothing", async () => {
    const res = await submit(
      { provider: "postgres", input: { name: "tenant_keys" }, idempotencyKey: "a" },
      { "idempotency-key": "b" },
    );
    expect(res.status).toBe(400);
    expect(((await res.json()) as Json).error).toMatchObject({ code: "VALIDATION_ERROR", field: "idempotencyKey" });
    const counts = await queuedCount(api.queues.queueOf("postgres"));
    const again = await submit({ provider: "postgres", input: { name: "tenant_keys" }, idempotencyKey: "a" });
    expect(again.status).toBe(202);
    expect(await queuedCount(api.queues.queueOf("postgres"))).toBe(counts + 1);
  });

  it.each([
    [{ input: { name: "x" } }, "provider"],
    [{ provider: "nope", input: {} }, "provider"],
    [{ provider: "bridgeport", input: { envId: "e", type: "postgres" } }, "input.name"],
    [{ provider: "bridgeport", input: { ...bridgeportInput("x"), extra: 1 } }, "input.extra"],
    [{ provider: "postgres", input: { name: "1-bad" } }, "input.name"],
    [{ provider: "postgres", input: { name: "ok" }, callbackUrl: "ftp://x" }, "callbackUrl"],
    [{ provider: "postgres", input: { name: "ok" }, colour: "blue" }, "colour"],
    [{ provider: "postgres", input: { name: "ok" }, metadata: { nested: { a: 1 } } }, "metadata.nested"],
  ])("answers 400 naming the field at fault: %j → %s", async (body, field) => {
    const res = await submit(body);
    expect(res.status).toBe(400);
    expect(((await res.json()) as Json).error).toMatchObject({ code: "VALIDATION_ERROR", field });
  });

  it("refuses metadata with more than 32 keys", async () => {
    const metadata = Object.fromEntries(Array.from({ length: 33 }, (_, i) => [`k${i}`, i]));
    const res = await submit({ provider: "postgres", input: { name: "many_labels" }, metadata });
    expect(((await res.json()) as Json).error).toMatchObject({ code: "VALIDATION_ERROR", field: "metadata" });
  });

  it("answers 400 naming account, with the configured accounts as a hint, for an unknown account", async () => {
    const res = await submit({ provider: "postgres", account: "eu", input: { name: "tenant_eu" } });
    expect(res.status).toBe(400);
    expect(((await res.json()) as Json).error).toMatchObject({
      field: "account",
      hint: "configured accounts: default",
    });
  });

  it("answers 400 naming provider when the provider has no account at all", async () => {
    const config = { ...api.queues.config, accounts: { ...api.queues.config.accounts, artie: {} } };
    const app = createApp({ queues: { ...api.queues, config }, tokens: testTokens, logger: silentLogger });
    const res = await app.request(
      "/v1/jobs",
      jsonRequest("POST", { provider: "artie", input: { name: "db", connector: {} } }),
    );
    expect(res.status).toBe(400);
    expect(((await res.json()) as Json).error).toMatchObject({ field: "provider" });
  });

  it("makes exactly one job of 1,000 concurrent submissions with one key", async () => {
    const before = await queuedCount(api.queues.queueOf("prisma"));
    const request = { provider: "prisma", input: { projectId: "proj_race", name: "race" }, idempotencyKey: "race" };
    const responses = await Promise.all(Array.from({ length: 1000 }, () => submit(request)));
    const bodies: Json[] = await Promise.all(responses.map((res) => res.json()));
    expect(new Set(responses.map((res) => res.status))).toEqual(new Set([200, 202]));
    expect(bodies.filter((body) => body.deduplicated === false)).toHaveLength(1);
    expect(new Set(bodies.map((body) => body.id)).size).toBe(1);
    const after = await queuedCount(api.queues.queueOf("prisma"));
    expect(after).toBe(before + 1);
  });
});

describe("GET /v1/jobs", () => {
  it("shows a job's status, attempts and request", async () => {
    const { id }: Json = await (
      await submit({ provider: "postgres", input: { name: "tenant_view" }, metadata: { plan: "pro" } })
    ).json();
    const res = await api.call("GET", `/v1/jobs/${id}`);
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({
      id,
      provider: "postgres",
      account: "default",
      status: "queued",
      attempts: 0,
      maxAttempts: 8,
      nextAttemptAt: null,
      metadata: { plan: "pro" },
      input: { name: "tenant_view" },
      result: null,
      errors: [],
    });
  });

  it("answers 404 NOT_FOUND for an unknown job", async () => {
    for (const id of ["postgres-0000", "nonsense"]) {
      const res = await api.call("GET", `/v1/jobs/${id}`);
      expect(res.status).toBe(404);
      expect(((await res.json()) as Json).error.code).toBe("NOT_FOUND");
    }
  });

  it("lists jobs page by page with a cursor", async () => {
    for (const name of ["page_a", "page_b", "page_c"])
      await submit({ provider: "artie", input: { name, connector: {} } });
    const first: Json = await (await api.call("GET", "/v1/jobs?provider=artie&status=queued&limit=2")).json();
    expect(first.jobs).toHaveLength(2);
    expect(first.nextCursor).toEqual(expect.any(String));
    const second: Json = await (
      await api.call("GET", `/v1/jobs?provider=artie&status=queued&limit=2&cursor=${first.nextCursor}`)
    ).json();
    expect(second.jobs).toHaveLength(1);
    const names = [...first.jobs, ...second.jobs].map((job: Json) => job.input.name).sort();
    expect(names).toEqual(["page_a", "page_b", "page_c"]);
  });

  it("answers 400 naming cursor for a cursor it did not issue", async () => {
    const res = await api.call("GET", "/v1/jobs?cursor=garbage");
    expect(res.status).toBe(400);
    expect(((await res.json()) as Json).error).toMatchObject({ code: "VALIDATION_ERROR", field: "cursor" });
  });

  it("answers 400 naming the query parameter at fault", async () => {
    const res = await api.call("GET", "/v1/jobs?status=lost&limit=5");
    expect(((await res.json()) as Json).error).toMatchObject({ code: "VALIDATION_ERROR", field: "status" });
    const limit = await api.call("GET", "/v1/jobs?limit=100000");
    expect(((await limit.json()) as Json).error).toMatchObject({ field: "limit" });
  });
});
