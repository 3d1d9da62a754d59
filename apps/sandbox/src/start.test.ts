import { afterEach, describe, expect, it } from "vitest";
import type { FaultRule } from "./faults.ts";
import { type RunningSandbox, startSandbox } from "./start.ts";
import { type CallInit, requestInit } from "./test-support.ts";

// Faults that act on the connection itself need a real server.

const BRIDGEPORT = "/bridgeport/api/environments/env_1/databases";
const body = { name: "tenant-a", type: "postgres" };

let sandbox: RunningSandbox | undefined;
afterEach(async () => {
  await sandbox?.close();
  sandbox = undefined;
});

async function start(faults: FaultRule[]): Promise<RunningSandbox> {
  sandbox = await startSandbox({ faults });
  return sandbox;
}

function call(running: RunningSandbox, method: string, path: string, init: CallInit = {}) {
  return fetch(`${running.url}${path}`, requestInit(method, path, init));
}

describe("startSandbox", () => {
  it("serves the providers on a free port", async () => {
    const running = await start([]);
    expect(running.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const response = await call(running, "POST", BRIDGEPORT, { body });
    expect(response.status).toBe(200);
  });

  it("keeps a hung request open until the client aborts, creating nothing", async () => {
    const running = await start([{ provider: "bridgeport", fault: "hang" }]);
    const signal = AbortSignal.timeout(100);
    await expect(call(running, "POST", BRIDGEPORT, { body, signal })).rejects.toThrow();
    expect(signal.aborted).toBe(true);
    expect(running.state.stats().creations.bridgeport).toEqual({});
  });

  it("ends hung requests when it closes", async () => {
    const running = await start([{ provider: "*", operation: "*", fault: "hang" }]);
    const hung = call(running, "GET", BRIDGEPORT);
    await new Promise((resolve) => setTimeout(resolve, 50));
    await running.close();
    sandbox = undefined;
    await expect(hung).rejects.toThrow();
  });

  it("drops the connection without creating anything", async () => {
    const running = await start([{ provider: "bridgeport", fault: "drop", times: 1 }]);
    await expect(call(running, "POST", BRIDGEPORT, { body })).rejects.toThrow();
    expect(running.state.stats().creations.bridgeport).toEqual({});
    expect((await call(running, "POST", BRIDGEPORT, { body })).status).toBe(200);
  });

  it("loses the answer of a create that happened, exactly once", async () => {
    const running = await start([{ provider: "prisma", fault: "lost_response", times: 1 }]);
    const created = { projectId: "proj_cabc12345678", logicalId: "tenant-a" };
    await expect(call(running, "POST", "/prisma/v1/databases", { body: created })).rejects.toThrow();
    expect(running.state.stats().creations.prisma).toEqual({ "proj_cabc12345678/tenant-a": 1 });
    const found = await call(running, "GET", "/prisma/v1/databases?logicalId=tenant-a");
    expect(((await found.json()) as { data: unknown[] }).data).toHaveLength(1);
    const retry = await call(running, "POST", "/prisma/v1/databases", { body: created });
    expect(retry.status).toBe(409);
  });

  it("replays a lost BRIDGEPORT answer for the same Idempotency-Key", async () => {
    const running = await start([{ provider: "bridgeport", fault: "lost_response", times: 1 }]);
    const headers = { "idempotency-key": "job-1" };
    await expect(call(running, "POST", BRIDGEPORT, { body, headers })).rejects.toThrow();
    const retry = await call(running, "POST", BRIDGEPORT, { body, headers });
    expect(retry.status).toBe(200);
    expect(retry.headers.get("idempotent-replayed")).toBe("true");
    expect(running.state.stats().creations.bridgeport).toEqual({ "env_1/tenant-a": 1 });
  });

  it("answers a malformed body over HTTP", async () => {
    const running = await start([{ provider: "bridgeport", fault: "malformed" }]);
    const response = await call(running, "POST", BRIDGEPORT, { body });
    expect(response.status).toBe(200);
    await expect(response.json()).rejects.toThrow();
  });
});
