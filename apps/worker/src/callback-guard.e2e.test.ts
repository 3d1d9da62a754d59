import { once } from "node:events";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, expect, it } from "vitest";
import { type Harness, inputFor, startHarness } from "./test-support.ts";

// Private networks are NOT allowed here (the default): the receiver sits on loopback.
let harness: Harness;
let receiver: Server;
let port: number;
let received = 0;

beforeAll(async () => {
  receiver = createServer((_request, response) => {
    received++;
    response.statusCode = 204;
    response.end();
  });
  receiver.listen(0, "127.0.0.1");
  await once(receiver, "listening");
  port = (receiver.address() as AddressInfo).port;
  harness = await startHarness();
  await harness.startWorkers();
});
afterAll(async () => {
  await harness.close();
  receiver.close();
});

/** The job's callback delivery once it has ended, delivered or not. */
async function settledDelivery(jobId: string) {
  const deadline = Date.now() + 15_000;
  for (;;) {
    const id = `${jobId}-g0`;
    const state = await harness.queues.callbacks.getJobState(id);
    // Read the job after its state: read before, it may still hold the run's fields.
    const delivery =
      state === "failed" || state === "completed" ? await harness.queues.callbacks.getJob(id) : undefined;
    if (delivery) return { delivery, state };
    if (Date.now() > deadline) throw new Error(`the callback of ${jobId} is ${state}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

it.each([
  ["a name that resolves to loopback", () => `http://localhost:${port}/hooks`],
  ["a literal loopback address queued without the API's check", () => `http://127.0.0.1:${port}/hooks`],
])("refuses for good, without sending, a callback whose connection lands on loopback: %s", async (_, url) => {
  const id = await harness.submit({ provider: "bridgeport", input: inputFor.bridgeport(), callbackUrl: url() });
  expect((await harness.waitFor(id)).status).toBe("succeeded");

  const { delivery, state } = await settledDelivery(id);
  expect(state).toBe("failed");
  expect(delivery.attemptsMade).toBe(1);
  expect(delivery.failedReason).toMatch(/loopback, private or link-local address 127\.0\.0\.1|::1/);
  expect(received).toBe(0);
});
