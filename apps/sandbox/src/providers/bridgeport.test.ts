import { describe, expect, it } from "vitest";
import { TOKENS, testSandbox } from "../test-support.ts";

const DATABASES = "/bridgeport/api/environments/env_prod/databases";
const input = { name: "tenant-a", type: "postgres", host: "pg.internal", port: 5432, password: "s3cret" };

interface Envelope {
  code: string;
  message: string;
  field?: string;
  hint?: string;
  requestId: string;
}

describe("bridgeport create", () => {
  it("answers 200 {database} without the password", async () => {
    const sandbox = testSandbox();
    const response = await sandbox.call("POST", DATABASES, { body: input });
    expect(response.status).toBe(200);
    const { database } = (await response.json()) as { database: Record<string, unknown> };
    expect(database).toMatchObject({
      name: "tenant-a",
      type: "postgres",
      environmentId: "env_prod",
      host: "pg.internal",
      port: 5432,
      databaseTypeId: null,
      databaseName: null,
      username: null,
      useSsl: false,
      serverId: null,
      backupStorageType: "local",
    });
    expect(database.id).toMatch(/^db_[a-z0-9]+$/);
    expect(database.createdAt).toBe(database.updatedAt);
    expect(JSON.stringify(database)).not.toContain("s3cret");
  });

  it("answers 409 CONFLICT naming the field when the name exists in the environment", async () => {
    const sandbox = testSandbox();
    await sandbox.call("POST", DATABASES, { body: input });
    const response = await sandbox.call("POST", DATABASES, { body: input });
    expect(response.status).toBe(409);
    const body = (await response.json()) as Envelope;
    expect(body).toMatchObject({
      code: "CONFLICT",
      message: 'A database named "tenant-a" already exists in this environment.',
      field: "name",
    });
    expect(response.headers.get("x-request-id")).toBe(body.requestId);
    const other = await sandbox.call("POST", "/bridgeport/api/environments/env_dev/databases", {
      body: input,
    });
    expect(other.status).toBe(200);
  });

  it("answers 400 VALIDATION_ERROR naming a missing, invalid or unknown field", async () => {
    const sandbox = testSandbox();
    const cases = [
      [{ type: "postgres" }, "name"],
      [{ ...input, backupCompressionLevel: 12 }, "backupCompressionLevel"],
      [{ ...input, colour: "blue" }, "colour"],
      [{ ...input, pgDumpOptions: { noOwner: "yes" } }, "pgDumpOptions.noOwner"],
    ] as const;
    for (const [body, field] of cases) {
      const response = await sandbox.call("POST", DATABASES, { body });
      expect(response.status).toBe(400);
      expect(await response.json()).toMatchObject({ code: "VALIDATION_ERROR", field });
    }
    const notJson = await sandbox.call("POST", DATABASES, { rawBody: "nope" });
    expect(await notJson.json()).toMatchObject({ code: "VALIDATION_ERROR" });
  });

  it("answers 404 NOT_FOUND for an environment named env_missing…", async () => {
    const sandbox = testSandbox();
    const path = "/bridgeport/api/environments/env_missing_1/databases";
    const response = await sandbox.call("POST", path, { body: input });
    expect(response.status).toBe(404);
    expect(await response.json()).toMatchObject({ code: "NOT_FOUND" });
  });

  it("answers 401 UNAUTHORIZED and 403 FORBIDDEN_SCOPE with a read-only token", async () => {
    const sandbox = testSandbox();
    const anonymous = await sandbox.call("POST", DATABASES, { token: null, body: input });
    expect(anonymous.status).toBe(401);
    expect(await anonymous.json()).toMatchObject({ code: "UNAUTHORIZED" });
    const reader = await sandbox.call("POST", DATABASES, { token: TOKENS.bridgeport.read, body: input });
    expect(reader.status).toBe(403);
    expect(await reader.json()).toMatchObject({ code: "FORBIDDEN_SCOPE" });
  });
});

describe("bridgeport Idempotency-Key", () => {
  const withKey = (key: string) => ({ headers: { "idempotency-key": key } });

  it("replays the first answer for the same key and body, creating once", async () => {
    const sandbox = testSandbox();
    const first = await sandbox.call("POST", DATABASES, { body: input, ...withKey("job-1") });
    const reordered = { password: "s3cret", port: 5432, host: "pg.internal", type: "postgres", name: "tenant-a" };
    const second = await sandbox.call("POST", DATABASES, { body: reordered, ...withKey("job-1") });
    expect(second.status).toBe(200);
    expect(second.headers.get("idempotent-replayed")).toBe("true");
    expect(await second.json()).toEqual(await first.json());
    expect(sandbox.state.stats().creations.bridgeport).toEqual({ "env_prod/tenant-a": 1 });
  });

  it("answers 409 IDEMPOTENCY_KEY_REUSED for the same key with a different body", async () => {
    const sandbox = testSandbox();
    await sandbox.call("POST", DATABASES, { body: input, ...withKey("job-1") });
    const response = await sandbox.call("POST", DATABASES, {
      body: { ...input, name: "tenant-b" },
      ...withKey("job-1"),
    });
    expect(response.status).toBe(409);
    expect(await response.json()).toMatchObject({
      code: "IDEMPOTENCY_KEY_REUSED",
      field: "Idempotency-Key",
    });
  });

  it("answers 409 with Retry-After while the first request is still running", async () => {
    const sandbox = testSandbox({ faults: [{ provider: "bridgeport", fault: "latency", latencyMs: 150 }] });
    const first = sandbox.call("POST", DATABASES, { body: input, ...withKey("job-1") });
    await new Promise((resolve) => setTimeout(resolve, 20));
    const second = await sandbox.call("POST", DATABASES, { body: input, ...withKey("job-1") });
    expect(second.status).toBe(409);
    expect(second.headers.get("retry-after")).toBe("1");
    expect(await second.json()).toMatchObject({
      code: "CONFLICT",
      message: "A request with this Idempotency-Key is still being processed.",
      field: "Idempotency-Key",
      hint: "Retry after a short delay.",
    });
    expect((await first).status).toBe(200);
  });

  it("lets a retry proceed after an injected 503, which is not remembered", async () => {
    const sandbox = testSandbox({
      faults: [{ provider: "bridgeport", fault: "error", status: 503, times: 1 }],
    });
    const failed = await sandbox.call("POST", DATABASES, { body: input, ...withKey("job-1") });
    expect(failed.status).toBe(503);
    expect(await failed.json()).toMatchObject({ code: "SERVICE_UNAVAILABLE" });
    const retried = await sandbox.call("POST", DATABASES, { body: input, ...withKey("job-1") });
    expect(retried.status).toBe(200);
    expect(retried.headers.get("idempotent-replayed")).toBeNull();
  });

  it("replays a name conflict as it first answered it", async () => {
    const sandbox = testSandbox();
    await sandbox.call("POST", DATABASES, { body: input });
    const conflict = await sandbox.call("POST", DATABASES, { body: input, ...withKey("job-2") });
    const replay = await sandbox.call("POST", DATABASES, { body: input, ...withKey("job-2") });
    expect(replay.status).toBe(409);
    expect(replay.headers.get("idempotent-replayed")).toBe("true");
    expect(await replay.json()).toEqual(await conflict.json());
  });
});

describe("bridgeport list", () => {
  it("pages through an environment's databases", async () => {
    const sandbox = testSandbox();
    for (const name of ["a", "b", "c"]) {
      await sandbox.call("POST", DATABASES, { body: { name, type: "postgres" } });
    }
    const response = await sandbox.call("GET", `${DATABASES}?limit=2&offset=1`, {
      token: TOKENS.bridgeport.read,
    });
    expect(response.status).toBe(200);
    const body = (await response.json()) as { databases: { name: string }[] };
    expect(body).toMatchObject({ total: 3, limit: 2, offset: 1 });
    expect(body.databases.map((db) => db.name)).toEqual(["b", "c"]);
    const defaults = await (await sandbox.call("GET", DATABASES)).json();
    expect(defaults).toMatchObject({ total: 3, limit: 50, offset: 0 });
  });

  it("answers 400 naming a bad query parameter", async () => {
    const sandbox = testSandbox();
    const response = await sandbox.call("GET", `${DATABASES}?limit=lots`);
    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({ code: "VALIDATION_ERROR", field: "limit" });
  });
});
