// Drives the API through an independent, ajv-based OpenAPI validator (openapi-backend, as a
// proxy like Prism would): every request the API takes must be valid by /openapi.json, and
// every answer must be declared there (status, media type, body, headers).

import { type AttemptError, createRedisConnection, openQueues } from "@provisioner/queue";
import { Validator } from "@seriousme/openapi-schema-validator";
import { Ajv2020 } from "ajv/dist/2020.js";
import ajvFormats from "ajv-formats";
import { fullFormats } from "ajv-formats/dist/formats.js";
import { UnrecoverableError, Worker } from "bullmq";
import { OpenAPIBackend, type Operation, SetMatchType } from "openapi-backend";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type App, createApp } from "./app.ts";
import {
  type Json,
  jsonRequest,
  readerToken,
  redisUrl,
  silentLogger,
  startTestApi,
  type TestApi,
  testConfig,
  testTokens,
} from "./test-support.ts";

// ajv-formats is CommonJS: its plugin is the module itself, typed as its `default`.
const addFormats = ajvFormats.default;

let api: TestApi;
let document: Json;
let openapi: OpenAPIBackend;

beforeAll(async () => {
  api = await startTestApi();
  document = await (await api.app.request("/openapi.json")).json();
  openapi = new OpenAPIBackend({
    definition: document,
    // Its own definition check predates OpenAPI 3.1; the document is checked by
    // @seriousme/openapi-schema-validator below. `quick` skips it and compiles lazily.
    quick: true,
    // JSON Schema 2020-12 (OpenAPI 3.1's dialect) with every format ajv-formats knows; ajv
    // evaluates `pattern` with the unicode flag, as JSON Schema asks.
    customizeAjv: (_ajv, options) => addFormats(new Ajv2020({ ...options, strict: false })),
  });
  await openapi.init();
});
afterAll(async () => {
  await api.close();
});

interface Exchange {
  method: string;
  path: string;
  body?: unknown;
  headers?: Record<string, string>;
  token?: string | null;
  /** The request breaks the document on purpose: the validator must refuse it, as the API does. */
  invalid?: true;
  /** Another app (a small body limit, a Redis that is down); the shared one by default. */
  app?: App;
}

interface Answer {
  status: number;
  body: Json;
  violations: string[];
}

/** The declared response for a status: exact, then `4XX`-style, then `default`. */
function declaredResponse(operation: Operation, status: number): Json {
  const responses: Json = operation.responses ?? {};
  return responses[String(status)] ?? responses[`${Math.floor(status / 100)}XX`] ?? responses.default;
}

/** Sends one request through the app, checking it and its answer against the document. */
async function exchange({
  method,
  path,
  body,
  headers = {},
  token,
  invalid,
  app = api.app,
}: Exchange): Promise<Answer> {
  const init = jsonRequest(method, body, token === undefined ? undefined : token, headers);
  const url = new URL(path, "http://api.test");
  const request = {
    method,
    path: url.pathname,
    query: Object.fromEntries(url.searchParams),
    headers: init.headers as Record<string, string>,
    body,
  };
  const violations: string[] = [];
  const operation = openapi.matchOperation(request);
  if (!operation) throw new Error(`the document has no operation for ${method} ${url.pathname}`);
  const name = `${method} ${operation.path}`;

  const requestCheck = openapi.validateRequest(request, operation);
  if (invalid && requestCheck.valid) violations.push(`${name}: the document takes a request the API refuses`);
  if (!invalid && !requestCheck.valid) {
    violations.push(`${name} request: ${JSON.stringify(requestCheck.errors)}`);
  }

  const res = await app.request(path, init);
  const text = await res.text();
  const mediaType = res.headers.get("content-type")?.split(";")[0]?.trim();
  const answer: Answer = {
    status: res.status,
    body: mediaType === "application/json" ? JSON.parse(text) : text,
    violations,
  };
  const declared = declaredResponse(operation, res.status);
  if (!declared) {
    violations.push(`${name}: status ${res.status} is not declared`);
    return answer;
  }
  const declaredTypes = Object.keys(declared.content ?? {});
  if (text === "" ? declaredTypes.length > 0 : !declaredTypes.includes(mediaType ?? "")) {
    violations.push(`${name} ${res.status}: media type ${mediaType} is not declared (${declaredTypes.join(", ")})`);
  }
  if (mediaType === "application/json") {
    const bodyCheck = openapi.validateResponse(answer.body, operation, res.status);
    if (!bodyCheck.valid) violations.push(`${name} ${res.status} body: ${JSON.stringify(bodyCheck.errors)}`);
  }
  const headerCheck = openapi.validateResponseHeaders(Object.fromEntries(res.headers), operation, {
    statusCode: res.status,
    setMatchType: SetMatchType.Superset,
  });
  if (!headerCheck.valid) violations.push(`${name} ${res.status} headers: ${JSON.stringify(headerCheck.errors)}`);
  if (!res.headers.get("x-request-id")) violations.push(`${name} ${res.status}: no x-request-id`);
  if (!declared.headers?.["x-request-id"]) violations.push(`${name} ${res.status}: x-request-id is not declared`);
  return answer;
}

/** Runs exchanges in order, expecting each status, and returns the answers; fails listing every violation. */
async function conform(...steps: (Exchange & { expect: number })[]): Promise<Answer[]> {
  const answers: Answer[] = [];
  for (const step of steps) answers.push(await exchange(step));
  expect(answers.map((answer) => answer.status)).toEqual(steps.map((step) => step.expect));
  expect(answers.flatMap((answer) => answer.violations)).toEqual([]);
  return answers;
}

/** Every value of `key` anywhere in the document, with where it sits. */
function valuesOf(key: string, node: unknown = document, at = "#"): { at: string; value: unknown }[] {
  if (typeof node !== "object" || node === null) return [];
  return Object.entries(node).flatMap(([name, value]) => [
    ...(name === key ? [{ at, value }] : []),
    ...valuesOf(key, value, `${at}/${name}`),
  ]);
}

describe("the OpenAPI document", () => {
  it("is a valid OpenAPI 3.1 document", async () => {
    const result = await new Validator().validate(document);
    expect(result.errors ?? []).toEqual([]);
    expect(result.valid).toBe(true);
  });

  it("uses only formats that standard validators know, and patterns without flags", () => {
    const unknown = valuesOf("format").filter(({ value }) => !Object.hasOwn(fullFormats, value as string));
    expect(unknown).toEqual([]);
    for (const { at, value } of valuesOf("pattern")) {
      expect(() => new RegExp(value as string, "u"), at).not.toThrow();
      expect(value, `${at} carries regex flags`).not.toMatch(/(?<!\\)\/[dgimsuvy]*$/);
    }
  });

  it("gives every operation an operationId, and the bodies of the submissions examples", () => {
    const operations = openapi.getOperations();
    expect(operations.filter((operation) => !operation.operationId).map((op) => `${op.method} ${op.path}`)).toEqual([]);
    const withExamples = operations.filter((operation) => examplesOf(operation).length > 0).map((op) => op.path);
    expect(withExamples).toEqual(expect.arrayContaining(["/v1/jobs", "/v1/jobs/bulk"]));
  });
});

/** The request-body examples an operation declares. */
function examplesOf(operation: Operation): unknown[] {
  const media: Json = (operation.requestBody as Json)?.content?.["application/json"];
  if (!media) return [];
  const fromSchema: Json[] =
    media.schema?.examples ?? (media.schema?.example === undefined ? [] : [media.schema.example]);
  const fromMedia = Object.values(media.examples ?? {}).map((example: Json) => example.value);
  return [...fromSchema, ...fromMedia, ...(media.example === undefined ? [] : [media.example])];
}

describe("requests and answers conform to the document", () => {
  it("answers the document's own request examples as it declares", async () => {
    for (const operation of openapi.getOperations()) {
      for (const body of examplesOf(operation)) {
        const path = operation.path.replace(/\{[^}]+\}/g, "example-id");
        const answer = await exchange({ method: operation.method.toUpperCase(), path, body });
        expect(answer.violations).toEqual([]);
        expect(answer.status, `${operation.method} ${path}`).toBeLessThan(300);
      }
    }
  });

  it("takes an idempotency key in the body or the Idempotency-Key header, and answers repeats and reuse", async () => {
    const request = { provider: "postgres", input: { name: "conform_key" }, idempotencyKey: "order-42 ünïcode ✓" };
    await conform(
      { method: "POST", path: "/v1/jobs", body: request, expect: 202 },
      { method: "POST", path: "/v1/jobs", body: request, expect: 200 },
      { method: "POST", path: "/v1/jobs", body: { ...request, input: { name: "conform_other" } }, expect: 409 },
      {
        method: "POST",
        path: "/v1/jobs",
        body: { provider: "postgres", input: { name: "conform_header" } },
        headers: { "idempotency-key": "header-key-7" },
        expect: 202,
      },
    );
  });

  it("refuses, as the document does, an idempotency key with a control character", async () => {
    const [answer] = await conform({
      method: "POST",
      path: "/v1/jobs",
      body: { provider: "postgres", input: { name: "conform_bell" }, idempotencyKey: "ring\u0007" },
      invalid: true,
      expect: 400,
    });
    expect(answer?.body.error.field).toBe("idempotencyKey");
  });
});

describe("typical requests and their errors conform to the document", () => {
  it("queues a bulk request, rejects its bad items one by one, and reads the batch and its jobs", async () => {
    const artie = { name: "conform_artie", connector: { environmentUUID: "0F8FAD5B-D9CB-469F-A165-70867728950E" } };
    const [bulk, partlyBad] = await conform(
      {
        method: "POST",
        path: "/v1/jobs/bulk",
        body: {
          jobs: [
            { provider: "postgres", input: { name: "conform_bulk_a" }, callbackUrl: "https://hooks.example.com/x?y=1" },
            { provider: "artie", input: artie, idempotencyKey: "bulk-artie" },
          ],
        },
        expect: 202,
      },
      // The document types every item as a JobRequest, so it refuses this one; the API takes
      // the request and rejects the bad item alone.
      {
        method: "POST",
        path: "/v1/jobs/bulk",
        body: {
          jobs: [
            { provider: "postgres", input: { name: "conform_bulk_b" } },
            { provider: "postgres", input: { name: "not a name" } },
          ],
        },
        invalid: true,
        expect: 202,
      },
    );
    expect(partlyBad?.body.rejected).toEqual([
      { index: 1, error: expect.objectContaining({ code: "VALIDATION_ERROR", field: "input.name" }) },
    ]);
    const jobId = bulk?.body.jobs[0].id as string;
    await conform(
      { method: "GET", path: `/v1/batches/${bulk?.body.batchId}`, expect: 200 },
      { method: "GET", path: "/v1/batches/no-such-batch", expect: 404 },
      { method: "GET", path: `/v1/jobs/${jobId}`, expect: 200 },
      { method: "GET", path: `/v1/jobs/${jobId}/secrets`, expect: 200 },
      { method: "GET", path: "/v1/jobs/no-such-job", expect: 404 },
      { method: "GET", path: "/v1/jobs?provider=postgres&status=queued&limit=5", expect: 200 },
      { method: "GET", path: "/v1/jobs?limit=0", invalid: true, expect: 400 },
      { method: "GET", path: `/v1/jobs/${"x".repeat(201)}`, invalid: true, expect: 400 },
    );
  });

  it("lists, shows, replays and discards dead letters", async () => {
    const ids: string[] = [];
    for (const name of ["conform_dead_a", "conform_dead_b", "conform_dead_c"]) {
      const [queued] = await conform({
        method: "POST",
        path: "/v1/jobs",
        body: { provider: "postgres", input: { name } },
        expect: 202,
      });
      ids.push(queued?.body.id);
    }
    await failEveryPostgresJob(ids);
    const [a, b, c] = ids as [string, string, string];
    await conform(
      { method: "GET", path: "/v1/dead-letters?provider=postgres&kind=invalid&limit=10", expect: 200 },
      { method: "GET", path: `/v1/dead-letters/${a}`, expect: 200 },
      { method: "GET", path: "/v1/dead-letters/no-such-job", expect: 404 },
      { method: "POST", path: `/v1/dead-letters/${a}/replay`, body: { input: { name: "conform_fixed" } }, expect: 202 },
      {
        method: "POST",
        path: `/v1/dead-letters/${b}/replay`,
        body: { input: { name: "no good" } },

        expect: 400,
      },
      { method: "DELETE", path: `/v1/dead-letters/${b}`, expect: 204 },
      { method: "DELETE", path: `/v1/dead-letters/${b}`, expect: 404 },
      { method: "POST", path: "/v1/dead-letters/replay", body: { provider: "postgres" }, expect: 202 },
      { method: "POST", path: "/v1/dead-letters/replay", body: { kind: "nope" }, invalid: true, expect: 400 },
      { method: "GET", path: `/v1/jobs/${c}`, expect: 200 },
    );
  });

  it("answers bad input, bad tokens, missing scopes and unknown ids with the documented envelope", async () => {
    const valid = { provider: "postgres", input: { name: "conform_errors" } };
    const [spaced] = await conform(
      { method: "POST", path: "/v1/jobs", body: { provider: "postgres", input: {} }, invalid: true, expect: 400 },
      {
        method: "POST",
        path: "/v1/jobs",
        body: { ...valid, callbackUrl: "https://hooks.example.com/a b" },
        invalid: true,
        expect: 400,
      },
      { method: "POST", path: "/v1/jobs", body: valid, token: null, expect: 401 },
      { method: "POST", path: "/v1/jobs", body: valid, token: "wrong-token", expect: 401 },
      { method: "POST", path: "/v1/jobs", body: valid, token: readerToken, expect: 403 },
      { method: "GET", path: "/v1/dead-letters", token: readerToken, expect: 403 },
      {
        method: "POST",
        path: "/v1/events/no-such-source",
        body: { type: "t", timestamp: "2026-01-01T00:00:00Z", data: {} },
        headers: { "webhook-id": "msg_1", "webhook-timestamp": "1", "webhook-signature": "v1,x" },
        token: null,
        expect: 404,
      },
    );
    expect(spaced?.body.error.code).toBe("VALIDATION_ERROR");
    await conform(
      { method: "POST", path: "/v1/jobs", body: "{not json", invalid: true, expect: 400 },
      {
        method: "POST",
        path: "/v1/jobs",
        body: "plain",
        headers: { "content-type": "text/plain" },
        invalid: true,
        expect: 415,
      },
    );
  });

  it("answers 413 for an oversize body and 503 while Redis is down, as documented", async () => {
    const small = createApp({ queues: api.queues, tokens: testTokens, logger: silentLogger, bodyLimitBytes: 64 });
    const body = { provider: "postgres", input: { name: "conform_big" }, metadata: { note: "x".repeat(100) } };
    await conform({ method: "POST", path: "/v1/jobs", body, app: small, expect: 413 });

    const unreachable = createRedisConnection("redis://127.0.0.1:1", "api");
    unreachable.on("error", () => {});
    const queues = openQueues(testConfig(), unreachable);
    try {
      const down = createApp({ queues, tokens: testTokens, logger: silentLogger });
      await conform(
        {
          method: "POST",
          path: "/v1/jobs",
          body: { provider: "postgres", input: { name: "conform_down" } },
          app: down,
          expect: 503,
        },
        { method: "GET", path: "/v1/dead-letters", app: down, expect: 503 },
        { method: "GET", path: "/readyz", token: null, app: down, expect: 503 },
      );
    } finally {
      unreachable.disconnect();
      await queues.close();
    }
  });

  it("answers health, readiness and metrics as documented", async () => {
    await conform(
      { method: "GET", path: "/healthz", token: null, expect: 200 },
      { method: "GET", path: "/readyz", token: null, expect: 200 },
      { method: "GET", path: "/metrics", expect: 200 },
      { method: "GET", path: "/metrics", token: null, expect: 401 },
    );
  });
});

/** Fails every waiting postgres job for good with a bare worker, logging the given ones' last error. */
async function failEveryPostgresJob(ids: readonly string[]): Promise<void> {
  const queue = api.queues.queueOf("postgres");
  const connection = createRedisConnection(redisUrl, "worker");
  const worker = new Worker(
    queue.name,
    async () => {
      throw new UnrecoverableError("refused");
    },
    { connection, prefix: api.queues.config.prefix },
  );
  try {
    const deadline = Date.now() + 10_000;
    for (const id of ids) {
      while ((await queue.getJobState(id)) !== "failed") {
        if (Date.now() > deadline) throw new Error(`job ${id} did not fail in time`);
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    }
  } finally {
    await worker.close();
    await connection.quit();
  }
  const reason: AttemptError = {
    at: new Date().toISOString(),
    attempt: 1,
    kind: "invalid",
    retryable: false,
    message: "refused",
  };
  for (const id of ids) {
    const job = await queue.getJob(id);
    if (!job) throw new Error(`job ${id} is gone`);
    await job.log(JSON.stringify(reason));
  }
}
