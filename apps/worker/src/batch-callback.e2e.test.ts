import type { ChildProcess } from "node:child_process";
import { randomBytes, randomUUID } from "node:crypto";
import { once } from "node:events";
import type { IncomingHttpHeaders } from "node:http";
import type { ProviderName } from "@provisioner/provider-client";
import {
  type BatchEvent,
  batchCallbackId,
  batchEventSchema,
  getBatch,
  reconcileBatches,
  recordBatch,
  recountBatch,
  type SubmitRequest,
  submitJobs,
} from "@provisioner/queue";
import { Webhook } from "standardwebhooks";
import { afterEach, beforeEach, expect, it } from "vitest";
import {
  type CallbackReceiver,
  type Harness,
  inputFor,
  startCallbackReceiver,
  startHarness,
  uniqueName,
} from "./test-support.ts";
import { spawnWorker } from "./test-worker-process.ts";

const secret = `whsec_${randomBytes(24).toString("base64")}`;
let harness: Harness;
let receiver: CallbackReceiver;
const children: ChildProcess[] = [];

beforeEach(async () => {
  receiver = await startCallbackReceiver("/hooks/batches");
  harness = await startHarness({ callbackSigningSecret: secret, callbackAllowPrivateNetworks: true });
});
afterEach(async () => {
  for (const child of children.splice(0)) if (child.exitCode === null) child.kill("SIGKILL");
  await harness.close();
  receiver.close();
});

const submitBatch = (rows: { provider: ProviderName; name: string }[]) => harness.submitBatch(rows, receiver.url);

/** The batch's notices, each verified with the Standard Webhooks library (so the signature is the standard one). */
function noticesFor(batchId: string): { headers: IncomingHttpHeaders; event: BatchEvent }[] {
  return receiver.received
    .filter(({ body }) => body.includes(batchId))
    .map(({ headers, body }) => ({
      headers,
      event: batchEventSchema.parse(new Webhook(secret).verify(body, headers as Record<string, string>)),
    }));
}

async function firstNotice(batchId: string, timeoutMs: number) {
  const deadline = Date.now() + timeoutMs;
  while (noticesFor(batchId).length === 0) {
    if (Date.now() > deadline)
      throw new Error(`no batch.finished for ${batchId}: ${JSON.stringify(await getBatch(harness.queues, batchId))}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return noticesFor(batchId)[0] as { headers: IncomingHttpHeaders; event: BatchEvent };
}

it("sends one signed batch.finished with the counts and the first dead items, once, however often the end is seen", async () => {
  harness.setFaults([{ provider: "artie", fault: "error", status: 400, namePrefix: "doom" }]);
  const rows = [
    ...Array.from({ length: 3 }, () => ({ provider: "artie" as const, name: uniqueName("doom") })),
    ...Array.from({ length: 4 }, () => ({ provider: "artie" as const, name: uniqueName("ok") })),
    ...Array.from({ length: 5 }, () => ({ provider: "bridgeport" as const, name: uniqueName("ok") })),
  ];
  const batchId = await submitBatch(rows);
  await harness.startWorkers();

  const { headers, event } = await firstNotice(batchId, 20_000);
  expect(headers["webhook-id"]).toBe(batchCallbackId(batchId));
  expect(event.type).toBe("batch.finished");
  expect(event.data).toMatchObject({
    id: batchId,
    total: 12,
    counts: { queued: 0, running: 0, retrying: 0, succeeded: 9, dead: 3, expired: 0 },
    deadCursor: null,
  });
  expect(event.data.counts).toEqual(await recountBatch(harness.queues, batchId));
  expect(event.data.dead).toHaveLength(3);
  expect(event.data.dead.every((item) => item.reason !== null)).toBe(true);

  // Every later look at the finished batch (reconciliations, a late duplicate event) queues nothing new.
  for (const { queue } of harness.queues.accounts) await reconcileBatches(harness.queues, queue);
  await recordBatch(harness.queues, batchId, [], receiver.url);
  await new Promise((resolve) => setTimeout(resolve, 1_000));
  expect(noticesFor(batchId)).toHaveLength(1);
});

it("sends no notice before the batch is finished, nor for a batch without a callbackUrl", async () => {
  harness.setFaults([{ provider: "artie", fault: "latency", latencyMs: 1_500 }]);
  const batchId = await submitBatch([
    { provider: "artie", name: uniqueName("slow") },
    { provider: "bridgeport", name: uniqueName("ok") },
  ]);
  const silent = randomUUID();
  const outcomes = await submitJobs(harness.queues, [
    {
      provider: "bridgeport",
      account: "default",
      input: inputFor.bridgeport(),
      batchId: silent,
      lane: "bulk",
    } as SubmitRequest,
  ]);
  await recordBatch(harness.queues, silent, [{ id: (outcomes[0] as { id: string }).id, status: "queued" }]);
  await harness.startWorkers();
  // The fast bridgeport job ends while the artie one is still running: not finished yet.
  await new Promise((resolve) => setTimeout(resolve, 700));
  expect(noticesFor(batchId)).toHaveLength(0);
  expect((await getBatch(harness.queues, batchId))?.finished).toBe(false);
  await firstNotice(batchId, 15_000);
  expect((await getBatch(harness.queues, silent))?.finished).toBe(true);
  expect(receiver.received.filter(({ body }) => body.includes(silent))).toHaveLength(0);
});

it("sends exactly one notice with the recounted counts when worker processes are killed with SIGKILL mid-batch", async () => {
  harness.setFaults([
    { provider: "artie", fault: "latency", latencyMs: 150 },
    { provider: "bridgeport", fault: "latency", latencyMs: 150 },
    { provider: "artie", fault: "error", status: 400, namePrefix: "doom" },
  ]);
  const rows = Array.from({ length: 60 }, (_, i) => ({
    provider: (i % 2 === 0 ? "artie" : "bridgeport") as ProviderName,
    name: uniqueName(i % 6 === 0 ? "doom" : "ok"),
  }));
  const batchId = await submitBatch(rows);
  const env = { WORKER_BATCH_RECONCILE_MS: "300", CALLBACK_SIGNING_SECRET: secret };
  for (let kill = 0; kill < 3; kill++) {
    const { child } = await spawnWorker(harness, env);
    children.push(child);
    await new Promise((resolve) => setTimeout(resolve, 700));
    child.kill("SIGKILL");
    await once(child, "exit");
  }
  expect(noticesFor(batchId)).toHaveLength(0);
  // Two workers finish the run side by side, each seeing jobs end and reconciling.
  for (let i = 0; i < 2; i++) {
    const { child } = await spawnWorker(harness, env);
    children.push(child);
  }

  const { event } = await firstNotice(batchId, 60_000);
  expect(event.data.total).toBe(60);
  expect(event.data.counts).toMatchObject({ succeeded: 50, dead: 10 });
  expect(event.data.counts).toEqual(await recountBatch(harness.queues, batchId));
  expect(event.data.dead).toHaveLength(10);
  // Reconciliations keep running in both workers: still one notice.
  await new Promise((resolve) => setTimeout(resolve, 1_500));
  expect(noticesFor(batchId)).toHaveLength(1);
}, 90_000);
