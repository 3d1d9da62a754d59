import type { ChildProcess } from "node:child_process";
import { randomUUID } from "node:crypto";
import { once } from "node:events";
import type { ProviderName } from "@provisioner/provider-client";
import {
  getBatch,
  reconcileBatches,
  recordBatch,
  recountBatch,
  type SubmitRequest,
  setBatchStatuses,
  submitJobs,
} from "@provisioner/queue";
import { defaultSandboxTokens } from "@provisioner/sandbox";
import { afterEach, beforeEach, expect, it } from "vitest";
import { type Harness, inputFor, startHarness, uniqueName } from "./test-support.ts";
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

const submitBatch = (rows: { provider: ProviderName; name: string }[]) => harness.submitBatch(rows);

async function waitFinished(batchId: string, timeoutMs: number) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const batch = await getBatch(harness.queues, batchId);
    if (batch?.finished) return batch;
    if (Date.now() > deadline) throw new Error(`batch not finished: ${JSON.stringify(batch?.counts)}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

it("keeps a batch's counts as its jobs end across queues, says finished, and pages its dead items", async () => {
  harness.setFaults([{ provider: "artie", fault: "error", status: 400, namePrefix: "doom" }]);
  const rows = [
    ...Array.from({ length: 7 }, () => ({ provider: "artie" as const, name: uniqueName("doom") })),
    ...Array.from({ length: 5 }, () => ({ provider: "artie" as const, name: uniqueName("ok") })),
    ...Array.from({ length: 6 }, () => ({ provider: "bridgeport" as const, name: uniqueName("ok") })),
  ];
  const batchId = await submitBatch(rows);
  const before = await getBatch(harness.queues, batchId);
  expect(before).toMatchObject({ total: 18, finished: false, counts: { queued: 18 } });

  await harness.startWorkers();
  const batch = await waitFinished(batchId, 20_000);
  expect(batch.counts).toEqual({ queued: 0, running: 0, retrying: 0, succeeded: 11, dead: 7, expired: 0 });
  expect(batch.counts).toEqual(await recountBatch(harness.queues, batchId));
  expect(batch.outcomes).toEqual({ created: 11, deduplicated: 0 });

  // The dead items, three a page, each once, newest first.
  const seen: string[] = [];
  let cursor: string | undefined;
  for (let pages = 0; pages < 5; pages++) {
    const page = await getBatch(harness.queues, batchId, { deadCursor: cursor, deadLimit: 3 });
    seen.push(...(page?.dead ?? []).map((item) => item.id));
    expect(page?.dead.every((item) => item.reason !== null)).toBe(true);
    if (!page?.deadCursor) break;
    cursor = page.deadCursor;
  }
  expect(seen).toHaveLength(7);
  expect(new Set(seen).size).toBe(7);
});

it("counts how the jobs it queued succeeded (created or adopted), not the repeats an earlier batch queued", async () => {
  // Creates whose answer is lost: the retry finds the database on a 409 and adopts it.
  harness.setFaults([{ provider: "bridgeport", fault: "lost_response", namePrefix: "there" }]);
  const adopted = Array.from({ length: 3 }, () => ({ provider: "bridgeport" as const, name: uniqueName("there") }));
  const fresh = Array.from({ length: 4 }, () => ({ provider: "bridgeport" as const, name: uniqueName("ok") }));
  const first = await submitBatch([...fresh, ...adopted]);
  await harness.startWorkers();
  expect((await waitFinished(first, 15_000)).outcomes).toEqual({ created: 4, deduplicated: 3 });

  // The same rows again, plus one new: the repeats end in both batches, their outcomes only in the first.
  const second = await submitBatch([...fresh, { provider: "bridgeport", name: uniqueName("ok") }]);
  const batch = await waitFinished(second, 15_000);
  expect(batch).toMatchObject({ total: 5, counts: { succeeded: 5 }, outcomes: { created: 1, deduplicated: 0 } });
  expect((await getBatch(harness.queues, first))?.outcomes).toEqual({ created: 4, deduplicated: 3 });
});

it("reconciliation corrects a transition whose event was missed, and never undoes a newer write", async () => {
  const batchId = await submitBatch([{ provider: "artie", name: uniqueName("ok") }]);
  await harness.startWorkers({ batchReconcileMs: 60_000 });
  const done = await waitFinished(batchId, 15_000);
  const id = (
    await harness.queues.connection.hkeys(
      `${harness.queues.config.prefix}:batch-jobs:${harness.queues.queueOf("artie").name}:${batchId}`,
    )
  )[0] as string;
  expect(done.counts.succeeded).toBe(1);
  expect(done.outcomes).toEqual({ created: 1, deduplicated: 0 });

  // As if the worker died between BullMQ's move and its event: the batch still says running.
  const queue = harness.queues.queueOf("artie");
  await setBatchStatuses(harness.queues, queue.name, batchId, [{ id, status: "running" }]);
  expect(await getBatch(harness.queues, batchId)).toMatchObject({ finished: false, counts: { running: 1 } });
  // A compare-and-set against a status no longer recorded changes nothing.
  expect(
    await setBatchStatuses(harness.queues, queue.name, batchId, [{ id, status: "dead", expected: "queued" }]),
  ).toBe(0);

  // A job leaving a success takes its outcome's count with it, and the reconciliation's move back counts it again, once.
  expect((await getBatch(harness.queues, batchId))?.outcomes).toEqual({ created: 0, deduplicated: 0 });
  expect(await reconcileBatches(harness.queues, queue)).toBe(1);
  expect(await getBatch(harness.queues, batchId)).toMatchObject({
    finished: true,
    counts: { succeeded: 1, running: 0 },
    outcomes: { created: 1, deduplicated: 0 },
  });
  expect(await reconcileBatches(harness.queues, queue)).toBe(0);
});

it("counts the successes that adopted a database the provider already had, from events and from reconciliation", async () => {
  const names = Array.from({ length: 5 }, () => uniqueName("ok"));
  for (const name of names.slice(0, 2)) {
    const response = await fetch(`${harness.sandbox.url}/bridgeport/api/environments/env_test/databases`, {
      method: "POST",
      headers: { authorization: `Bearer ${defaultSandboxTokens.bridgeport}`, "content-type": "application/json" },
      body: JSON.stringify({ name, type: "postgres" }),
    });
    expect(response.ok).toBe(true);
  }
  const batchId = await submitBatch(names.map((name) => ({ provider: "bridgeport", name })));
  await harness.startWorkers({ batchReconcileMs: 60_000 });
  const batch = await waitFinished(batchId, 15_000);
  expect(batch).toMatchObject({ total: 5, outcomes: { created: 3, deduplicated: 2 }, counts: { succeeded: 5 } });

  // As if the worker died before its events: reconciliation reads each success's outcome.
  const queue = harness.queues.queueOf("bridgeport");
  const ids = await harness.queues.connection.hkeys(
    `${harness.queues.config.prefix}:batch-jobs:${queue.name}:${batchId}`,
  );
  await setBatchStatuses(
    harness.queues,
    queue.name,
    batchId,
    ids.map((id) => ({ id, status: "running" })),
  );
  expect(await getBatch(harness.queues, batchId)).toMatchObject({
    finished: false,
    outcomes: { created: 0, deduplicated: 0 },
  });
  expect(await reconcileBatches(harness.queues, queue)).toBe(5);
  expect(await getBatch(harness.queues, batchId)).toMatchObject({
    finished: true,
    outcomes: { created: 3, deduplicated: 2 },
  });
});

it("converges to a full recount after a run whose worker processes are killed with SIGKILL mid-run", async () => {
  harness.setFaults([
    { provider: "artie", fault: "latency", latencyMs: 150 },
    { provider: "bridgeport", fault: "latency", latencyMs: 150 },
    { provider: "artie", fault: "error", status: 400, namePrefix: "doom" },
  ]);
  const rows = Array.from({ length: 80 }, (_, i) => ({
    provider: (i % 2 === 0 ? "artie" : "bridgeport") as ProviderName,
    name: uniqueName(i % 8 === 0 ? "doom" : "ok"),
  }));
  const batchId = await submitBatch(rows);
  const env = { WORKER_BATCH_RECONCILE_MS: "300" };
  for (let kill = 0; kill < 3; kill++) {
    const { child } = await spawnWorker(harness, env);
    children.push(child);
    await new Promise((resolve) => setTimeout(resolve, 700));
    child.kill("SIGKILL");
    await once(child, "exit");
  }
  const midway = await getBatch(harness.queues, batchId);
  expect(midway?.finished).toBe(false);
  const { child } = await spawnWorker(harness, env);
  children.push(child);

  const batch = await waitFinished(batchId, 60_000);
  expect(batch.total).toBe(80);
  expect(batch.counts).toEqual(await recountBatch(harness.queues, batchId));
  expect(batch.counts).toMatchObject({ succeeded: 70, dead: 10 });
}, 90_000);

it("moves a job submitted again in a second batch (a repeat of its key) in both batches, without waiting for a reconciliation", async () => {
  const request = {
    provider: "artie",
    account: "default",
    input: { ...inputFor.artie(), name: uniqueName("ok") },
    idempotencyKey: uniqueName("twice"),
    lane: "bulk",
  } as SubmitRequest;
  const batches = [randomUUID(), randomUUID()];
  for (const batchId of batches) {
    const [outcome] = await submitJobs(harness.queues, [{ ...request, batchId }]);
    if (!outcome?.accepted) throw new Error("refused");
    await recordBatch(harness.queues, batchId, [
      { id: outcome.id, status: outcome.status, repeat: outcome.deduplicated },
    ]);
  }
  // A reconciliation an hour away: only the worker's events can finish the second batch.
  await harness.startWorkers({ batchReconcileMs: 3_600_000 });
  for (const batchId of batches) {
    const batch = await waitFinished(batchId, 15_000);
    expect(batch.counts).toMatchObject({ succeeded: 1, queued: 0, running: 0 });
  }
});
