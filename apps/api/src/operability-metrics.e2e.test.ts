import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { afterAll, beforeAll, expect, it } from "vitest";
import { type Stack, seedKnownRun, startStack } from "./stack.test-support.ts";
import { adminToken, type Json } from "./test-support.ts";

let stack: Stack;
let run: Awaited<ReturnType<typeof seedKnownRun>>;
beforeAll(async () => {
  stack = await startStack();
  run = await seedKnownRun(stack);
}, 60_000);
afterAll(() => stack?.close());

/** `name{labels} value` lines of a Prometheus text scrape, as a map. */
const samples = (text: string) =>
  new Map(
    text
      .split("\n")
      .filter((line) => line && !line.startsWith("#"))
      .map((line) => [line.slice(0, line.lastIndexOf(" ")), Number(line.slice(line.lastIndexOf(" ") + 1))] as const),
  );
const scrape = async (url: string, init?: RequestInit) => samples(await (await fetch(url, init)).text());
const sum = (scrapes: Map<string, number>[], name: string) =>
  scrapes.reduce((total, s) => total + (s.get(name) ?? 0), 0);

const finished = (outcome: string) =>
  `provisioner_jobs_finished_total{provider="bridgeport",account="default",outcome="${outcome}"}`;

it("counts a known run in the workers' /metrics and, for the whole deployment, in the API's", async () => {
  // The delivered notice may still be on its way when its job has succeeded.
  let workers: Map<string, number>[] = [];
  for (let i = 0; i < 200; i++) {
    workers = await Promise.all(stack.workerMetricsUrls.map((url) => scrape(url)));
    if (sum(workers, 'provisioner_callback_deliveries_total{outcome="delivered"}') === 1) break;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  // Two worker sets shared the run; each counts what it did, together the whole run.
  expect(sum(workers, finished("created"))).toBe(3);
  expect(sum(workers, finished("deduplicated"))).toBe(1);
  expect(sum(workers, finished("dead"))).toBe(1);
  expect(sum(workers, 'provisioner_job_attempts_total{provider="bridgeport",kind="invalid"}')).toBe(1);
  expect(sum(workers, 'provisioner_job_attempts_total{provider="bridgeport",kind="transient"}')).toBe(1);
  expect(sum(workers, 'provisioner_rate_limit_pauses_total{provider="bridgeport",account="default"}')).toBe(1);
  expect(sum(workers, 'provisioner_callback_deliveries_total{outcome="delivered"}')).toBe(1);
  expect(sum(workers, 'provisioner_callback_deliveries_total{outcome="failed"}')).toBe(1);
  // Every create call is timed: five databases, plus the 500's and the 429's retries.
  const creates = sum(
    workers,
    'provisioner_provider_request_duration_seconds_count{provider="bridgeport",operation="create"}',
  );
  expect(creates).toBeGreaterThanOrEqual(7);
  expect(
    sum(workers, 'provisioner_provider_request_duration_seconds_count{provider="bridgeport",operation="find"}'),
  ).toBeGreaterThanOrEqual(1);
  expect(workers.every((scraped) => scraped.has("provisioner_process_cpu_user_seconds_total"))).toBe(true);

  const api = await scrape(`${stack.apiUrl}/metrics`, { headers: { authorization: `Bearer ${adminToken}` } });
  expect(api.get(finished("created"))).toBe(3);
  expect(api.get(finished("deduplicated"))).toBe(1);
  expect(api.get(finished("dead"))).toBe(1);
  expect(api.get('provisioner_dead_letters{provider="bridgeport"}')).toBe(1);
  expect(api.get('provisioner_jobs{provider="bridgeport",status="succeeded"}')).toBe(4);
});

it("lists the refused callback as a failed delivery, without the URL's query, and retries it", async () => {
  const list: Json = await (await stack.call("GET", "/v1/callback-deliveries?status=failed")).json();
  expect(list.deliveries).toHaveLength(1);
  const [delivery] = list.deliveries;
  expect(delivery).toMatchObject({ id: run.failedDelivery, jobId: run.dead, event: "job.dead", status: "failed" });
  expect(delivery.url).toBe(`${stack.receiverUrl}/gone`);
  expect(delivery.lastError).toBe("callback receiver answered 410");
  expect(JSON.stringify(list)).not.toContain("canary");
  expect(await (await stack.call("GET", `/v1/callback-deliveries/${run.failedDelivery}`)).json()).toEqual(delivery);

  const failedAgain = async (before: string) => {
    for (let i = 0; i < 200; i++) {
      const again: Json = await (await stack.call("GET", `/v1/callback-deliveries/${run.failedDelivery}`)).json();
      if (again.status === "failed" && again.failedAt !== null && again.failedAt !== before) return again;
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
    throw new Error("the retried delivery did not fail again");
  };
  const retried = await stack.call("POST", `/v1/callback-deliveries/${run.failedDelivery}/retry`);
  expect(retried.status).toBe(202);
  // Refused again, so failed again, having spent no more tries than the first time: fresh ones.
  const after = await failedAgain(delivery.failedAt);
  expect(after).toMatchObject({ status: "failed", attemptsMade: delivery.attemptsMade, lastError: delivery.lastError });
  expect((await stack.call("GET", "/v1/callback-deliveries/nope-g0")).status).toBe(404);
  const reader = await stack.call("POST", `/v1/callback-deliveries/${run.failedDelivery}/retry`, undefined, "reader");
  expect(reader.status).toBe(403);

  // The same through the command line, a real process.
  const listed = await cli("callbacks", "list");
  expect(listed.stdout).toContain(run.failedDelivery);
  expect(listed.stdout).toContain(`${stack.receiverUrl}/gone`);
  expect(listed.stdout).not.toContain("canary");
  const cliRetry = await cli("callbacks", "retry", run.failedDelivery);
  expect(cliRetry.stdout).toContain(`queued callback ${run.failedDelivery}`);
  await failedAgain(after.failedAt);
});

const cliMain = fileURLToPath(new URL("../../cli/src/main.ts", import.meta.url));
const cli = (...args: string[]) =>
  promisify(execFile)(process.execPath, [cliMain, ...args], {
    env: { PATH: process.env.PATH, PROVISIONER_API_URL: stack.apiUrl, PROVISIONER_TOKEN: adminToken },
  });
