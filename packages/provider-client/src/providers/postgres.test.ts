import { randomUUID } from "node:crypto";
import { once } from "node:events";
import { type AddressInfo, createServer, type Socket } from "node:net";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createProviderClient } from "../client.ts";
import { ProviderError } from "../errors.ts";
import type { ProviderClient } from "../types.ts";

const adminUrl = process.env.POSTGRES_ADMIN_URL ?? "postgres://postgres@127.0.0.1:5432/postgres";

async function postgresAnswers(): Promise<boolean> {
  const probe = new pg.Client({ connectionString: adminUrl, connectionTimeoutMillis: 2_000 });
  try {
    await probe.connect();
    return true;
  } catch {
    return false;
  } finally {
    await probe.end().catch(() => {});
  }
}

const available = await postgresAnswers();
// CI starts PostgreSQL, so there its absence is a failure; on a laptop without one, say so and skip.
if (!available && process.env.CI) throw new Error(`PostgreSQL does not answer at ${adminUrl}`);
if (!available)
  console.warn(`postgres provider tests skipped: nothing answers at ${adminUrl} (set POSTGRES_ADMIN_URL)`);

describe.skipIf(!available)("postgres provider against a real server", () => {
  let client: ProviderClient<"postgres">;
  const made: string[] = [];
  const fresh = () => {
    const name = `prov_test_${randomUUID().replaceAll("-", "").slice(0, 12)}`;
    made.push(name);
    return name;
  };

  beforeAll(() => {
    client = createProviderClient({ provider: "postgres", url: adminUrl, timeoutMs: 5_000 });
  });
  afterAll(async () => {
    const admin = new pg.Client({ connectionString: adminUrl });
    await admin.connect();
    for (const name of made) await admin.query(`DROP DATABASE IF EXISTS "${name}"`);
    await admin.end();
    await client.close();
  });

  it("creates a database that pg_database then lists", async () => {
    const name = fresh();
    const created = await client.createDatabase({ name }, { idempotencyKey: name });
    expect(created).toMatchObject({ name, status: "ready", secrets: {} });
    expect((await client.findDatabase({ name }))?.name).toBe(name);
  });

  it("answers a second create of the name with a conflict (42P04)", async () => {
    const name = fresh();
    await client.createDatabase({ name }, { idempotencyKey: name });
    const error = await client.createDatabase({ name }, { idempotencyKey: name }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ProviderError);
    expect(error).toMatchObject({ kind: "conflict", code: "42P04", retryable: false });
  });

  it("answers null for a name that does not exist", async () => {
    expect(await client.findDatabase({ name: "prov_test_absent_zz" })).toBeNull();
  });

  it("refuses a name that is not a plain identifier before touching the server", async () => {
    const error = await client
      .createDatabase({ name: 'x"; DROP DATABASE postgres; --' }, { idempotencyKey: "k" })
      .catch((e: unknown) => e);
    expect(error).toMatchObject({ kind: "invalid", field: "name", retryable: false });
  });

  it("classifies an unknown owner as invalid input at the server", async () => {
    const error = await client
      .createDatabase({ name: fresh(), owner: "no_such_role_zz" }, { idempotencyKey: "k" })
      .catch((e: unknown) => e);
    expect(error).toMatchObject({ kind: "invalid", code: "42704" });
  });

  it("classifies an unreachable server as transient", async () => {
    const down = createProviderClient({
      provider: "postgres",
      url: "postgres://postgres@127.0.0.1:1/postgres",
      timeoutMs: 1_000,
    });
    const error = await down.findDatabase({ name: "x" }).catch((e: unknown) => e);
    expect(error).toMatchObject({ kind: "transient", retryable: true, code: "ECONNREFUSED" });
    await down.close();
  });

  it("classifies a role that may not log in as auth", async () => {
    const stranger = createProviderClient({
      provider: "postgres",
      url: "postgres://no_such_user_zz@127.0.0.1:5432/postgres",
      timeoutMs: 2_000,
    });
    const error = await stranger.findDatabase({ name: "x" }).catch((e: unknown) => e);
    expect(error).toMatchObject({ kind: "auth", retryable: false });
    await stranger.close();
  });
});

describe("postgres provider against a server that accepts and never answers", () => {
  const sockets: Socket[] = [];
  const silent = createServer((socket) => {
    sockets.push(socket);
  });
  let client: ProviderClient<"postgres">;

  beforeAll(async () => {
    silent.listen(0, "127.0.0.1");
    await once(silent, "listening");
    const { port } = silent.address() as AddressInfo;
    client = createProviderClient({ provider: "postgres", url: `postgres://u@127.0.0.1:${port}/db`, timeoutMs: 700 });
  });
  afterAll(async () => {
    await client.close();
    for (const socket of sockets) socket.destroy();
    silent.close();
  });

  it("gives up at once when the caller cancels, as a retryable ABORTED error", async () => {
    const controller = new AbortController();
    const started = Date.now();
    const call = client.createDatabase({ name: "never_made" }, { idempotencyKey: "k", signal: controller.signal });
    setTimeout(() => controller.abort(), 100);
    const error = await call.catch((e: unknown) => e);
    expect(error).toMatchObject({ kind: "transient", code: "ABORTED", retryable: true });
    expect(Date.now() - started).toBeLessThan(600);
  });

  it("gives up after its timeout, as a retryable TIMEOUT error", async () => {
    const error = await client.findDatabase({ name: "x" }).catch((e: unknown) => e);
    expect(error).toMatchObject({ kind: "transient", code: "TIMEOUT", retryable: true });
  });

  it("ends the calls still waiting on the server when it is closed", async () => {
    const { port } = silent.address() as AddressInfo;
    const patient = createProviderClient({
      provider: "postgres",
      url: `postgres://u@127.0.0.1:${port}/db`,
      timeoutMs: 20_000,
    });
    const pending = patient.findDatabase({ name: "x" }).catch((e: unknown) => e);
    await new Promise((resolve) => setTimeout(resolve, 100));
    const closedAt = Date.now();
    await patient.close();
    expect(await pending).toMatchObject({ kind: "transient", retryable: true });
    expect(Date.now() - closedAt).toBeLessThan(1_000);
  });
});
