import { describe, expect, it } from "vitest";
import { readSandboxEnv } from "./env.ts";

describe("readSandboxEnv", () => {
  it("defaults to 127.0.0.1:4010 with no faults", () => {
    expect(readSandboxEnv({})).toMatchObject({ port: 4010, host: "127.0.0.1", faults: [], prismaProvisioningMs: 0 });
  });

  it("overrides the write tokens and reads faults as JSON", () => {
    const options = readSandboxEnv({
      SANDBOX_PORT: "0",
      SANDBOX_BRIDGEPORT_TOKEN: "bport_pat_other",
      SANDBOX_PRISMA_PROVISIONING_MS: "250",
      SANDBOX_FAULTS: JSON.stringify({ rules: [{ provider: "artie", fault: "error", status: 503 }] }),
    });
    expect(options.port).toBe(0);
    expect(options.tokens?.bridgeport).toEqual({ write: "bport_pat_other" });
    expect(options.tokens?.artie).toEqual({});
    expect(options.prismaProvisioningMs).toBe(250);
    expect(options.faults).toMatchObject([{ provider: "artie", fault: "error", status: 503 }]);
  });

  it("names the variable that is wrong", () => {
    expect(() => readSandboxEnv({ SANDBOX_PORT: "http" })).toThrow(/SANDBOX_PORT/);
    expect(() => readSandboxEnv({ SANDBOX_FAULTS: "{not json" })).toThrow(/SANDBOX_FAULTS/);
  });
});
