import { describe, expect, it } from "vitest";
import type { JobResult } from "./job-data.ts";
import { outcomeOfResult, readJobResult, storedJobResult } from "./job-result.ts";

// A finished job's result as this version stores it (deflated against a dictionary) and as
// earlier versions did (the result itself): both read the same.
const bridgeport: JobResult = {
  outcome: "created",
  resource: {
    id: "db_p0ivzkb6e7q03c6xopjd",
    name: "tenant_0",
    type: "postgres",
    environmentId: "env_prod",
    databaseTypeId: null,
    host: null,
    port: null,
    databaseName: null,
    username: null,
    useSsl: false,
    serverId: null,
    backupStorageType: "local",
    createdAt: "2026-11-26T21:21:20.571Z",
    updatedAt: "2026-11-26T21:21:20.571Z",
  },
};
const prisma: JobResult = {
  outcome: "deduplicated",
  resource: { id: "db_1", name: "main", status: "ready", connections: [{ id: "c1", endpoints: {} }] },
  secrets: "enc:v1:68ca0ac8:ByZsw8kPHJlnheBk:8gxzN4C8H9liBBO0kLSk5Q:GRjqYmKsosYFUy109I4",
};

describe("stored job results", () => {
  it("reads back every result it stores, through BullMQ's JSON", () => {
    for (const result of [bridgeport, prisma, { outcome: "created" as const, resource: {} }]) {
      const stored = JSON.parse(JSON.stringify(storedJobResult(result)));
      expect(readJobResult(stored)).toEqual(result);
      expect(outcomeOfResult(stored)).toBe(result.outcome);
    }
  });

  it("reads a result stored by an earlier version, which stored the result itself", () => {
    const earlier = { ...bridgeport, completedAt: "2026-11-26T21:21:20.600Z" };
    expect(readJobResult(JSON.parse(JSON.stringify(earlier)))).toEqual(earlier);
    expect(outcomeOfResult(earlier)).toBe("created");
  });

  it("stores a BRIDGEPORT result in at most 125 bytes of JSON, so Redis keeps it in a 128-byte allocation", () => {
    expect(JSON.stringify(bridgeport).length).toBeGreaterThan(300);
    expect(JSON.stringify(storedJobResult(bridgeport)).length).toBeLessThanOrEqual(125);
  });

  it("reads nothing from a value that is neither form", () => {
    for (const value of [null, 42, "created", "created:9:AAAA", "created:1:!!", "created:1:AAAA", { outcome: "won" }]) {
      expect(readJobResult(value)).toBeUndefined();
    }
    expect(outcomeOfResult("other:1:AAAA")).toBeUndefined();
  });
});
