import { describe, expect, it } from "vitest";
import { TOKENS, testSandbox } from "../test-support.ts";

const DATABASES = "/prisma/v1/databases";
const PROJECT = "proj_cabc12345678";

interface Database {
  id: string;
  status: string;
  name: string;
  logicalId: string | null;
  connections: { endpoints: { direct: { connectionString?: string } } }[];
}
type Envelope = { error: { code: string; message: string; hint?: string } };

describe("prisma create", () => {
  it("answers 201 {data} with connection strings and a ready status", async () => {
    const sandbox = testSandbox();
    const response = await sandbox.call("POST", DATABASES, {
      body: { projectId: PROJECT, name: "tenant-a", region: "eu-west-3", logicalId: "tenant-a" },
    });
    expect(response.status).toBe(201);
    const { data } = (await response.json()) as { data: Database & Record<string, unknown> };
    expect(data).toMatchObject({
      type: "database",
      url: `https://api.prisma.io/v1/databases/${data.id}`,
      name: "tenant-a",
      status: "ready",
      isDefault: false,
      project: { id: PROJECT, name: PROJECT },
      region: { id: "eu-west-3", name: "eu-west-3" },
      source: { type: "empty" },
      branchId: null,
      logicalId: "tenant-a",
    });
    expect(data.id).toMatch(/^db_[a-z0-9]+$/);
    expect(data.defaultConnectionId).toMatch(/^con_[a-z0-9]+$/);
    const direct = data.connections[0]?.endpoints.direct.connectionString;
    expect(direct).toMatch(/^postgres:\/\/[^:]+:[^@]+@db\.prisma\.io:5432\/postgres\?sslmode=require$/);
  });

  it("reports provisioning until prismaProvisioningMs has passed, then ready", async () => {
    const sandbox = testSandbox({ prismaProvisioningMs: 80 });
    const created = await sandbox.call("POST", DATABASES, { body: { projectId: PROJECT } });
    const { data } = (await created.json()) as { data: Database };
    expect(data.status).toBe("provisioning");
    await new Promise((resolve) => setTimeout(resolve, 100));
    const later = await sandbox.call("GET", `${DATABASES}/${data.id}`);
    expect(((await later.json()) as { data: Database }).data.status).toBe("ready");
  });

  it("answers 409 conflict for a logicalId already on the branch, and allows it on another", async () => {
    const sandbox = testSandbox();
    const body = { projectId: PROJECT, logicalId: "tenant-a" };
    await sandbox.call("POST", DATABASES, { body });
    const again = await sandbox.call("POST", DATABASES, { body });
    expect(again.status).toBe(409);
    expect(await again.json()).toEqual({
      error: { code: "conflict", message: 'A database with logicalId "tenant-a" already exists on this branch.' },
    });
    expect(again.headers.get("x-request-id")).toMatch(/^req_/);
    const otherBranch = await sandbox.call("POST", DATABASES, { body: { ...body, branchId: "br_1" } });
    expect(otherBranch.status).toBe(201);
  });

  it("answers 400 invalid_request naming the field", async () => {
    const sandbox = testSandbox();
    const cases = [
      [{}, "projectId"],
      [{ projectId: "has spaces" }, "projectId"],
      [{ projectId: PROJECT, region: "mars-1" }, "region"],
      [{ projectId: PROJECT, branchId: null }, "branchId"],
      [{ projectId: PROJECT, logicalId: "a", branchGitName: "feature" }, "logicalId"],
      [{ projectId: PROJECT, source: { type: "backup", databaseId: "db_1" } }, "source.backupId"],
    ] as const;
    for (const [body, field] of cases) {
      const response = await sandbox.call("POST", DATABASES, { body });
      expect(response.status).toBe(400);
      const { error } = (await response.json()) as Envelope;
      expect(error.code).toBe("invalid_request");
      expect(error.message).toContain(`"${field}"`);
    }
  });

  it("answers 413 payload_too_large to a body over 64 KiB", async () => {
    const sandbox = testSandbox();
    const body = { projectId: PROJECT, name: "x".repeat(70_000) };
    const response = await sandbox.call("POST", DATABASES, { body });
    expect(response.status).toBe(413);
    expect(((await response.json()) as Envelope).error.code).toBe("payload_too_large");
  });

  it("answers 404 not_found for a project named proj_missing…", async () => {
    const sandbox = testSandbox();
    const response = await sandbox.call("POST", DATABASES, { body: { projectId: "proj_missing1" } });
    expect(response.status).toBe(404);
    expect(((await response.json()) as Envelope).error.code).toBe("not_found");
  });

  it("answers 401 unauthorized and 403 forbidden with a read-only token", async () => {
    const sandbox = testSandbox();
    const body = { projectId: PROJECT };
    const anonymous = await sandbox.call("POST", DATABASES, { token: null, body });
    expect(anonymous.status).toBe(401);
    expect(((await anonymous.json()) as Envelope).error.code).toBe("unauthorized");
    const reader = await sandbox.call("POST", DATABASES, { token: TOKENS.prisma.read, body });
    expect(reader.status).toBe(403);
    expect(((await reader.json()) as Envelope).error.code).toBe("forbidden");
  });
});

describe("prisma look-ups", () => {
  it("finds a database by projectId and logicalId, without connection strings", async () => {
    const sandbox = testSandbox();
    await sandbox.call("POST", DATABASES, { body: { projectId: PROJECT, logicalId: "a" } });
    await sandbox.call("POST", DATABASES, { body: { projectId: PROJECT, logicalId: "b" } });
    const response = await sandbox.call("GET", `${DATABASES}?projectId=${PROJECT}&logicalId=b`, {
      token: TOKENS.prisma.read,
    });
    expect(response.status).toBe(200);
    const body = (await response.json()) as { data: Database[]; pagination: unknown };
    expect(body.data.map((db) => db.logicalId)).toEqual(["b"]);
    expect(body.pagination).toEqual({ nextCursor: null, hasMore: false });
    expect(JSON.stringify(body)).not.toContain("connectionString");
  });

  it("pages with a cursor", async () => {
    const sandbox = testSandbox();
    for (const logicalId of ["a", "b", "c"]) {
      await sandbox.call("POST", DATABASES, { body: { projectId: PROJECT, logicalId } });
    }
    const first = (await (await sandbox.call("GET", `${DATABASES}?limit=2`)).json()) as {
      data: Database[];
      pagination: { nextCursor: string; hasMore: boolean };
    };
    expect(first.data).toHaveLength(2);
    expect(first.pagination.hasMore).toBe(true);
    const rest = (await (
      await sandbox.call("GET", `${DATABASES}?limit=2&cursor=${first.pagination.nextCursor}`)
    ).json()) as { data: Database[]; pagination: { hasMore: boolean } };
    expect(rest.data.map((db) => db.logicalId)).toEqual(["c"]);
    expect(rest.pagination.hasMore).toBe(false);
  });

  it("answers 404 for an unknown database id", async () => {
    const sandbox = testSandbox();
    const response = await sandbox.call("GET", `${DATABASES}/db_unknown`);
    expect(response.status).toBe(404);
    expect(((await response.json()) as Envelope).error.code).toBe("not_found");
  });
});

describe("prisma connections", () => {
  const connectionsOf = (id: string) => `${DATABASES}/${id}/connections`;
  type Connection = { id: string; name: string; endpoints: { direct: { connectionString?: string } } };

  async function newDatabase(sandbox: ReturnType<typeof testSandbox>): Promise<Database & { id: string }> {
    const response = await sandbox.call("POST", DATABASES, { body: { projectId: PROJECT } });
    return ((await response.json()) as { data: Database & { id: string } }).data;
  }

  it("mints a named connection with its own connection strings, shown only in that answer", async () => {
    const sandbox = testSandbox();
    const database = await newDatabase(sandbox);
    const minted = await sandbox.call("POST", connectionsOf(database.id), { body: { name: "job-1" } });
    expect(minted.status).toBe(200);
    const { data } = (await minted.json()) as { data: Connection & Record<string, unknown> };
    expect(data).toMatchObject({ type: "connection", name: "job-1", kind: "postgres", database: { id: database.id } });
    expect(data.id).toMatch(/^con_[a-z0-9]+$/);
    const direct = data.endpoints.direct.connectionString;
    expect(direct).toMatch(/^postgres:\/\/[^:]+:[^@]+@db\.prisma\.io:5432\/postgres\?sslmode=require$/);
    expect(direct).not.toBe(database.connections[0]?.endpoints.direct.connectionString);
    expect(data.connectionString).toBe(direct);

    const listed = await sandbox.call("GET", connectionsOf(database.id), { token: TOKENS.prisma.read });
    const list = (await listed.json()) as { data: Connection[]; pagination: unknown };
    expect(list.data.map((connection) => connection.name)).toEqual(["default", "job-1"]);
    expect(list.pagination).toEqual({ nextCursor: null, hasMore: false });
    expect(JSON.stringify(list)).not.toContain("postgres://");
  });

  it("deletes a connection once, then answers 404", async () => {
    const sandbox = testSandbox();
    const database = await newDatabase(sandbox);
    const minted = await sandbox.call("POST", connectionsOf(database.id), { body: { name: "job-1" } });
    const { data } = (await minted.json()) as { data: Connection };
    expect((await sandbox.call("DELETE", `/prisma/v1/connections/${data.id}`)).status).toBe(204);
    const again = await sandbox.call("DELETE", `/prisma/v1/connections/${data.id}`);
    expect(again.status).toBe(404);
    expect(((await again.json()) as Envelope).error.code).toBe("not_found");
    const list = (await (await sandbox.call("GET", connectionsOf(database.id))).json()) as { data: Connection[] };
    expect(list.data.map((connection) => connection.name)).toEqual(["default"]);
  });

  it("checks tokens, the body and the database", async () => {
    const sandbox = testSandbox();
    const database = await newDatabase(sandbox);
    const body = { name: "job-1" };
    expect((await sandbox.call("POST", connectionsOf(database.id), { token: null, body })).status).toBe(401);
    expect((await sandbox.call("POST", connectionsOf(database.id), { token: TOKENS.prisma.read, body })).status).toBe(
      403,
    );
    expect((await sandbox.call("DELETE", "/prisma/v1/connections/con_x", { token: TOKENS.prisma.read })).status).toBe(
      403,
    );
    const unnamed = await sandbox.call("POST", connectionsOf(database.id), { body: {} });
    expect(unnamed.status).toBe(400);
    expect(((await unnamed.json()) as Envelope).error.message).toContain('"name"');
    const missing = await sandbox.call("POST", connectionsOf("db_unknown"), { body });
    expect(missing.status).toBe(404);
    expect((await sandbox.call("GET", connectionsOf("db_unknown"))).status).toBe(404);
  });
});
