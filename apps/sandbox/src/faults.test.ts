import { describe, expect, it } from "vitest";
import { createFaultBook } from "./faults.ts";
import { testSandbox } from "./test-support.ts";

const ARTIE = "/artie/connectors/new-database";
const BRIDGEPORT = "/bridgeport/api/environments/env_1/databases";
const PRISMA = "/prisma/v1/databases";
const artieBody = { name: "a", connector: { uuid: "c1" } };
const bridgeportBody = { name: "a", type: "postgres" };
const prismaBody = { projectId: "proj_cabc12345678", logicalId: "a" };

describe("injected errors", () => {
  it("answers the rule's status in each provider's envelope, creating nothing", async () => {
    const sandbox = testSandbox({ faults: [{ provider: "*", fault: "error", status: 502 }] });
    const artie = await sandbox.call("POST", ARTIE, { body: artieBody });
    expect(artie.status).toBe(502);
    expect(await artie.json()).toEqual({ error: expect.any(String) });
    const bridgeport = await sandbox.call("POST", BRIDGEPORT, { body: bridgeportBody });
    expect(bridgeport.status).toBe(502);
    expect(await bridgeport.json()).toMatchObject({ code: "INTERNAL", requestId: expect.any(String) });
    const prisma = await sandbox.call("POST", PRISMA, { body: prismaBody });
    expect(prisma.status).toBe(502);
    expect(await prisma.json()).toMatchObject({ error: { code: "internal_error" } });
    expect(sandbox.state.stats().creations).toEqual({ artie: {}, bridgeport: {}, prisma: {} });
  });

  it("defaults to 500 and adds Retry-After when the rule gives one", async () => {
    const sandbox = testSandbox({
      faults: [
        { provider: "artie", fault: "error" },
        { provider: "prisma", fault: "error", status: 503, retryAfter: "7" },
      ],
    });
    expect((await sandbox.call("POST", ARTIE, { body: artieBody })).status).toBe(500);
    const prisma = await sandbox.call("POST", PRISMA, { body: prismaBody });
    expect(prisma.status).toBe(503);
    expect(prisma.headers.get("retry-after")).toBe("7");
    expect(await prisma.json()).toMatchObject({ error: { code: "service_unavailable" } });
  });

  it("stops after `times` matching requests", async () => {
    const sandbox = testSandbox({ faults: [{ provider: "bridgeport", fault: "error", times: 2 }] });
    const statuses = [];
    for (const name of ["a", "b", "c"]) {
      const response = await sandbox.call("POST", BRIDGEPORT, { body: { name, type: "pg" } });
      statuses.push(response.status);
    }
    expect(statuses).toEqual([500, 500, 200]);
  });

  it("applies only to the rule's operation: create by default", async () => {
    const sandbox = testSandbox({ faults: [{ provider: "bridgeport", fault: "error" }] });
    expect((await sandbox.call("GET", BRIDGEPORT)).status).toBe(200);
    sandbox.state.setFaults([{ provider: "bridgeport", operation: "find", fault: "error" }]);
    expect((await sandbox.call("GET", BRIDGEPORT)).status).toBe(500);
    expect((await sandbox.call("POST", BRIDGEPORT, { body: bridgeportBody })).status).toBe(200);
  });
});

describe("injected rate limits", () => {
  it("answers 429 with Retry-After, and the delay in the body when asked", async () => {
    const sandbox = testSandbox({
      faults: [{ provider: "*", fault: "rate_limit", retryAfter: "2", retryAfterInBody: true }],
    });
    const bridgeport = await sandbox.call("POST", BRIDGEPORT, { body: bridgeportBody });
    expect(bridgeport.status).toBe(429);
    expect(bridgeport.headers.get("retry-after")).toBe("2");
    expect(await bridgeport.json()).toMatchObject({ code: "RATE_LIMITED", hint: "Retry after 2 seconds." });
    const prisma = await sandbox.call("POST", PRISMA, { body: prismaBody });
    expect(await prisma.json()).toMatchObject({
      error: { code: "rate_limited", hint: "Retry after 2 seconds." },
    });
    expect(sandbox.state.stats().creations.prisma).toEqual({});
  });

  it("defaults Retry-After to one second", async () => {
    const sandbox = testSandbox({ faults: [{ provider: "artie", fault: "rate_limit" }] });
    const response = await sandbox.call("POST", ARTIE, { body: artieBody });
    expect(response.status).toBe(429);
    expect(response.headers.get("retry-after")).toBe("1");
  });
});

describe("injected latency and malformed answers", () => {
  it("delays the call, then lets a later rule decide", async () => {
    const sandbox = testSandbox({
      faults: [
        { provider: "prisma", fault: "latency", latencyMs: 60 },
        { provider: "prisma", fault: "error", status: 503 },
      ],
    });
    const started = performance.now();
    const response = await sandbox.call("POST", PRISMA, { body: prismaBody });
    expect(performance.now() - started).toBeGreaterThanOrEqual(55);
    expect(response.status).toBe(503);
  });

  it("performs the create but answers a body that is not JSON", async () => {
    const sandbox = testSandbox({ faults: [{ provider: "*", operation: "*", fault: "malformed" }] });
    const prisma = await sandbox.call("POST", PRISMA, { body: prismaBody });
    expect(prisma.status).toBe(201);
    await expect(prisma.json()).rejects.toThrow();
    const artie = await sandbox.call("POST", ARTIE, { body: artieBody });
    expect(artie.status).toBe(200);
    await expect(artie.json()).rejects.toThrow();
    const list = await sandbox.call("GET", BRIDGEPORT);
    await expect(list.json()).rejects.toThrow();
    const stats = sandbox.state.stats();
    expect(stats.creations.prisma).toEqual({ "proj_cabc12345678/a": 1 });
    expect(stats.creations.artie).toEqual({ "c1/a": 1 });
  });

  it("never fires drop or lost_response without a connection to close", async () => {
    const sandbox = testSandbox({ faults: [{ provider: "*", fault: "drop" }] });
    const response = await sandbox.call("POST", BRIDGEPORT, { body: bridgeportBody });
    expect(response.status).toBe(200);
  });
});

describe("fault rules", () => {
  it("fire with the rule's rate", () => {
    const rolls = [0.1, 0.9];
    const book = createFaultBook(() => rolls.shift() ?? 0);
    book.replace([{ provider: "artie", fault: "error", rate: 0.5 }]);
    const request = { provider: "artie", operation: "create", canCloseConnection: true } as const;
    expect(book.plan(request).fault?.fault).toBe("error");
    expect(book.plan(request).fault).toBeNull();
  });

  it("add up the latency of every firing latency rule", () => {
    const book = createFaultBook();
    book.replace([
      { provider: "*", operation: "*", fault: "latency", latencyMs: 10 },
      { provider: "prisma", operation: "find", fault: "latency", latencyMs: 5 },
    ]);
    const plan = book.plan({ provider: "prisma", operation: "find", canCloseConnection: false });
    expect(plan).toEqual({ latencyMs: 15, fault: null });
  });
});

describe("rules with a name prefix", () => {
  it("fire only on creates whose name starts with the prefix, at every provider", async () => {
    const sandbox = testSandbox({
      faults: [{ provider: "*", operation: "*", fault: "error", status: 400, namePrefix: "doomed-" }],
    });
    const doomed = { name: "doomed-1" };
    expect((await sandbox.call("POST", ARTIE, { body: { ...artieBody, ...doomed } })).status).toBe(400);
    expect((await sandbox.call("POST", BRIDGEPORT, { body: { ...bridgeportBody, ...doomed } })).status).toBe(400);
    expect((await sandbox.call("POST", PRISMA, { body: { ...prismaBody, ...doomed } })).status).toBe(400);
    expect((await sandbox.call("POST", ARTIE, { body: artieBody })).status).toBe(204);
    expect((await sandbox.call("POST", BRIDGEPORT, { body: bridgeportBody })).status).toBe(200);
    expect((await sandbox.call("POST", PRISMA, { body: { ...prismaBody, name: "kept-1" } })).status).toBe(201);
    expect(sandbox.state.stats().duplicates).toEqual([]);
    expect(Object.keys(sandbox.state.stats().creations.bridgeport)).toEqual(["env_1/a"]);
  });

  it("never fire on look-ups or on creates that name no database", async () => {
    const sandbox = testSandbox({
      faults: [{ provider: "*", operation: "*", fault: "error", status: 503, namePrefix: "d" }],
    });
    expect((await sandbox.call("GET", BRIDGEPORT)).status).toBe(200);
    expect((await sandbox.call("GET", `${PRISMA}?projectId=proj_cabc12345678`)).status).toBe(200);
    expect((await sandbox.call("POST", "/artie/connectors/databases", { body: { uuid: "c1" } })).status).toBe(200);
    expect((await sandbox.call("POST", PRISMA, { body: prismaBody })).status).toBe(201);
  });

  it("are validated: an empty prefix is refused", () => {
    const book = createFaultBook();
    expect(() => book.replace([{ provider: "artie", fault: "error", namePrefix: "" }])).toThrow();
  });
});
