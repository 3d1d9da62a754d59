// The pipeline's scenarios per HTTP provider (success, adoption, a 400's death, retry then
// success, 409 adoption), shared by the single-Redis suite and the Redis Cluster suite.
import { logicalIdFor } from "@provisioner/provider-client";
import { getDeadLetter } from "@provisioner/queue";
import { describe, expect, it } from "vitest";
import { type Harness, inputFor } from "./test-support.ts";

export function describePipelineScenarios(harness: () => Harness): void {
  const httpProviders = ["artie", "bridgeport", "prisma"] as const;

  /** How many times the sandbox created the job's database (Prisma counts by logicalId). */
  function creationsOf(
    provider: (typeof httpProviders)[number],
    input: Record<string, unknown>,
    jobId: string,
  ): number[] {
    const name = provider === "prisma" ? logicalIdFor(jobId) : (input.name as string);
    return Object.entries(harness().creations(provider))
      .filter(([key]) => key.endsWith(`/${name}`))
      .map(([, count]) => count);
  }

  describe.each(httpProviders)("%s jobs", (provider) => {
    it("succeed, creating the database once", async () => {
      const input = inputFor[provider]();
      const id = await harness().submit({ provider, input });
      const view = await harness().waitFor(id);
      expect(view.status).toBe("succeeded");
      expect(view.result?.outcome).toBe("created");
      expect(view.attempts).toBe(1);
      expect(creationsOf(provider, input, id)).toEqual([1]);
    });

    it("adopt the database when the create's response was lost, creating it once", async () => {
      harness().setFaults([{ provider, fault: "lost_response", times: 1 }]);
      const input = inputFor[provider]();
      const id = await harness().submit({ provider, input });
      const view = await harness().waitFor(id);
      expect(view.status).toBe("succeeded");
      expect(view.result?.outcome).toBe("deduplicated");
      expect(view.errors).toHaveLength(1);
      expect(view.errors[0]).toMatchObject({ kind: "transient", attempt: 1 });
      expect(creationsOf(provider, input, id)).toEqual([1]);
    });

    it("die after exactly one provider call on a 400, into the dead letters", async () => {
      harness().setFaults([{ provider, fault: "error", status: 400 }]);
      const before = harness().sandbox.state.stats().requests[provider].create;
      const id = await harness().submit({ provider, input: inputFor[provider]() });
      const view = await harness().waitFor(id);
      expect(view.status).toBe("dead");
      expect(view.errors).toEqual([expect.objectContaining({ kind: "invalid", status: 400, retryable: false })]);
      expect(harness().sandbox.state.stats().requests[provider].create - before).toBe(1);
      const dead = await getDeadLetter(harness().queues, id);
      expect(dead?.reason).toMatchObject({ kind: "invalid", status: 400 });
      expect(dead?.errors).toHaveLength(1);
      expect(dead?.attemptsMade).toBe(view.attempts);
    });

    it("succeed after two 5xx answers, backing off in between", async () => {
      harness().setFaults([{ provider, fault: "error", status: 502, times: 2 }]);
      const id = await harness().submit({ provider, input: inputFor[provider]() });
      const view = await harness().waitFor(id);
      expect(view.status).toBe("succeeded");
      expect(view.attempts).toBe(3);
      expect(view.errors.map((e) => [e.attempt, e.kind, e.status])).toEqual([
        [1, "transient", 502],
        [2, "transient", 502],
      ]);
    });
  });

  describe("name conflicts", () => {
    it("BRIDGEPORT: a 409 on the name adopts the existing database as deduplicated", async () => {
      const input = inputFor.bridgeport();
      const first = await harness().submit({ provider: "bridgeport", input, idempotencyKey: "first" });
      await harness().waitFor(first);
      const second = await harness().submit({ provider: "bridgeport", input, idempotencyKey: "second" });
      const view = await harness().waitFor(second);
      expect(view.status).toBe("succeeded");
      expect(view.result?.outcome).toBe("deduplicated");
      expect(view.result?.resource.name).toBe(input.name);
      expect(harness().creations("bridgeport")[`env_test/${input.name}`]).toBe(1);
    });

    it("Artie: a second request for an existing name adopts it, though Artie has no conflict answer", async () => {
      const input = inputFor.artie();
      const first = await harness().submit({ provider: "artie", input, idempotencyKey: "a-first" });
      await harness().waitFor(first);
      const second = await harness().submit({ provider: "artie", input, idempotencyKey: "a-second" });
      const view = await harness().waitFor(second);
      expect(view.status).toBe("succeeded");
      expect(view.result?.outcome).toBe("deduplicated");
      expect(harness().creations("artie")[`conn-1/${input.name as string}`]).toBe(1);
    });

    it("Prisma: a 409 on the logicalId adopts the existing database", async () => {
      const input = { ...inputFor.prisma(), logicalId: "tenant-42" };
      const first = await harness().submit({ provider: "prisma", input, idempotencyKey: "p-first" });
      await harness().waitFor(first);
      const second = await harness().submit({ provider: "prisma", input, idempotencyKey: "p-second" });
      const view = await harness().waitFor(second);
      expect(view.result?.outcome).toBe("deduplicated");
      expect(harness().creations("prisma")["proj_abc123/tenant-42"]).toBe(1);
    });
  });
}
