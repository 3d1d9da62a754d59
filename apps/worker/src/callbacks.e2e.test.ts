import { randomBytes } from "node:crypto";
import type { IncomingHttpHeaders } from "node:http";
import type { CallbackEvent } from "@provisioner/queue";
import { Webhook } from "standardwebhooks";
import { afterAll, beforeAll, beforeEach, expect, it } from "vitest";
import { type CallbackReceiver, type Harness, inputFor, startCallbackReceiver, startHarness } from "./test-support.ts";

const secret = `whsec_${randomBytes(24).toString("base64")}`;
let harness: Harness;
let receiver: CallbackReceiver;

beforeAll(async () => {
  receiver = await startCallbackReceiver("/hooks/provisioner");
  harness = await startHarness({ callbackSigningSecret: secret, callbackAllowPrivateNetworks: true });
  await harness.startWorkers();
});
afterAll(async () => {
  await harness.close();
  receiver.close();
});
beforeEach(() => {
  receiver.received.length = 0;
  receiver.script.length = 0;
  harness.setFaults([]);
});

async function deliveriesFor(
  jobId: string,
  count: number,
): Promise<{ headers: IncomingHttpHeaders; event: CallbackEvent }[]> {
  for (let i = 0; i < 400; i++) {
    const mine = receiver.received.filter(({ body }) => body.includes(jobId));
    if (mine.length >= count) {
      return mine.map(({ headers, body }) => ({
        headers,
        // Verifying with the Standard Webhooks library proves the signature is the standard one.
        event: new Webhook(secret).verify(body, headers as Record<string, string>) as CallbackEvent,
      }));
    }
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  throw new Error(`no ${count} callbacks for ${jobId}`);
}

it("notifies the callbackUrl, signed, when a job succeeds, without any secret", async () => {
  const input = inputFor.bridgeport();
  const id = await harness.submit({
    provider: "bridgeport",
    input,
    callbackUrl: receiver.url,
    metadata: { tenant: "t-1" },
  });
  const [delivery] = await deliveriesFor(id, 1);
  expect(delivery?.headers["webhook-id"]).toBe(`${id}-g0`);
  expect(delivery?.event).toMatchObject({
    type: "job.succeeded",
    data: {
      id,
      provider: "bridgeport",
      status: "succeeded",
      outcome: "created",
      resource: { name: input.name },
      metadata: { tenant: "t-1" },
    },
  });
  expect(JSON.stringify(delivery)).not.toContain(input.password as string);
});

it("notifies the callbackUrl when a job dies, with the reason", async () => {
  harness.setFaults([{ provider: "artie", fault: "error", status: 403 }]);
  const id = await harness.submit({ provider: "artie", input: inputFor.artie(), callbackUrl: receiver.url });
  const [delivery] = await deliveriesFor(id, 1);
  expect(delivery?.event).toMatchObject({
    type: "job.dead",
    data: { id, status: "dead", error: { kind: "auth", status: 403 } },
  });
});

it("tries again while the receiver fails, under the same webhook-id", async () => {
  receiver.script = [503, 500];
  const id = await harness.submit({ provider: "prisma", input: inputFor.prisma(), callbackUrl: receiver.url });
  const deliveries = await deliveriesFor(id, 3);
  expect(new Set(deliveries.map(({ headers }) => headers["webhook-id"]))).toEqual(new Set([`${id}-g0`]));
  const callback = await harness.queues.callbacks.getJob(`${id}-g0`);
  await expect.poll(() => callback?.getState()).toBe("completed");
});

it("gives up at once when the receiver refuses with a 4xx", async () => {
  receiver.script = [410];
  const id = await harness.submit({ provider: "artie", input: inputFor.artie(), callbackUrl: receiver.url });
  await deliveriesFor(id, 1);
  const callback = await harness.queues.callbacks.getJob(`${id}-g0`);
  await expect.poll(async () => (await harness.queues.callbacks.getJob(`${id}-g0`))?.getState()).toBe("failed");
  expect(callback?.attemptsMade ?? 0).toBeLessThanOrEqual(1);
  expect(receiver.received.filter(({ body }) => body.includes(id))).toHaveLength(1);
});
