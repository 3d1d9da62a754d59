import { describe, expect, it } from "vitest";
import { batchViewSchema, errorEnvelopeSchema, jobRequestSchema, jobStatuses, jobViewSchema } from "./index.ts";

describe("the API contract", () => {
  it("checks a job request's input against its provider's schema and names the field at fault", () => {
    const parsed = jobRequestSchema.safeParse({ provider: "postgres", input: { name: "" } });
    expect(parsed.success).toBe(false);
    expect(parsed.error?.issues[0]?.path).toEqual(["input", "name"]);
  });

  it("defaults the account and refuses a callback URL that is not RFC 3986", () => {
    const request = { provider: "postgres", input: { name: "tenant_a" } };
    expect(jobRequestSchema.parse(request).account).toBe("default");
    const spaced = jobRequestSchema.safeParse({ ...request, callbackUrl: "https://hooks.example.com/a b" });
    expect(spaced.success).toBe(false);
  });

  it("counts a batch's jobs under every job status and expired", () => {
    expect(Object.keys(batchViewSchema.shape.counts.shape)).toEqual([...jobStatuses, "expired"]);
  });

  it("lets a reader tolerate fields a newer API adds with .loose()", () => {
    const view = {
      id: "postgres-1",
      provider: "postgres",
      account: "default",
      status: "queued",
      attempts: 0,
      maxAttempts: 5,
      nextAttemptAt: null,
      createdAt: "2026-01-01T00:00:00.000Z",
      finishedAt: null,
      idempotencyKey: "k",
      batchId: null,
      metadata: null,
      input: { name: "tenant_a" },
      result: null,
      errors: [],
      lane: "bulk",
      // A field this contract does not know yet (`lane` was one, before lanes existed).
      region: "eu",
    };
    expect(jobViewSchema.parse(view)).not.toHaveProperty("region");
    expect(jobViewSchema.loose().parse(view)).toHaveProperty("region", "eu");
  });

  it("requires the request id in an error envelope", () => {
    expect(errorEnvelopeSchema.safeParse({ error: { code: "NOT_FOUND", message: "no job x" } }).success).toBe(false);
  });
});
