import { describe, expect, it } from "vitest";
import { authorize } from "./auth.ts";

const tokens = { write: "w-token", read: "r-token" };

describe("authorize", () => {
  it("lets the write token create and look up", () => {
    expect(authorize("Bearer w-token", tokens, "write")).toBe("allowed");
    expect(authorize("bearer w-token", tokens, "read")).toBe("allowed");
  });

  it("lets the read token look up but not create", () => {
    expect(authorize("Bearer r-token", tokens, "read")).toBe("allowed");
    expect(authorize("Bearer r-token", tokens, "write")).toBe("forbidden");
  });

  it("refuses a missing, malformed or unknown token", () => {
    expect(authorize(undefined, tokens, "read")).toBe("unauthenticated");
    expect(authorize("Basic w-token", tokens, "read")).toBe("unauthenticated");
    expect(authorize("Bearer w-token-longer", tokens, "read")).toBe("unauthenticated");
  });
});
