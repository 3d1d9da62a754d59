import { getJobView, type JobView } from "@provisioner/queue";
import { afterAll, beforeAll, expect, it } from "vitest";
import { type Harness, inputFor, startHarness } from "./test-support.ts";

// Long enough for several polls (one a second) while the sandbox says `provisioning`.
const provisioningMs = 2_500;
let harness: Harness;

beforeAll(async () => {
  harness = await startHarness({ prismaProvisioningMs: provisioningMs });
  await harness.startWorkers();
});
afterAll(() => harness.close());

it("shows a Prisma job as running, with no attempt spent, while the provider is provisioning", async () => {
  const id = await harness.submit({ provider: "prisma", input: inputFor.prisma() });
  const queue = harness.queues.queueOf("prisma");
  const seen: JobView[] = [];
  const deadline = Date.now() + provisioningMs + 10_000;
  for (;;) {
    // Watch the job between polls, when BullMQ holds it delayed until the next look.
    const state = await queue.getJobState(id);
    const view = await getJobView(harness.queues, id);
    if (state === "delayed" && view) seen.push(view);
    if (view?.status === "succeeded" || view?.status === "dead" || Date.now() > deadline) break;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  expect(seen.length).toBeGreaterThan(0);
  for (const view of seen) expect(view).toMatchObject({ status: "running", attempts: 0, errors: [] });
  // A view read while the job sat delayed says when the provider is asked next (one read
  // may land just as the job is taken again, when there is no next time to tell).
  expect(seen.some((view) => view.nextAttemptAt !== null)).toBe(true);
  expect((await harness.waitFor(id)).status).toBe("succeeded");
});
