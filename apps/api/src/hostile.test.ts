// Property tests: generated hostile requests, every one invalid by construction, thrown at the
// app in-process with real Redis. Each must get a 4xx in the error envelope with x-request-id,
// and none may queue anything. A 2xx or a 5xx here is a bug in the API, not in the generator.
import { errorCodeSchema, jobRequestSchema, maxBulkJobs, maxMetadataKeys } from "@provisioner/api-contract";
import { errorKinds, providerInputSchemas, providerNames } from "@provisioner/provider-client";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import { createApp } from "./app.ts";
import { statusOfCode } from "./errors.ts";
import { maxJsonDepth } from "./middleware.ts";
import {
  adminToken,
  bridgeportInput,
  type Json,
  readerToken,
  silentLogger,
  startTestApi,
  type TestApi,
  testTokens,
} from "./test-support.ts";

const envelopeSchema = z.strictObject({
  error: z.strictObject({
    code: errorCodeSchema,
    message: z.string().min(1),
    field: z.string().optional(),
    hint: z.string().optional(),
    requestId: z.string().min(1),
  }),
});

const smallLimit = 4096;
const deadLetterKinds = [...errorKinds, "expired"];
let api: TestApi;
let small: TestApi["app"];
const prototypeKeys = Object.getOwnPropertyNames(Object.prototype).sort();
let requestsMade = 0;

beforeAll(async () => {
  api = await startTestApi();
  small = createApp({ queues: api.queues, tokens: testTokens, logger: silentLogger, bodyLimitBytes: smallLimit });
});
afterAll(() => api.close());

interface Attempt {
  method?: string;
  path: string;
  body?: string | Uint8Array | undefined;
  headers?: Record<string, string>;
  /** Default the admin token; `null` sends no Authorization header. */
  token?: string | null;
}

async function send({ method = "POST", path, body, headers = {}, token = adminToken }: Attempt, app = api.app) {
  const all: Record<string, string> = { ...headers };
  if (token !== null) all.authorization ??= `Bearer ${token}`;
  if (body !== undefined) all["content-type"] ??= "application/json";
  requestsMade += 1;
  return app.request(path, body === undefined ? { method, headers: all } : { method, headers: all, body });
}

/** A 4xx (one of `statuses` when given) in the envelope, its requestId the x-request-id header. */
async function expectRefused(res: Response, statuses?: readonly number[]) {
  const text = await res.text();
  expect(res.status, text).toBeGreaterThanOrEqual(400);
  expect(res.status, text).toBeLessThan(500);
  if (statuses) expect(statuses, text).toContain(res.status);
  const requestId = res.headers.get("x-request-id");
  expect(requestId).toMatch(/^[\w=-]{1,128}$/);
  const { error } = envelopeSchema.parse(JSON.parse(text));
  expect(error.requestId).toBe(requestId);
  expect(statusOfCode[error.code]).toBe(res.status);
  return error;
}

/** Nothing queued, and no key under the prefix but the queues' own meta keys. */
async function expectNothingQueued() {
  for (const queue of api.queues.accounts.map(({ queue }) => queue)) {
    const counts = await queue.getJobCounts();
    expect(
      Object.values(counts).every((count) => count === 0),
      `${queue.name}: ${JSON.stringify(counts)}`,
    ).toBe(true);
  }
  const { prefix } = api.queues.config;
  const keys: string[] = [];
  let cursor = "0";
  do {
    const [next, found] = await api.connection.scan(cursor, "MATCH", `${prefix}:*`, "COUNT", 1000);
    keys.push(...found);
    cursor = next;
  } while (cursor !== "0");
  expect(keys.filter((key) => !/^[^:]+:[^:]+:meta$/.test(key))).toEqual([]);
  expect(({} as Json).polluted).toBeUndefined();
  expect(Object.getOwnPropertyNames(Object.prototype).sort()).toEqual(prototypeKeys);
}

const property = <T>(arbitrary: fc.Arbitrary<T>, check: (value: T) => Promise<void>, numRuns: number) =>
  fc.assert(fc.asyncProperty(arbitrary, check), { numRuns });

/** Stands for a value nested `depth` deep; JSON.stringify would overflow the stack writing it. */
const deepPlaceholder = (depth: number, arrays: boolean) => `@@deep:${depth}:${arrays ? "a" : "o"}@@`;

/** JSON text of `value`, with deep placeholders written out. */
const toJsonText = (value: unknown) =>
  JSON.stringify(value).replaceAll(/"@@deep:(\d+):([ao])@@"/g, (_, depth: string, kind: string) => {
    const n = Number(depth);
    return kind === "a" ? `${"[".repeat(n)}1${"]".repeat(n)}` : `${'{"a":'.repeat(n)}1${"}".repeat(n)}`;
  });

/** Sets an own property, even `__proto__`, so JSON.stringify writes it as a key. */
function withKey<T extends object>(target: T, key: string, value: unknown): T {
  Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
  return target;
}

// --- generators --------------------------------------------------------------------------

const dbName = fc.stringMatching(/^[a-z_][a-z0-9_]{0,20}$/);
const validJob = fc
  .tuple(
    dbName,
    fc.constantFrom(...providerNames),
    fc.record(
      {
        account: fc.constant("default"),
        idempotencyKey: fc.stringMatching(/^[a-z0-9-]{1,40}$/),
        callbackUrl: fc.constant("https://example.com/hook"),
        metadata: fc.dictionary(fc.stringMatching(/^[a-z]{1,8}$/), fc.oneof(fc.string(), fc.integer(), fc.boolean()), {
          maxKeys: 5,
        }),
      },
      { requiredKeys: [] },
    ),
  )
  .map(([name, provider, extras]): Json => {
    const input = {
      postgres: { name },
      mysql: { name },
      bridgeport: bridgeportInput(name),
      prisma: { projectId: "proj_abc123", name },
      artie: { name, connector: { type: "postgresql", sharedConfig: { host: "db" } } },
    }[provider];
    return { provider, input, ...extras };
  });

/** An input field each provider requires. */
const requiredInputField = {
  postgres: "name",
  mysql: "name",
  bridgeport: "envId",
  prisma: "projectId",
  artie: "connector",
} as const;
const topLevelKeys = ["provider", "input", "account", "idempotencyKey", "callbackUrl", "metadata"];
const pollutionKeys = ["__proto__", "constructor", "prototype"] as const;
const pollutionKey = fc.constantFrom(...pollutionKeys);
const pollutionValue = fc.constantFrom<unknown>({ polluted: true }, { prototype: { polluted: true } }, "polluted", 1);

const notAString = fc.oneof(
  fc.integer(),
  fc.boolean(),
  fc.constant(null),
  fc.array(fc.string(), { maxLength: 3 }),
  fc.object({ maxDepth: 1 }),
);
const notAnObject = fc.oneof(
  fc.string(),
  fc.integer(),
  fc.boolean(),
  fc.constant(null),
  fc.array(fc.jsonValue({ maxDepth: 1 }), { maxLength: 3 }),
);
const longString = (min: number, max: number) => fc.integer({ min, max }).map((n) => "x".repeat(n));
/** Strings that cannot be an http(s) URL: printable ASCII not starting with http: or https:. */
const notAnHttpUrl = fc.oneof(
  fc.constantFrom(
    "",
    "ftp://example.com/x",
    "javascript:alert(1)",
    "file:///etc/passwd",
    "//example.com",
    "http://",
    `https://${"a".repeat(2100)}.com`,
  ),
  fc.string({ unit: "grapheme-ascii" }).filter((s) => !/^https?:/i.test(s.trimStart())),
);
const controlChar = fc
  .integer({ min: 0, max: 0x9f })
  .filter((c) => c < 0x20 || c >= 0x7f)
  .map((c) => String.fromCharCode(c));
const badIdempotencyKey = fc.oneof(
  notAString,
  fc.constant(""),
  longString(256, 10_240),
  fc.tuple(fc.string({ maxLength: 10 }), controlChar, fc.string({ maxLength: 10 })).map(([a, c, b]) => `${a}${c}${b}`),
);
const badMetadata = fc.oneof(
  notAnObject,
  fc
    .integer({ min: maxMetadataKeys + 1, max: 60 })
    .map((n) => Object.fromEntries(Array.from({ length: n }, (_, i) => [`k${i}`, i]))),
  fc.constant({ "": "empty key" }),
  longString(101, 3000).map((key) => ({ [key]: "long key" })),
  fc.oneof(fc.object({ maxDepth: 1 }), fc.array(fc.integer())).map((value) => ({ nested: value })),
  longString(1001, 5000).map((value) => ({ note: value })),
  fc.tuple(pollutionKey, fc.string({ maxLength: 5 })).map(([key, value]) => withKey({ team: "a" }, key, value)),
);
/** Deeper than the API takes, as an object chain or an array chain (a placeholder for toJsonText). */
const tooDeep = fc
  .tuple(fc.integer({ min: maxJsonDepth + 1, max: 20_000 }), fc.boolean())
  .map(([depth, arrays]) => deepPlaceholder(depth, arrays));

/** One change that makes any job request invalid, whatever was done to it before. */
type Mutation = (job: Json) => void;
/** A mutation setting something with each generated value. */
const mutate = <T>(values: fc.Arbitrary<T>, change: (job: Json, value: T) => void): fc.Arbitrary<Mutation> =>
  values.map((value) => (job: Json) => change(job, value));
const always = (change: (job: Json) => void) => mutate(fc.constant(null), change);
const isObject = (value: unknown): value is Json =>
  typeof value === "object" && value !== null && !Array.isArray(value);
const unknownProvider = fc.string().filter((p) => !(providerNames as readonly string[]).includes(p));

const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  // the provider: unknown, wrong-typed or missing
  mutate(fc.oneof(unknownProvider, notAString), (job, provider) => {
    job.provider = provider;
  }),
  always((job) => {
    delete job.provider;
  }),
  // the input: missing, not an object, a required field gone, an unknown or a wrong-typed field
  always((job) => {
    delete job.input;
  }),
  mutate(notAnObject, (job, input) => {
    job.input = input;
  }),
  always((job) => {
    const field = requiredInputField[job.provider as keyof typeof requiredInputField];
    if (field && isObject(job.input)) delete job.input[field];
    else delete job.input;
  }),
  mutate(fc.tuple(fc.string({ minLength: 1 }), fc.jsonValue({ maxDepth: 2 })), (job, [key, value]) => {
    const known = Object.keys(providerInputSchemas[job.provider as keyof typeof providerInputSchemas]?.shape ?? {});
    if (isObject(job.input)) withKey(job.input, known.includes(key) ? `${key}_unknown` : key, value);
    else delete job.input;
  }),
  mutate(
    fc.oneof(notAString, fc.constantFrom("", "9starts_with_digit", "has-dash", "has space"), longString(64, 5000)),
    (job, name) => {
      job.provider = "postgres";
      job.input = { name };
    },
  ),
  mutate(fc.oneof(fc.string(), fc.boolean(), fc.constant(null)), (job, port) => {
    job.provider = "bridgeport";
    job.input = { ...bridgeportInput("typed"), port };
  }),
  mutate(notAnObject, (job, connector) => {
    job.provider = "artie";
    job.input = { name: "artie-db", connector };
  }),
  // the optional fields, wrong
  mutate(
    fc.oneof(
      notAString,
      longString(101, 5000),
      fc.string().filter((s) => s !== "default"),
    ),
    (job, account) => {
      job.account = account;
    },
  ),
  mutate(badIdempotencyKey, (job, key) => {
    job.idempotencyKey = key;
  }),
  mutate(fc.oneof(notAString, notAnHttpUrl), (job, url) => {
    job.callbackUrl = url;
  }),
  mutate(badMetadata, (job, metadata) => {
    job.metadata = metadata;
  }),
  // an unknown key at the top
  mutate(fc.tuple(fc.string(), fc.jsonValue({ maxDepth: 2 })), (job, [key, value]) => {
    withKey(job, topLevelKeys.includes(key) ? `${key}_` : key, value);
  }),
  // prototype pollution: at the top, in input, deep in free-form provider settings
  mutate(fc.tuple(pollutionKey, pollutionValue), (job, [key, value]) => {
    withKey(job, key, value);
  }),
  mutate(fc.tuple(pollutionKey, pollutionValue), (job, [key, value]) => {
    if (isObject(job.input)) withKey(job.input, key, value);
    else delete job.input;
  }),
  mutate(fc.tuple(pollutionKey, pollutionValue), (job, [key, value]) => {
    job.provider = "artie";
    job.input = { name: "artie-db", connector: { sharedConfig: { nested: withKey({}, key, value) } } };
  }),
  // nesting deep enough to overflow a recursive walker, where the schema takes anything
  mutate(tooDeep, (job, deep) => {
    job.provider = "artie";
    job.input = { name: "artie-db", connector: { sharedConfig: { deep } } };
  }),
);

/** A valid request, broken one to three ways. */
const brokenJob = fc.tuple(validJob, fc.array(mutation, { minLength: 1, maxLength: 3 })).map(([valid, mutations]) => {
  // fast-check may hand the same value to this function again while shrinking: never change it.
  const job = structuredClone(valid);
  for (const mutate of mutations) mutate(job);
  return job as Json;
});

// --- properties --------------------------------------------------------------------------

describe("hostile requests", { timeout: 120_000 }, () => {
  it("checks its own generator: the unbroken requests are valid", () => {
    fc.assert(
      fc.property(validJob, (job) => {
        expect(jobRequestSchema.safeParse(job).success).toBe(true);
      }),
      { numRuns: 200 },
    );
  });

  it("refuses broken job requests at POST /v1/jobs, queueing nothing", async () => {
    await property(
      brokenJob,
      async (job) => {
        await expectRefused(await send({ path: "/v1/jobs", body: toJsonText(job) }), [400]);
      },
      2500,
    );
    await expectNothingQueued();
  });

  it("refuses arbitrary JSON values at every POST route", async () => {
    const target = fc.constantFrom(
      "/v1/jobs",
      "/v1/jobs/bulk",
      "/v1/dead-letters/replay",
      "/v1/dead-letters/postgres-x/replay",
    );
    // Values that could pass are left out by shape alone, never by asking the API's schemas.
    const cannotPass = (path: string, value: unknown) => {
      if (typeof value !== "object" || value === null || Array.isArray(value)) return true;
      const keys = Object.keys(value);
      if (path === "/v1/jobs") return !(providerNames as readonly unknown[]).includes((value as Json).provider);
      if (path === "/v1/jobs/bulk")
        return keys.length !== 1 || !Array.isArray((value as Json).jobs) || (value as Json).jobs.length === 0;
      if (path === "/v1/dead-letters/replay")
        return keys.some((key) => !["provider", "kind", "all"].includes(key)) || keys.length === 0;
      return true; // a replay of a dead letter that does not exist is 404 whatever the body
    };
    await property(
      fc.tuple(target, fc.jsonValue({ stringUnit: "binary" })).filter(([path, value]) => cannotPass(path, value)),
      async ([path, value]) => {
        await expectRefused(await send({ path, body: toJsonText(value) }));
      },
      2000,
    );
    await expectNothingQueued();
  });

  it("refuses broken bulk envelopes, and rejects every item of a bulk of broken items", async () => {
    const smallJob = { provider: "postgres", input: { name: "bulk_item" } };
    const brokenEnvelope = fc.oneof(
      notAnObject,
      fc.constant({}),
      notAnObject.filter((jobs) => !Array.isArray(jobs)).map((jobs) => ({ jobs })),
      fc.constant({ jobs: [] }),
      fc
        .integer({ min: maxBulkJobs + 1, max: maxBulkJobs + 50 })
        .map((n) => ({ jobs: Array.from({ length: n }, () => smallJob) })),
      fc
        .tuple(
          fc.string().filter((key) => key !== "jobs"),
          fc.jsonValue({ maxDepth: 1 }),
        )
        .map(([key, value]) => withKey({ jobs: [smallJob] }, key, value)),
      fc
        .tuple(pollutionKey, pollutionValue)
        .map(([key, value]) => ({ jobs: [smallJob, withKey({ ...smallJob }, key, value)] })),
      fc.tuple(pollutionKey, pollutionValue).map(([key, value]) => withKey({ jobs: [smallJob] }, key, value)),
      tooDeep.map((deep) => ({ jobs: [smallJob, deep] })),
    );
    await property(
      brokenEnvelope,
      async (body) => {
        await expectRefused(await send({ path: "/v1/jobs/bulk", body: toJsonText(body) }), [400]);
      },
      1000,
    );
    // The contract (SPEC §4): a bulk request is 202 with each bad item rejected by index, so a
    // bulk of only bad items is a 202 that accepts none and records no batch.
    await property(
      fc.array(brokenJob, { minLength: 1, maxLength: 5 }),
      async (jobs) => {
        const body = toJsonText({ jobs });
        const res = await send({ path: "/v1/jobs/bulk", body });
        if (res.status === 400) {
          await expectRefused(res); // a hazard anywhere in the body refuses all of it
          return;
        }
        expect(res.status, await res.clone().text()).toBe(202);
        const answer: Json = await res.json();
        expect(answer.accepted).toBe(0);
        expect(answer.jobs).toEqual([]);
        expect(answer.rejected.map((rejection: Json) => rejection.index)).toEqual(jobs.map((_, i) => i));
      },
      500,
    );
    await expectNothingQueued();
  });

  it("refuses broken dead-letter replays", async () => {
    const replayOne = fc.oneof(
      notAnObject,
      notAnObject.map((input) => ({ input })),
      fc
        .tuple(
          fc.string().filter((key) => key !== "input"),
          fc.jsonValue({ maxDepth: 1 }),
        )
        .map(([key, value]) => withKey({}, key, value)),
    );
    const replayMany = fc.oneof(
      notAnObject,
      fc.constant({}),
      fc.constant({ all: false }),
      fc
        .string()
        .filter((p) => !(providerNames as readonly string[]).includes(p))
        .map((provider) => ({ provider })),
      fc
        .oneof(
          notAString,
          fc.string().filter((kind) => !(deadLetterKinds as readonly string[]).includes(kind)),
        )
        .map((kind) => ({ kind })),
      notAString.filter((all) => all !== true).map((all) => ({ all })),
      fc
        .tuple(
          fc.string().filter((key) => !["provider", "kind", "all"].includes(key)),
          fc.jsonValue({ maxDepth: 1 }),
        )
        .map(([key, value]) => withKey({ all: true }, key, value)),
    );
    await property(
      fc.oneof(
        replayOne.map((body) => ({ path: "/v1/dead-letters/postgres-x/replay", body })),
        replayMany.map((body) => ({ path: "/v1/dead-letters/replay", body })),
      ),
      async ({ path, body }) => {
        await expectRefused(await send({ path, body: toJsonText(body) }), [400, 404]);
      },
      800,
    );
    await expectNothingQueued();
  });

  it("answers bodies near and over the size limit with 400 and 413, never more", async () => {
    const padded = (size: number) => {
      const base = JSON.stringify({ provider: "postgres", input: { name: "sized" }, metadata: { note: "" } });
      return JSON.stringify({
        provider: "postgres",
        input: { name: "sized" },
        metadata: { note: "x".repeat(Math.max(0, size - base.length)) },
      });
    };
    await property(
      fc.integer({ min: smallLimit - 300, max: smallLimit + 300 }),
      async (size) => {
        const body = padded(size);
        const error = await expectRefused(await send({ path: "/v1/jobs", body }, small), [400, 413]);
        expect(error.code).toBe(Buffer.byteLength(body) > smallLimit ? "PAYLOAD_TOO_LARGE" : "VALIDATION_ERROR");
      },
      400,
    );
    // A few at the default 2 MiB limit, one string of about that size.
    const limit = 2 * 1024 * 1024;
    await property(
      fc.integer({ min: limit - 2048, max: limit + 2048 }),
      async (size) => {
        const error = await expectRefused(await send({ path: "/v1/jobs/bulk", body: padded(size) }), [400, 413]);
        expect(error.code).toBe(size > limit ? "PAYLOAD_TOO_LARGE" : "VALIDATION_ERROR");
      },
      10,
    );
    await expectNothingQueued();
  });

  it("refuses invalid UTF-8 in a JSON body with 400", async () => {
    const invalidSequences = [
      [0xff],
      [0xfe],
      [0xc3, 0x28],
      [0xa0, 0xa1],
      [0x80],
      [0xc0, 0xaf],
      [0xe2, 0x28, 0xa1],
      [0xed, 0xa0, 0x80],
      [0xf0, 0x90, 0x28, 0xbc],
      [0xf8, 0x88, 0x80, 0x80, 0x80],
      [0xe2, 0x82],
    ];
    const strict = new TextDecoder("utf-8", { fatal: true });
    const isBadUtf8 = (bytes: Uint8Array) => {
      try {
        strict.decode(bytes);
        return false;
      } catch {
        return true;
      }
    };
    // A request that would be queued, but for a bad byte sequence inside the database name.
    const inName = fc.tuple(dbName, fc.constantFrom(...invalidSequences), fc.nat()).map(([name, sequence, at]) => {
      const text = JSON.stringify({ provider: "bridgeport", input: bridgeportInput(name) });
      const cut = text.indexOf(`"name":"`) + 8 + (at % (name.length + 1));
      const encoder = new TextEncoder();
      return new Uint8Array([...encoder.encode(text.slice(0, cut)), ...sequence, ...encoder.encode(text.slice(cut))]);
    });
    await property(
      fc.oneof(inName, fc.uint8Array({ minLength: 1, maxLength: 64 }).filter(isBadUtf8)),
      async (bytes) => {
        const path = bytes.length % 2 === 0 ? "/v1/jobs" : "/v1/jobs/bulk";
        await expectRefused(await send({ path, body: bytes }), [400]);
      },
      800,
    );
    await expectNothingQueued();
  });

  it("refuses a valid body sent with the wrong content type, or none", async () => {
    const contentType = fc.oneof(
      fc.constantFrom(
        "text/plain",
        "text/html; charset=utf-8",
        "multipart/form-data; boundary=x",
        "application/x-www-form-urlencoded",
        "application/xml",
        "application/octet-stream",
        "json",
        "application/jsonx",
        "",
        " ",
      ),
      fc.string({ unit: "grapheme-ascii", maxLength: 60 }).filter((type) => !/json/i.test(type)),
    );
    await property(
      fc.tuple(validJob, contentType),
      async ([job, type]) => {
        const res = await send({ path: "/v1/jobs", body: toJsonText(job), headers: { "content-type": type } });
        await expectRefused(res, [400, 415]);
      },
      300,
    );
    // And with no content type at all (send() would add one).
    await property(
      validJob,
      async (job) => {
        requestsMade += 1;
        const res = await api.app.request("/v1/jobs", {
          method: "POST",
          headers: { authorization: `Bearer ${adminToken}` },
          body: toJsonText(job),
        });
        await expectRefused(res, [415]);
      },
      100,
    );
    await expectNothingQueued();
  });

  it("refuses absurd Idempotency-Key headers", async () => {
    const key = fc.oneof(
      fc.constantFrom("", " ", "\t"),
      longString(256, 10_240),
      fc
        .tuple(
          fc.string({ unit: "grapheme-ascii", minLength: 1, maxLength: 20 }),
          controlChar,
          fc.string({ unit: "grapheme-ascii", minLength: 1, maxLength: 20 }),
        )
        .filter(([, c]) => !["\0", "\r", "\n"].includes(c))
        .map(([a, c, b]) => `${a}${c}${b}`),
    );
    await property(
      fc.tuple(validJob, key),
      async ([job, value]) => {
        const { idempotencyKey: _, ...rest } = job;
        const res = await send({ path: "/v1/jobs", body: toJsonText(rest), headers: { "idempotency-key": value } });
        const error = await expectRefused(res, [400]);
        expect(error.field).toBe("idempotency-key");
      },
      600,
    );
    await expectNothingQueued();
  });

  it("answers 401 to garbage in Authorization, never 500, on the API, /metrics and the dashboard", async () => {
    const latin1 = fc
      .integer({ min: 1, max: 0xff })
      .filter((c) => c !== 0x0a && c !== 0x0d)
      .map((c) => String.fromCharCode(c));
    const garbage = fc
      .oneof(
        fc.string({ unit: latin1, maxLength: 200 }),
        fc.string({ unit: latin1, maxLength: 200 }).map((s) => `Bearer ${s}`),
        fc.string({ unit: latin1, maxLength: 200 }).map((s) => `Basic ${s}`),
        fc
          .string({ unit: latin1, maxLength: 100 })
          .filter((s) => ![adminToken, readerToken].some((token) => s.includes(token)))
          .map((s) => `Basic ${Buffer.from(`ops:${s}`, "latin1").toString("base64")}`),
        longString(1000, 20_000).map((s) => `Bearer ${s}`),
      )
      .filter((value) => ![adminToken, readerToken].some((token) => value.includes(token)));
    const target = fc.constantFrom(
      { method: "POST", path: "/v1/jobs", basic: false },
      { method: "GET", path: "/v1/jobs/postgres-x", basic: false },
      { method: "GET", path: "/metrics", basic: false },
      { method: "GET", path: "/admin/queues", basic: true },
    );
    await property(
      fc.tuple(target, garbage, validJob),
      async ([{ method, path, basic }, authorization, job]) => {
        let headers: Headers;
        try {
          headers = new Headers({ authorization });
        } catch {
          return; // a value fetch refuses to send (leading or trailing whitespace is trimmed, not refused)
        }
        const body = method === "POST" ? JSON.stringify(job) : undefined;
        const res = await send({ method, path, body, headers: { authorization: headers.get("authorization") ?? "" } });
        await expectRefused(res, [401]);
        expect(res.headers.get("www-authenticate")).toMatch(basic ? /^Basic / : /^Bearer /);
      },
      1200,
    );
    await expectNothingQueued();
  });

  it("keeps or replaces odd x-request-id values, on every refusal", async () => {
    const latin1 = fc
      .integer({ min: 1, max: 0xff })
      .filter((c) => c !== 0x0a && c !== 0x0d)
      .map((c) => String.fromCharCode(c));
    const requestId = fc.oneof(
      fc.string({ unit: latin1, maxLength: 300 }),
      fc.stringMatching(/^[\w=-]{1,200}$/),
      fc.constantFrom(
        "",
        "../../etc/passwd",
        "<script>alert(1)</script>",
        "a b",
        "id\u00e9",
        "abc\u000b",
        "abc\u00a0",
        " abc\t",
      ),
    );
    await property(
      fc.tuple(requestId, brokenJob),
      async ([id, job]) => {
        const res = await send({ path: "/v1/jobs", body: toJsonText(job), headers: { "x-request-id": id } });
        await expectRefused(res, [400]);
        // Header values lose only HTTP's own whitespace (space, tab) at their ends; String.trim
        // would also strip \v, \f and U+00A0, which the API rightly refuses in an id.
        const trimmed = id.replace(/^[ \t]+|[ \t]+$/g, "");
        if (/^[\w=-]{1,128}$/.test(trimmed)) expect(res.headers.get("x-request-id")).toBe(trimmed);
        else expect(res.headers.get("x-request-id")).not.toBe(trimmed);
      },
      500,
    );
    await expectNothingQueued();
  });

  it("answers 404 in the envelope to unknown paths under /v1", async () => {
    const known = new Set(["jobs", "batches", "dead-letters"]);
    const segment = fc
      .oneof(
        fc.string({ unit: "binary", minLength: 1, maxLength: 30 }),
        fc.constantFrom("%00", "%ff", "%", "%zz", "\u00e9", "\u{1f600}", ";", "%2F"),
      )
      .filter((s) => s !== "." && s !== "..")
      .map((s) => (/^%|^[;\u00e9\u{1f600}]$/u.test(s) ? s : encodeURIComponent(s)));
    const decoded = (s: string) => {
      try {
        return decodeURIComponent(s);
      } catch {
        return s;
      }
    };
    await property(
      fc
        .tuple(
          fc.constantFrom("GET", "POST", "PUT", "PATCH", "DELETE"),
          fc.array(segment, { minLength: 1, maxLength: 5 }),
        )
        .filter(([, segments]) => !known.has(decoded(segments[0] ?? "").toLowerCase())),
      async ([method, segments]) => {
        const res = await send({
          method,
          path: `/v1/${segments.join("/")}`,
          body: method === "GET" ? undefined : "{}",
        });
        await expectRefused(res, [404]);
      },
      1000,
    );
    await expectNothingQueued();
  });

  it("answers 404 or 400 to hostile ids on the id routes", async () => {
    const hostileId = fc.oneof(
      fc.constantFrom(
        "..",
        ".",
        "...",
        "..%2F..%2Fetc%2Fpasswd",
        "%2e%2e",
        "%00",
        "postgres-%00",
        "%ff",
        "%",
        "%E0%A4%A",
        "\u00e9\u65e5\u672c",
        "\u{1f600}",
        "postgres-\u00e9",
        "a;b",
        "%3Cscript%3E",
      ),
      fc.string({ unit: "binary", minLength: 1, maxLength: 50 }).map(encodeURIComponent),
      fc
        .tuple(fc.constantFrom("", ...providerNames.map((p) => `${p}-`)), longString(150, 10_000))
        .map(([p, s]) => `${p}${s}`),
    );
    const route = fc.constantFrom(
      { method: "GET", path: (id: string) => `/v1/jobs/${id}` },
      { method: "GET", path: (id: string) => `/v1/jobs/${id}/secrets` },
      { method: "GET", path: (id: string) => `/v1/batches/${id}` },
      { method: "GET", path: (id: string) => `/v1/dead-letters/${id}` },
      { method: "DELETE", path: (id: string) => `/v1/dead-letters/${id}` },
      { method: "POST", path: (id: string) => `/v1/dead-letters/${id}/replay` },
    );
    await property(
      fc.tuple(route, hostileId),
      async ([{ method, path }, id]) => {
        const res = await send({ method, path: path(id), body: method === "POST" ? "{}" : undefined });
        await expectRefused(res, [400, 404]);
      },
      1500,
    );
    await expectNothingQueued();
  });

  it("answers 404 or 405 in the envelope to wrong methods on known paths", async () => {
    const doc: Json = await (await api.app.request("/openapi.json")).json();
    const served = Object.entries(doc.paths as Record<string, object>).map(([path, operations]) => ({
      path: path.replaceAll(/\{[^}]+\}/g, "postgres-x"),
      methods: Object.keys(operations).map((method) => method.toUpperCase()),
    }));
    served.push({ path: "/openapi.json", methods: ["GET"] }, { path: "/docs", methods: ["GET"] });
    const method = fc.oneof(
      fc.constantFrom("GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "PROPFIND", "MKCOL", "QUERY"),
      fc.stringMatching(/^[A-Z]{1,12}$/),
    );
    const forbidden = new Set(["CONNECT", "TRACE", "TRACK"]);
    await property(
      fc.tuple(fc.constantFrom(...served), method).filter(([{ methods }, m]) => {
        const normal = ["GET", "POST", "PUT", "DELETE", "OPTIONS", "HEAD"].includes(m.toUpperCase())
          ? m.toUpperCase()
          : m;
        // A HEAD answer has no body to hold an envelope.
        return !forbidden.has(normal) && normal !== "HEAD" && !methods.includes(normal);
      }),
      async ([{ path }, m]) => {
        // Some wrong methods reach another route's pattern (GET /v1/dead-letters/replay is a dead letter
        // named "replay"): the admin token keeps a scope check from answering first.
        const res = await send({ method: m, path, body: m === "GET" ? undefined : "{}" });
        await expectRefused(res, [404, 405]);
      },
      600,
    );
    await expectNothingQueued();
  });

  it("made at least 10,000 generated requests", () => {
    expect(requestsMade).toBeGreaterThanOrEqual(10_000);
  });
});
