import type { ChildProcess } from "node:child_process";
import { afterEach, beforeEach, expect, it } from "vitest";
import { type Harness, inputFor, startHarness } from "./test-support.ts";
import { spawnWorker } from "./test-worker-process.ts";

let harness: Harness;
const children: ChildProcess[] = [];
beforeEach(async () => {
  harness = await startHarness();
});
afterEach(async () => {
  for (const child of children.splice(0)) if (child.exitCode === null) child.kill("SIGKILL");
  await harness.close();
});

async function metricsPortOf(output: () => string): Promise<number> {
  for (let i = 0; i < 200; i++) {
    const line = output()
      .split("\n")
      .find((text) => text.includes("serving /metrics"));
    if (line) return (JSON.parse(line) as { port: number }).port;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  throw new Error(`no metrics port in: ${output()}`);
}

it("serves /metrics on METRICS_PORT from a worker process, counting the jobs it finished", async () => {
  const worker = await spawnWorker(harness, { METRICS_PORT: "0", WORKER_PROVIDERS: "bridgeport" });
  children.push(worker.child);
  const port = await metricsPortOf(worker.output);
  const id = await harness.submit({ provider: "bridgeport", input: inputFor.bridgeport() });
  expect((await harness.waitFor(id)).status).toBe("succeeded");

  const scrape = await fetch(`http://127.0.0.1:${port}/metrics`);
  expect(scrape.headers.get("content-type")).toMatch(/^text\/plain/);
  const text = await scrape.text();
  expect(text).toContain(
    'provisioner_jobs_finished_total{provider="bridgeport",account="default",outcome="created"} 1\n',
  );
  expect(text).toMatch(
    /provisioner_provider_request_duration_seconds_count\{provider="bridgeport",operation="create"\} 1\n/,
  );
  expect(text).toContain("provisioner_process_resident_memory_bytes");
  expect((await fetch(`http://127.0.0.1:${port}/other`)).status).toBe(404);
});

it("serves no metrics when METRICS_PORT is unset", async () => {
  const worker = await spawnWorker(harness, { METRICS_PORT: "", WORKER_PROVIDERS: "bridgeport" });
  children.push(worker.child);
  await new Promise((resolve) => setTimeout(resolve, 200));
  expect(worker.output()).toContain("worker ready");
  expect(worker.output()).not.toContain("serving /metrics");
});
