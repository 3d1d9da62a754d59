import { createHash } from "node:crypto";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { createApp } from "./app.ts";
import { staticTokenResolver, type TokenEntry } from "./auth.ts";
import { type Scope, scopes } from "./identity.ts";
import { loadApiSettings, SettingsError } from "./settings.ts";
import { type Json, silentLogger, startTestApi } from "./test-support.ts";
import { parseTokensFile, TokensFileError } from "./tokens-file.ts";

const canary = "tok-canary-never-printed-4f1c";
const sha256 = (value: string) => createHash("sha256").update(value).digest("hex");
const fileOf = (tokens: unknown) => JSON.stringify({ tokens });
const directory = mkdtempSync(join(tmpdir(), "tokens-"));
const writeTokensFile = (text: string) => {
  const path = join(directory, `${Math.random().toString(36).slice(2)}.json`);
  writeFileSync(path, text);
  return path;
};

/** The message a tokens file fails with; it must never carry a token. */
function problemOf(text: string, env: NodeJS.ProcessEnv = {}): string {
  try {
    parseTokensFile(text, env);
  } catch (error) {
    expect(error).toBeInstanceOf(TokensFileError);
    const { message } = error as Error;
    expect(message).not.toContain(canary);
    expect(message).not.toContain("\n");
    return message;
  }
  throw new Error("the file was accepted");
}

describe("API_TOKENS_FILE", () => {
  it("reads literal tokens, env: references and sha256: digests, with their scopes", () => {
    const entries = parseTokensFile(
      fileOf([
        { name: "ci", token: "env:CI_TOKEN", scopes: ["jobs:write", "jobs:read"] },
        { name: "ops", token: `sha256:${sha256("ops-token").toUpperCase()}`, scopes: ["dead-letters:manage"] },
        { name: "reader", token: "reader-token", scopes: ["jobs:read", "jobs:read"] },
      ]),
      { CI_TOKEN: "ci-token" },
    );
    expect(entries).toEqual([
      { name: "ci", token: "ci-token", scopes: ["jobs:write", "jobs:read"] },
      { name: "ops", sha256: sha256("ops-token"), scopes: ["dead-letters:manage"] },
      { name: "reader", token: "reader-token", scopes: ["jobs:read"] },
    ]);
    const resolver = staticTokenResolver(entries);
    expect(resolver.resolve("ci-token")?.name).toBe("ci");
    expect(resolver.resolve("ops-token")).toEqual({ name: "ops", scopes: new Set(["dead-letters:manage"]) });
    expect(resolver.resolve("reader-token")?.scopes.has("jobs:write")).toBe(false);
    expect(resolver.resolve(`sha256:${sha256("ops-token")}`)).toBeUndefined();
    expect(resolver.resolve("env:CI_TOKEN")).toBeUndefined();
  });

  it.each([
    ["an unknown key", fileOf([{ name: "a", token: canary, scopes: ["jobs:read"], admin: true }]), /^tokens\.0: /],
    [
      "an unknown scope",
      fileOf([{ name: "a", token: canary, scopes: ["jobs:read", "jobs:delete"] }]),
      /^tokens\.0\.scopes\.1: is not a scope/,
    ],
    ["no scope", fileOf([{ name: "a", token: canary, scopes: [] }]), /^tokens\.0\.scopes: needs at least one scope/],
    [
      "a repeated name",
      fileOf([
        { name: "a", token: "x", scopes: ["jobs:read"] },
        { name: "a", token: canary, scopes: ["jobs:read"] },
      ]),
      /^tokens\.1\.name: a is taken by tokens\.0 \(a\)/,
    ],
    [
      "a repeated token",
      fileOf([
        { name: "a", token: canary, scopes: ["jobs:read"] },
        { name: "b", token: `sha256:${sha256(canary)}`, scopes: ["jobs:read"] },
      ]),
      /^tokens\.1\.token: is the same token as tokens\.0 \(a\)/,
    ],
    ["an empty list", fileOf([]), /^tokens: lists no token/],
    ["no list", JSON.stringify({ token: canary }), /^tokens: /],
    ["an empty token", fileOf([{ name: "a", token: "", scopes: ["jobs:read"] }]), /^tokens\.0\.token: is empty/],
    ["a bad name", fileOf([{ name: "a b\n", token: canary, scopes: ["jobs:read"] }]), /^tokens\.0\.name: must be/],
    [
      "a short digest",
      fileOf([{ name: "a", token: `sha256:${sha256(canary).slice(1)}`, scopes: ["jobs:read"] }]),
      /^tokens\.0\.token: sha256: must be followed by 64 hex digits/,
    ],
    [
      "a bad variable name",
      fileOf([{ name: "a", token: "env:1-X", scopes: ["jobs:read"] }]),
      /^tokens\.0\.token: env: must be followed by a variable name/,
    ],
    ["JSON that does not parse", `{"tokens": [{"name": "a", "token": "${canary}",]}`, /^is not valid JSON$/],
  ])("refuses %s, naming where, never the token", (_, text, expected) => {
    expect(problemOf(text)).toMatch(expected);
  });

  it("names an env: variable that is not set, or empty", () => {
    const file = fileOf([{ name: "ci", token: "env:CI_TOKEN", scopes: ["jobs:write"] }]);
    expect(problemOf(file)).toBe("tokens.0.token: environment variable CI_TOKEN is not set");
    expect(problemOf(file, { CI_TOKEN: "" })).toBe("tokens.0.token: environment variable CI_TOKEN is empty");
  });
});

describe("the API's token settings", () => {
  const base = { PROVISIONER_ENCRYPTION_KEY: "unused-here" };
  const problemOfSettings = (env: NodeJS.ProcessEnv) => {
    try {
      loadApiSettings(env);
    } catch (error) {
      expect(error).toBeInstanceOf(SettingsError);
      expect((error as Error).message).not.toContain(canary);
      return (error as Error).message;
    }
    throw new Error("the settings were accepted");
  };

  it("requires API_TOKEN or API_TOKENS_FILE, and says how to make a token", () => {
    expect(problemOfSettings(base)).toMatch(/API_TOKEN or API_TOKENS_FILE is required.*openssl rand -hex 32/);
  });

  it("takes API_TOKEN alone as the full-access token named default", () => {
    expect(loadApiSettings({ ...base, API_TOKEN: "t" }).tokens).toEqual([{ name: "default", token: "t", scopes }]);
  });

  it("takes both: API_TOKEN as default, then the file's tokens", () => {
    const path = writeTokensFile(fileOf([{ name: "ci", token: "env:CI_TOKEN", scopes: ["jobs:write"] }]));
    const settings = loadApiSettings({ ...base, API_TOKEN: "t", API_TOKENS_FILE: path, CI_TOKEN: "c" });
    expect(settings.tokens.map((entry: TokenEntry) => entry.name)).toEqual(["default", "ci"]);
    expect(staticTokenResolver(settings.tokens).resolve("c")?.scopes).toEqual(new Set(["jobs:write"]));
  });

  it("names the file and the place in it when the file is wrong", () => {
    const path = writeTokensFile(fileOf([{ name: "ci", token: canary, scopes: ["root"] }]));
    expect(problemOfSettings({ ...base, API_TOKENS_FILE: path })).toBe(
      `API_TOKENS_FILE ${path}: tokens.0.scopes.0: is not a scope (scopes: ${scopes.join(", ")})`,
    );
    expect(problemOfSettings({ ...base, API_TOKENS_FILE: join(directory, "missing.json") })).toMatch(
      /^API_TOKENS_FILE .*missing\.json: cannot be read \(ENOENT\)$/,
    );
  });

  it("refuses a file token named default, or equal to API_TOKEN, when API_TOKEN is set", () => {
    const named = writeTokensFile(fileOf([{ name: "default", token: "other", scopes: ["jobs:read"] }]));
    expect(problemOfSettings({ ...base, API_TOKEN: canary, API_TOKENS_FILE: named })).toMatch(
      /tokens\.0\.name: default is taken by API_TOKEN$/,
    );
    const same = writeTokensFile(fileOf([{ name: "ci", token: canary, scopes: ["jobs:read"] }]));
    expect(problemOfSettings({ ...base, API_TOKEN: canary, API_TOKENS_FILE: same })).toMatch(
      /tokens\.0\.token: is the same token as API_TOKEN$/,
    );
  });
});

// 401 and 403 for every route the OpenAPI document lists: a new route is tested as soon as it exists.
const tokenOnly = (scope: Scope) => `only-${scope}`;
const tokenAllBut = (scope: Scope) => `all-but-${scope}`;
const api = await startTestApi();
const app = createApp({
  queues: api.queues,
  logger: silentLogger,
  tokens: staticTokenResolver(
    scopes.flatMap((scope) => [
      { name: tokenOnly(scope), token: tokenOnly(scope), scopes: [scope] },
      { name: tokenAllBut(scope), token: tokenAllBut(scope), scopes: scopes.filter((s) => s !== scope) },
    ]),
  ),
});
afterAll(() => api.close());

const doc: Json = await (await app.request("/openapi.json")).json();
const routes = Object.entries(doc.paths as Record<string, Record<string, Json>>).flatMap(([path, operations]) =>
  Object.entries(operations).map(([method, operation]) => ({
    method: method.toUpperCase(),
    path,
    name: `${method.toUpperCase()} ${path}`,
    security: operation.security as Record<string, string[]>[] | undefined,
  })),
);
// `security: []` marks a route that authenticates by other means: events carry a Standard
// Webhooks signature (events.test.ts proves a bad or missing one is refused).
const signed = routes.filter((route) => Array.isArray(route.security) && route.security.length === 0);
const guarded = routes.filter((route) => route.security !== undefined && !signed.includes(route));

describe("every route's guard", () => {
  it("guards every route but health and readiness, each with one scope; events with their signature", () => {
    expect(routes.filter((route) => route.security === undefined).map((route) => route.name)).toEqual([
      "GET /healthz",
      "GET /readyz",
    ]);
    expect(signed.map((route) => route.name)).toEqual(["POST /v1/events/{source}"]);
    expect(guarded.length).toBeGreaterThan(10);
    for (const route of guarded) {
      expect(route.security, route.name).toEqual([{ bearerAuth: [expect.toBeOneOf([...scopes])] }]);
    }
  });

  it("lists in the document every route the app serves, but the dashboard and the docs themselves", () => {
    const served = app.routes
      .filter((route) => route.method !== "ALL" && !route.path.startsWith("/admin/queues"))
      .map((route) => `${route.method} ${route.path.replaceAll(/:(\w+)/g, "{$1}")}`)
      .filter((name) => name !== "GET /openapi.json" && name !== "GET /docs" && name !== "GET /docs/assets/{file}");
    expect(new Set(served)).toEqual(new Set(routes.map((route) => route.name)));
  });

  const request = (route: (typeof routes)[number], authorization?: string) => {
    const headers: Record<string, string> = { "content-type": "application/json" };
    if (authorization !== undefined) headers.authorization = authorization;
    const init: RequestInit = { method: route.method, headers };
    if (route.method === "POST") init.body = "{}";
    return app.request(route.path.replaceAll(/\{[^}]+\}/g, "postgres-0000"), init);
  };

  it.each(guarded)("$name: 401 without a token or with a wrong one, 403 without its scope", async (route) => {
    const scope = route.security?.[0]?.bearerAuth?.[0] as Scope;
    for (const authorization of [undefined, "Bearer wrong-token", `Bearer ${tokenOnly(scope)}x`, "Basic b3BzOng="]) {
      const res = await request(route, authorization);
      expect(res.status, `${authorization}`).toBe(401);
      expect(res.headers.get("www-authenticate")).toMatch(/^Bearer realm=/);
      expect(((await res.json()) as Json).error.code).toBe("UNAUTHORIZED");
    }
    const forbidden = await request(route, `Bearer ${tokenAllBut(scope)}`);
    expect(forbidden.status).toBe(403);
    expect(((await forbidden.json()) as Json).error).toMatchObject({
      code: "FORBIDDEN",
      message: expect.stringContaining(scope),
    });
    const allowed = await request(route, `Bearer ${tokenOnly(scope)}`);
    expect([401, 403]).not.toContain(allowed.status);
    expect(allowed.status).toBeLessThan(500);
  });

  it("asks the dashboard's visitors for basic auth, and wants jobs:read", async () => {
    const basic = (password: string) => ({
      authorization: `Basic ${Buffer.from(`ops:${password}`).toString("base64")}`,
    });
    for (const headers of [{}, basic("wrong-token"), { authorization: `Bearer ${tokenOnly("jobs:read")}` }]) {
      const res = await app.request("/admin/queues", { headers });
      expect(res.status).toBe(401);
      expect(res.headers.get("www-authenticate")).toMatch(/^Basic realm=/);
    }
    const forbidden = await app.request("/admin/queues", { headers: basic(tokenAllBut("jobs:read")) });
    expect(forbidden.status).toBe(403);
    expect(((await forbidden.json()) as Json).error.code).toBe("FORBIDDEN");
    expect((await app.request("/admin/queues", { headers: basic(tokenOnly("jobs:read")) })).status).toBe(200);
  });
});
