import { once } from "node:events";
import { startTcpGate, type TcpGate } from "@provisioner/testing";
import pg from "pg";
import { afterEach, expect, it } from "vitest";
import { fastProviderSettings, type Harness, inputFor, postgresAdminUrl, startHarness } from "./test-support.ts";
import { spawnWorker, type WorkerProcess } from "./test-worker-process.ts";

let harness: Harness | undefined;
const gates: TcpGate[] = [];
const workers: WorkerProcess[] = [];
const databases: string[] = [];

afterEach(async () => {
  for (const { child } of workers.splice(0)) if (child.exitCode === null) child.kill("SIGKILL");
  await harness?.close();
  harness = undefined;
  for (const gate of gates.splice(0)) await gate.close();
  const admin = new pg.Client({ connectionString: postgresAdminUrl });
  await admin.connect();
  for (const name of databases.splice(0)) await admin.query(`DROP DATABASE IF EXISTS "${name}"`);
  await admin.end();
});

/** A PostgreSQL server that hangs (the gate holds connections) until the test opens it. */
async function hangingPostgres(): Promise<{ gate: TcpGate; url: string }> {
  const real = new URL(postgresAdminUrl);
  const gate = await startTcpGate({ host: real.hostname, port: Number(real.port || 5432) });
  gates.push(gate);
  const url = new URL(postgresAdminUrl);
  url.hostname = "127.0.0.1";
  url.port = String(gate.port);
  return { gate, url: url.toString() };
}

const postgresJob = () => {
  const input = inputFor.postgres();
  databases.push(input.name as string);
  return input;
};

it("hands a PostgreSQL job cancelled by a drain back to the queue, spending no attempt, and it succeeds later", async () => {
  const postgres = await hangingPostgres();
  // One attempt, and a call timeout far past the grace: only a hand-back keeps the job alive.
  harness = await startHarness({
    postgresAdminUrl: postgres.url,
    providers: { postgres: { ...fastProviderSettings, attempts: 1, timeoutMs: 20_000 } },
  });
  const running = await harness.startWorkers();
  const id = await harness.submit({ provider: "postgres", input: postgresJob() });
  await postgres.gate.waitForHeld();

  await running.close(1_000);
  const handedBack = await harness.waitFor(id, () => true);
  expect(handedBack.status).not.toBe("dead");
  expect(["queued", "retrying"]).toContain(handedBack.status);
  expect(handedBack.attempts).toBe(0);

  postgres.gate.open();
  await harness.startWorkers();
  const view = await harness.waitFor(id);
  expect(view.status).toBe("succeeded");
  expect(view.result?.outcome).toBe("created");
});

/** How long the process took to exit after `SIGTERM`, or `undefined` if it outlived `withinMs`. */
async function exitAfterSigterm(
  worker: WorkerProcess,
  withinMs: number,
): Promise<{ ms: number; code: number | null } | undefined> {
  const started = Date.now();
  const exited = once(worker.child, "exit").then(([code]) => ({
    ms: Date.now() - started,
    code: code as number | null,
  }));
  worker.child.kill("SIGTERM");
  const late = new Promise<undefined>((resolve) => setTimeout(() => resolve(undefined), withinMs + 2_000).unref());
  return Promise.race([exited, late]);
}

it("ends the process within the grace period plus a second while PostgreSQL and a callback receiver hang, handing both back", async () => {
  const graceMs = 1_500;
  const postgres = await hangingPostgres();
  const receiver = await startTcpGate();
  gates.push(receiver);
  harness = await startHarness({
    postgresAdminUrl: postgres.url,
    providers: { postgres: { ...fastProviderSettings, timeoutMs: 30_000 } },
    // The receiver is local; this test is about the drain, not the address guard.
    callbackAllowPrivateNetworks: true,
  });
  const worker = await spawnWorker(harness, { WORKER_SHUTDOWN_GRACE_MS: String(graceMs) });
  workers.push(worker);
  const stuckJob = await harness.submit({ provider: "postgres", input: postgresJob() });
  const notifiedJob = await harness.submit({
    provider: "artie",
    input: inputFor.artie(),
    callbackUrl: `http://127.0.0.1:${receiver.port}/hooks`,
  });
  expect((await harness.waitFor(notifiedJob)).status).toBe("succeeded");
  await Promise.all([postgres.gate.waitForHeld(), receiver.waitForHeld()]);

  const exit = await exitAfterSigterm(worker, graceMs + 1_000);
  expect(exit, `still running long after SIGTERM:\n${worker.output()}`).toBeDefined();
  expect(exit?.ms).toBeLessThanOrEqual(graceMs + 1_000);
  expect(exit?.code).toBe(0);

  const stuck = await harness.waitFor(stuckJob, () => true);
  expect(["queued", "retrying"]).toContain(stuck.status);
  expect(stuck.attempts).toBe(0);
  const delivery = await harness.queues.callbacks.getJob(`${notifiedJob}-g0`);
  expect(await delivery?.getState()).toMatch(/^(waiting|delayed|prioritized)$/);
  expect(delivery?.attemptsMade).toBe(0);
});

it("returns from close within the grace even when a BullMQ worker's own close never ends", async () => {
  harness = await startHarness();
  const running = await harness.startWorkers();
  // A BullMQ close stuck on its blocking connection (seen with a Redis Cluster master restarted
  // under load), stood in for by one that never settles.
  const [stuck] = [...running.workers.values()] as [NonNullable<ReturnType<typeof running.workers.get>>];
  stuck.close = () => new Promise<void>(() => {});
  const started = Date.now();
  await running.close(800);
  expect(Date.now() - started).toBeLessThan(800 + 500);
});
