import { describe, expect, it } from "vitest";
import { TOKENS, testSandbox } from "./test-support.ts";

const BRIDGEPORT = "/bridgeport/api/environments/env_1/databases";

describe("/__sandbox", () => {
  it("answers health without a token", async () => {
    const sandbox = testSandbox();
    const response = await sandbox.call("GET", "/__sandbox/health");
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ ok: true });
  });

  it("counts every call that reached a provider, and every creation by name", async () => {
    const sandbox = testSandbox();
    await sandbox.call("POST", BRIDGEPORT, { body: { name: "a", type: "pg" } });
    await sandbox.call("POST", BRIDGEPORT, { body: { name: "a", type: "pg" } });
    await sandbox.call("POST", BRIDGEPORT, { token: null, body: { name: "b", type: "pg" } });
    await sandbox.call("GET", BRIDGEPORT, { token: TOKENS.bridgeport.read });
    await sandbox.call("GET", "/prisma/v1/databases");
    const stats = await (await sandbox.call("GET", "/__sandbox/stats")).json();
    expect(stats).toEqual({
      creations: { artie: {}, bridgeport: { "env_1/a": 1 }, prisma: {} },
      requests: {
        artie: { create: 0, find: 0 },
        bridgeport: { create: 3, find: 1 },
        prisma: { create: 0, find: 1 },
      },
      duplicates: [],
    });
  });

  it("replaces the fault rules and shows them with their defaults", async () => {
    const sandbox = testSandbox({ faults: [{ provider: "artie", fault: "hang" }] });
    const rules = [{ provider: "prisma", fault: "rate_limit", retryAfter: "3" }];
    const set = await sandbox.call("POST", "/__sandbox/faults", { body: { rules } });
    expect(set.status).toBe(200);
    const shown = await (await sandbox.call("GET", "/__sandbox/faults")).json();
    expect(shown).toEqual({
      rules: [{ provider: "prisma", operation: "create", fault: "rate_limit", retryAfter: "3", rate: 1 }],
    });
  });

  it("answers 400 naming the bad field of a fault rule, keeping the old rules", async () => {
    const sandbox = testSandbox({ faults: [{ provider: "artie", fault: "error" }] });
    const cases = [
      [{ rules: [{ provider: "heroku", fault: "error" }] }, "rules.0.provider"],
      [{ rules: [{ provider: "*", fault: "error", status: 200 }] }, "rules.0.status"],
      [{ rules: [{ provider: "*", fault: "error", lattency: 5 }] }, "rules.0.lattency"],
      [{ rules: [{ provider: "*", fault: "rate_limit", retryAfter: "soon" }] }, "rules.0.retryAfter"],
      [{}, "rules"],
    ] as const;
    for (const [body, field] of cases) {
      const response = await sandbox.call("POST", "/__sandbox/faults", { body });
      expect(response.status).toBe(400);
      expect(await response.json()).toMatchObject({ error: { code: "invalid_request", field } });
    }
    expect(sandbox.state.faults()).toHaveLength(1);
  });

  it("resets rules, databases, idempotency records and stats", async () => {
    const sandbox = testSandbox({ faults: [{ provider: "prisma", fault: "error" }] });
    const headers = { "idempotency-key": "k" };
    await sandbox.call("POST", BRIDGEPORT, { body: { name: "a", type: "pg" }, headers });
    const reset = await sandbox.call("POST", "/__sandbox/reset");
    expect(reset.status).toBe(200);
    expect(sandbox.state.faults()).toEqual([]);
    expect(sandbox.state.stats().requests.bridgeport.create).toBe(0);
    const again = await sandbox.call("POST", BRIDGEPORT, { body: { name: "a", type: "pg" }, headers });
    expect(again.status).toBe(200);
    expect(again.headers.get("idempotent-replayed")).toBeNull();
    const list = (await (await sandbox.call("GET", BRIDGEPORT)).json()) as { total: number };
    expect(list.total).toBe(1);
  });

  it("rejects bad options when the app is built", () => {
    expect(() => testSandbox({ prismaProvisioningMs: -1 })).toThrow(/prismaProvisioningMs/);
  });
});

describe("unknown routes", () => {
  it("answer 404 in the provider's envelope under its prefix", async () => {
    const sandbox = testSandbox();
    const bridgeport = await sandbox.call("GET", "/bridgeport/api/nothing");
    expect(bridgeport.status).toBe(404);
    expect(await bridgeport.json()).toMatchObject({ code: "NOT_FOUND" });
    const prisma = await sandbox.call("GET", "/prisma/v2/anything");
    expect(await prisma.json()).toMatchObject({ error: { code: "not_found" } });
  });
});
