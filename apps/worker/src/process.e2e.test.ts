import type { ChildProcess } from "node:child_process";
import { once } from "node:events";
import { afterEach, beforeEach, expect, it } from "vitest";
import { type Harness, inputFor, startHarness } from "./test-support.ts";
import { spawnWorker as spawnTestWorker } from "./test-worker-process.ts";

let harness: Harness;
const children: ChildProcess[] = [];

beforeEach(async () => {
  harness = await startHarness();
});
afterEach(async () => {
  for (const child of children.splice(0)) if (child.exitCode === null) child.kill("SIGKILL");
  await harness.close();
});

async function spawnWorker(extraEnv: Record<string, string> = {}): Promise<ChildProcess> {
  const { child } = await spawnTestWorker(harness, extraEnv);
  children.push(child);
  return child;
}

it("finishes, through another worker, the job of a worker killed with SIGKILL mid-call, creating it once", async () => {
  harness.setFaults([{ provider: "bridgeport", fault: "latency", latencyMs: 1_500, times: 1 }]);
  const doomed = await spawnWorker();
  const input = inputFor.bridgeport();
  const id = await harness.submit({ provider: "bridgeport", input });
  await harness.waitFor(id, (view) => view.status === "running");
  doomed.kill("SIGKILL");
  await once(doomed, "exit");

  await harness.startWorkers({ lockDurationMs: 2_000, stalledIntervalMs: 500 });
  const view = await harness.waitFor(id, undefined, 20_000);
  expect(view.status).toBe("succeeded");
  expect(harness.creations("bridgeport")[`env_test/${input.name}`]).toBe(1);
});

it("drains on SIGTERM: the running job finishes and the process exits 0", async () => {
  harness.setFaults([{ provider: "artie", fault: "latency", latencyMs: 1_000, times: 1 }]);
  const worker = await spawnWorker();
  const id = await harness.submit({ provider: "artie", input: inputFor.artie() });
  await harness.waitFor(id, (view) => view.status === "running");
  worker.kill("SIGTERM");
  const [code] = await once(worker, "exit");
  expect(code).toBe(0);
  const view = await harness.waitFor(id, () => true);
  expect(view.status).toBe("succeeded");
});

it("hands a job back when it outlasts the shutdown grace period, spending no attempt", async () => {
  harness.setFaults([{ provider: "prisma", fault: "hang", times: 1 }]);
  const worker = await spawnWorker({ WORKER_SHUTDOWN_GRACE_MS: "300" });
  const id = await harness.submit({ provider: "prisma", input: inputFor.prisma() });
  await harness.waitFor(id, (view) => view.status === "running");
  worker.kill("SIGTERM");
  const [code] = await once(worker, "exit");
  expect(code).toBe(0);
  const handedBack = await harness.waitFor(id, () => true);
  expect(["queued", "retrying"]).toContain(handedBack.status);
  expect(handedBack.attempts).toBe(0);

  await harness.startWorkers();
  const view = await harness.waitFor(id);
  expect(view.status).toBe("succeeded");
});
