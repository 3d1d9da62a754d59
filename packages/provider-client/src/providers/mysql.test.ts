import { randomUUID } from "node:crypto";
import { once } from "node:events";
import { type AddressInfo, createServer, type Socket } from "node:net";
import mysql from "mysql2/promise";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createProviderClient } from "../client.ts";
import { ProviderError } from "../errors.ts";
import type { ProviderClient } from "../types.ts";

const adminUrl = process.env.MYSQL_ADMIN_URL ?? "mysql://root@127.0.0.1:3306";

async function mysqlAnswers(): Promise<boolean> {
  try {
    const probe = await mysql.createConnection({ uri: adminUrl, connectTimeout: 2_000 });
    await probe.end();
    return true;
  } catch {
    return false;
  }
}

const available = await mysqlAnswers();
// CI starts MariaDB, so there its absence is a failure; on a laptop without one, say so and skip.
if (!available && process.env.CI) throw new Error(`MySQL/MariaDB does not answer at ${adminUrl}`);
if (!available)
  console.warn(
    `\n!!! mysql provider tests SKIPPED: nothing answers at ${adminUrl} (set MYSQL_ADMIN_URL or start MariaDB) !!!\n`,
  );

describe.skipIf(!available)("mysql provider against a real server", () => {
  let client: ProviderClient<"mysql">;
  let admin: mysql.Connection;
  const made: string[] = [];
  const fresh = () => {
    const name = `prov_test_${randomUUID().replaceAll("-", "").slice(0, 12)}`;
    made.push(name);
    return name;
  };
  // A user with a password and no right to create databases: the password is the canary
  // that must never come back in an error.
  const canary = `canary-${randomUUID()}`;
  const user = `prov_t_${randomUUID().replaceAll("-", "").slice(0, 8)}`;
  const server = new URL(adminUrl);
  const urlFor = (password: string) =>
    `mysql://${user}:${encodeURIComponent(password)}@${server.hostname}:${server.port || 3306}`;

  beforeAll(async () => {
    client = createProviderClient({ provider: "mysql", url: adminUrl, timeoutMs: 5_000 });
    admin = await mysql.createConnection({ uri: adminUrl });
    await admin.query("CREATE USER ?@'%' IDENTIFIED BY ?", [user, canary]);
  });
  afterAll(async () => {
    for (const name of made) await admin.query("DROP DATABASE IF EXISTS ??", [name]);
    await admin.query("DROP USER IF EXISTS ?@'%'", [user]);
    await admin.end();
    await client.close();
  });

  it("creates a database that information_schema.SCHEMATA then lists, with its character set and collation", async () => {
    const name = fresh();
    const created = await client.createDatabase(
      { name, characterSet: "utf8mb4", collation: "utf8mb4_bin" },
      { idempotencyKey: name },
    );
    expect(created).toMatchObject({ name, status: "ready", secrets: {} });
    const [rows] = await admin.query(
      "SELECT DEFAULT_COLLATION_NAME AS c FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = ?",
      [name],
    );
    expect(rows).toEqual([{ c: "utf8mb4_bin" }]);
    expect(await client.findDatabase({ name })).toMatchObject({
      name,
      resource: { characterSet: "utf8mb4", collation: "utf8mb4_bin" },
    });
  });

  it("answers a second create of the name with a conflict (1007)", async () => {
    const name = fresh();
    await client.createDatabase({ name }, { idempotencyKey: name });
    const error = await client.createDatabase({ name }, { idempotencyKey: name }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ProviderError);
    expect(error).toMatchObject({ kind: "conflict", code: "1007", retryable: false });
  });

  it("answers null for a name that does not exist", async () => {
    expect(await client.findDatabase({ name: "prov_test_absent_zz" })).toBeNull();
  });

  it("refuses a name that is not a plain identifier before touching the server", async () => {
    for (const name of ["x`; DROP DATABASE mysql; --", "a".repeat(65), "9lives"]) {
      const error = await client.createDatabase({ name }, { idempotencyKey: "k" }).catch((e: unknown) => e);
      expect(error).toMatchObject({ kind: "invalid", field: "name", retryable: false });
    }
  });

  it.each([
    [{ characterSet: "no_such_charset" }, "1115"],
    [{ collation: "no_such_collation" }, "1273"],
    [{ characterSet: "latin1", collation: "utf8mb4_bin" }, "1253"],
  ])("classifies %o as invalid at the server (%s), and creates nothing", async (options, code) => {
    const name = fresh();
    const error = await client.createDatabase({ name, ...options }, { idempotencyKey: name }).catch((e: unknown) => e);
    expect(error).toMatchObject({ kind: "invalid", code, retryable: false });
    expect(await client.findDatabase({ name })).toBeNull();
  });

  it("classifies an unreachable server as transient", async () => {
    const down = createProviderClient({ provider: "mysql", url: "mysql://root@127.0.0.1:1", timeoutMs: 1_000 });
    const error = await down.findDatabase({ name: "x" }).catch((e: unknown) => e);
    expect(error).toMatchObject({ kind: "transient", retryable: true, code: "ECONNREFUSED" });
    await down.close();
  });

  it("classifies a wrong password as auth (1045), never echoing the password", async () => {
    const wrong = `${canary}-wrong`;
    const stranger = createProviderClient({ provider: "mysql", url: urlFor(wrong), timeoutMs: 2_000 });
    const error = await stranger.findDatabase({ name: "x" }).catch((e: unknown) => e);
    expect(error).toMatchObject({ kind: "auth", code: "1045", retryable: false });
    expect(everythingIn(error)).not.toContain(canary);
    await stranger.close();
  });

  it("classifies a user without the CREATE privilege as auth (1044), never echoing its password", async () => {
    const limited = createProviderClient({ provider: "mysql", url: urlFor(canary), timeoutMs: 2_000 });
    const name = fresh();
    const error = await limited.createDatabase({ name }, { idempotencyKey: name }).catch((e: unknown) => e);
    expect(error).toMatchObject({ kind: "auth", code: "1044", retryable: false });
    expect(everythingIn(error)).not.toContain(canary);
    await limited.close();
  });
});

/** An error's message, JSON, stack and causes, as a log line could hold them. */
function everythingIn(error: unknown): string {
  const parts: string[] = [];
  for (let current = error, depth = 0; current && depth < 5; depth++) {
    parts.push(String(current), JSON.stringify(current), (current as Error).stack ?? "");
    current = (current as { cause?: unknown }).cause;
  }
  return parts.join("\n");
}

describe("mysql provider against a server that accepts and never answers", () => {
  const sockets: Socket[] = [];
  const silent = createServer((socket) => {
    sockets.push(socket);
  });
  let client: ProviderClient<"mysql">;

  beforeAll(async () => {
    silent.listen(0, "127.0.0.1");
    await once(silent, "listening");
    const { port } = silent.address() as AddressInfo;
    client = createProviderClient({ provider: "mysql", url: `mysql://u:pw@127.0.0.1:${port}`, timeoutMs: 700 });
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
    const patient = createProviderClient({ provider: "mysql", url: `mysql://u@127.0.0.1:${port}`, timeoutMs: 20_000 });
    const pending = patient.findDatabase({ name: "x" }).catch((e: unknown) => e);
    await new Promise((resolve) => setTimeout(resolve, 100));
    const closedAt = Date.now();
    await patient.close();
    expect(await pending).toMatchObject({ kind: "transient", retryable: true });
    expect(Date.now() - closedAt).toBeLessThan(1_000);
  });
});

describe("mysql account configuration", () => {
  it("refuses a URL that is not mysql:// when the client is created, without echoing it", () => {
    for (const url of ["postgres://root:hunter2@h/db", "http://root:hunter2@h", "not a url hunter2"]) {
      let error: unknown;
      try {
        createProviderClient({ provider: "mysql", url });
      } catch (caught) {
        error = caught;
      }
      expect(String((error as Error).message)).toMatch(/url must be a mysql:\/\/ URL/);
      expect(String((error as Error).message)).not.toContain("hunter2");
    }
  });
});
