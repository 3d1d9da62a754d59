import { randomUUID } from "node:crypto";
import { once } from "node:events";
import { readAllValues, startTcpGate, type TcpGate } from "@provisioner/testing";
import mysql from "mysql2/promise";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { fastProviderSettings, type Harness, inputFor, mysqlAdminUrl, startHarness } from "./test-support.ts";
import { spawnWorker, type WorkerProcess } from "./test-worker-process.ts";

const available = await mysql.createConnection({ uri: mysqlAdminUrl, connectTimeout: 2_000 }).then(
  async (probe) => {
    await probe.end();
    return true;
  },
  () => false,
);
// CI starts MariaDB (.ci/run), so there its absence is a failure; elsewhere say so loudly and skip.
if (!available && process.env.CI) throw new Error(`MySQL/MariaDB does not answer at ${mysqlAdminUrl}`);
if (!available)
  console.warn(
    `\n!!! mysql job tests SKIPPED: nothing answers at ${mysqlAdminUrl} (set MYSQL_ADMIN_URL or start MariaDB) !!!\n`,
  );

describe.skipIf(!available)("mysql jobs against a real server", () => {
  let admin: mysql.Connection;
  let harness: Harness | undefined;
  const gates: TcpGate[] = [];
  const workers: WorkerProcess[] = [];
  const databases: string[] = [];
  // The jobs run as an admin account of their own, whose password is the canary that must
  // reach no log, no job view and no Redis key.
  const canary = `canary-${randomUUID()}`;
  const user = `prov_e2e_${randomUUID().replaceAll("-", "").slice(0, 8)}`;
  const server = new URL(mysqlAdminUrl);
  const port = Number(server.port || 3306);
  const urlOf = (password: string, at = { host: server.hostname, port }) =>
    `mysql://${user}:${encodeURIComponent(password)}@${at.host}:${at.port}`;

  beforeAll(async () => {
    admin = await mysql.createConnection({ uri: mysqlAdminUrl });
    await admin.query("CREATE USER ?@'%' IDENTIFIED BY ?", [user, canary]);
    await admin.query("GRANT CREATE, SELECT ON *.* TO ?@'%'", [user]);
  });
  afterEach(async () => {
    for (const { child } of workers.splice(0)) if (child.exitCode === null) child.kill("SIGKILL");
    await harness?.close();
    harness = undefined;
    for (const gate of gates.splice(0)) await gate.close();
    for (const name of databases.splice(0)) await admin.query("DROP DATABASE IF EXISTS ??", [name]);
  });
  afterAll(async () => {
    await admin.query("DROP USER IF EXISTS ?@'%'", [user]);
    await admin.end();
  });

  const mysqlJob = () => {
    const input = inputFor.mysql();
    databases.push(input.name as string);
    return input as { name: string };
  };
  const copies = async (name: string) => {
    const [rows] = await admin.query("SELECT COUNT(*) AS n FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = ?", [
      name,
    ]);
    return Number((rows as { n: number }[])[0]?.n);
  };
  /** The server behind a gate that hangs every connection until the test opens it. */
  const gatedUrl = async () => {
    const gate = await startTcpGate({ host: server.hostname, port });
    gates.push(gate);
    return { gate, url: urlOf(canary, { host: "127.0.0.1", port: gate.port }) };
  };

  it("creates the database, and another key for the same name adopts it as deduplicated: one database", async () => {
    harness = await startHarness({ mysqlAdminUrl: urlOf(canary) });
    await harness.startWorkers();
    const input = mysqlJob();
    const first = await harness.waitFor(await harness.submit({ provider: "mysql", input }));
    expect(first).toMatchObject({ status: "succeeded", attempts: 1, result: { outcome: "created" } });
    expect(await copies(input.name)).toBe(1);

    const again = await harness.submit({ provider: "mysql", input, idempotencyKey: "another-key" });
    const second = await harness.waitFor(again);
    expect(second).toMatchObject({ status: "succeeded", result: { outcome: "deduplicated" } });
    expect(await copies(input.name)).toBe(1);

    const redis = (await readAllValues(harness.connection, harness.env.QUEUE_PREFIX as string)).join("\n");
    expect(redis).toContain(input.name);
    expect(redis).not.toContain(canary);
  });

  it("dies as auth after one try when the password is wrong, keeping the password out of the job and Redis", async () => {
    const wrong = `${canary}-wrong`;
    harness = await startHarness({
      mysqlAdminUrl: urlOf(wrong),
      providers: { mysql: { ...fastProviderSettings, attempts: 5 } },
    });
    await harness.startWorkers();
    const input = mysqlJob();
    const view = await harness.waitFor(await harness.submit({ provider: "mysql", input }));
    expect(view).toMatchObject({ status: "dead", attempts: 1 });
    expect(view.errors).toEqual([expect.objectContaining({ kind: "auth", code: "1045" })]);
    expect(await copies(input.name)).toBe(0);
    const redis = (await readAllValues(harness.connection, harness.env.QUEUE_PREFIX as string)).join("\n");
    expect(JSON.stringify(view)).not.toContain(canary);
    expect(redis).not.toContain(canary);
  });

  it("retries while the server does not answer, and succeeds once it comes back", async () => {
    const { gate, url } = await gatedUrl();
    harness = await startHarness({
      mysqlAdminUrl: url,
      providers: { mysql: { ...fastProviderSettings, attempts: 20, timeoutMs: 300 } },
    });
    await harness.startWorkers();
    const input = mysqlJob();
    const id = await harness.submit({ provider: "mysql", input });
    const retrying = await harness.waitFor(id, (v) => v.errors.length >= 2);
    expect(retrying.status).not.toBe("dead");
    expect(retrying.errors.every((e) => e.kind === "transient" && e.code === "TIMEOUT")).toBe(true);

    gate.open();
    const view = await harness.waitFor(id);
    expect(view.status).toBe("succeeded");
    expect(view.attempts).toBeGreaterThanOrEqual(3);
    expect(await copies(input.name)).toBe(1);
  });

  it("hands a job cancelled by a drain back to the queue, spending no attempt, and it succeeds later", async () => {
    const { gate, url } = await gatedUrl();
    // One attempt, and a call timeout far past the grace: only a hand-back keeps the job alive.
    harness = await startHarness({
      mysqlAdminUrl: url,
      providers: { mysql: { ...fastProviderSettings, attempts: 1, timeoutMs: 20_000 } },
    });
    const running = await harness.startWorkers();
    const input = mysqlJob();
    const id = await harness.submit({ provider: "mysql", input });
    await gate.waitForHeld();

    await running.close(500);
    const handedBack = await harness.waitFor(id, () => true);
    expect(["queued", "retrying"]).toContain(handedBack.status);
    expect(handedBack.attempts).toBe(0);

    gate.open();
    await harness.startWorkers();
    expect(await harness.waitFor(id)).toMatchObject({ status: "succeeded", result: { outcome: "created" } });
    expect(await copies(input.name)).toBe(1);
  });

  it("creates the database once when a worker process is SIGKILLed while the server runs its CREATE DATABASE", async () => {
    harness = await startHarness({ mysqlAdminUrl: urlOf(canary) });
    // A short identity lease, so the lock the killed worker held runs out in seconds, not 15.
    const worker = await spawnWorker(harness, { WORKER_IDENTITY_LEASE_MS: "2000" });
    workers.push(worker);
    const input = mysqlJob();

    // A global read lock holds the CREATE inside the server, so the kill lands mid-statement:
    // whether the server completes it after the client is gone is its business, not ours.
    const locker = await mysql.createConnection({ uri: mysqlAdminUrl });
    try {
      await locker.query("FLUSH TABLES WITH READ LOCK");
      const id = await harness.submit({ provider: "mysql", input });
      await waitUntil(async () => {
        const [rows] = await admin.query("SELECT ID FROM information_schema.PROCESSLIST WHERE INFO LIKE ?", [
          `CREATE DATABASE \`${input.name}\`%`,
        ]);
        return (rows as unknown[]).length > 0;
      });
      worker.child.kill("SIGKILL");
      await once(worker.child, "exit");
      await locker.query("UNLOCK TABLES");

      await harness.startWorkers({ lockDurationMs: 2_000, stalledIntervalMs: 500 });
      const view = await harness.waitFor(id, undefined, 20_000);
      expect(view.status).toBe("succeeded");
      expect(["created", "deduplicated"]).toContain(view.result?.outcome);
      expect(await copies(input.name)).toBe(1);
      expect(worker.output()).toContain("worker ready");
      expect(worker.output()).not.toContain(canary);
    } finally {
      await locker.end();
    }
  });
});

async function waitUntil(check: () => Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`not true after ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}
