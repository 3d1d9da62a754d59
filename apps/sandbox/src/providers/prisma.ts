import type { Context } from "hono";
import { Hono } from "hono";
import { z } from "zod";
import type { ProviderModule, SandboxContext, SandboxEnv } from "../context.ts";
import { json, providerError } from "../errors.ts";
import { randomId } from "../ids.ts";
import { admit, type Call, createCall, withFaults } from "../provider-call.ts";
import { invalidInput, readJson } from "../validation.ts";
import {
  type DatabaseRecord,
  newConnectionRecord,
  newDatabaseRecord,
  presentConnection,
  presentDatabase,
} from "./prisma-database.ts";

// Prisma Management API: Prisma Postgres databases per project and branch.
// Contract: @prisma/management-api-sdk 1.80 types (the mirrored OpenAPI document predates
// branchId, branchGitName, logicalId and the 409/413 answers).

const PROJECT_ID = /^(proj_)?([cC][^\s-]{8,}|[a-z0-9]+)$/;
const MAX_BODY_BYTES = 64 * 1024;
const REGIONS = [
  "us-east-1",
  "us-west-1",
  "eu-west-3",
  "eu-central-1",
  "ap-northeast-1",
  "ap-southeast-1",
  "inherit",
] as const;

const notNull = (field: string) =>
  z.string({
    error: (issue) =>
      issue.input === null ? `${field} may not be null: every database belongs to a branch` : undefined,
  });

const createDatabaseSchema = z
  .object({
    projectId: z.string().regex(PROJECT_ID),
    region: z.enum(REGIONS).default("us-east-1"),
    name: z.string().min(1).optional(),
    isDefault: z.boolean().default(false),
    source: z
      .discriminatedUnion("type", [
        z.object({ type: z.literal("empty") }),
        z.object({ type: z.literal("backup"), databaseId: z.string(), backupId: z.string() }),
        z.object({ type: z.literal("database"), databaseId: z.string() }),
      ])
      .optional(),
    branchId: notNull("branchId").optional(),
    branchGitName: notNull("branchGitName").optional(),
    logicalId: z.string().min(1).optional(),
  })
  .superRefine((body, check) => {
    if (body.logicalId !== undefined && body.branchGitName !== undefined) {
      check.addIssue({
        code: "custom",
        path: ["logicalId"],
        message: "logicalId cannot be combined with branchGitName; pass branchId instead",
      });
    }
    if (body.branchId !== undefined && body.branchGitName !== undefined) {
      check.addIssue({
        code: "custom",
        path: ["branchGitName"],
        message: "branchGitName and branchId are mutually exclusive",
      });
    }
  });

const listQuerySchema = z.object({
  projectId: z.string().regex(PROJECT_ID).optional(),
  logicalId: z.string().optional(),
  branchId: z.string().optional(),
  branchGitName: z.string().optional(),
  cursor: z.string().optional(),
  limit: z.coerce.number().int().min(1).max(1000).default(100),
});

const createConnectionSchema = z.object({ name: z.string().min(1) });

const pageQuerySchema = z.object({
  cursor: z.string().optional(),
  limit: z.coerce.number().int().min(1).max(1000).default(100),
});

const CREATE: Call = { provider: "prisma", operation: "create" };
const FIND: Call = { provider: "prisma", operation: "find" };
// Minting (admitted as CREATE) and revoking credentials are writes: a write token, `create` faults.
const REVOKE: Call = { provider: "prisma", operation: "create" };

/** A page of `items` after the one whose id is `cursor`, or null when the cursor is unknown. */
function pageOf<T extends { id: string }>(items: readonly T[], cursor: string | undefined, limit: number) {
  let start = 0;
  if (cursor !== undefined) {
    const at = items.findIndex((item) => item.id === cursor);
    if (at === -1) return null;
    start = at + 1;
  }
  const page = items.slice(start, start + limit);
  const hasMore = start + limit < items.length;
  return { page, pagination: { nextCursor: hasMore ? (page.at(-1)?.id ?? null) : null, hasMore } };
}

const unknownCursor = () =>
  providerError("prisma", { status: 400, message: 'Invalid field "cursor": unknown cursor.' });

export function prismaProvider(ctx: SandboxContext): ProviderModule {
  let databases: DatabaseRecord[] = [];
  const routes = new Hono<SandboxEnv>();

  const create = (input: unknown): Response => {
    const parsed = createDatabaseSchema.safeParse(input);
    if (!parsed.success) return providerError("prisma", invalidInput(parsed.error));
    const body = parsed.data;
    if (body.projectId.startsWith("proj_missing")) {
      return providerError("prisma", { status: 404, message: `Project "${body.projectId}" not found.` });
    }
    const branch = body.branchId ?? body.branchGitName ?? "main";
    const logicalId = body.logicalId ?? null;
    const taken = (db: DatabaseRecord) =>
      db.projectId === body.projectId && db.branch === branch && db.logicalId === logicalId;
    if (logicalId !== null && databases.some(taken)) {
      return providerError("prisma", {
        status: 409,
        message: `A database with logicalId "${logicalId}" already exists on this branch.`,
      });
    }
    const record = newDatabaseRecord({
      name: body.name ?? randomId("database-", 8),
      projectId: body.projectId,
      branch,
      branchId: body.branchId ?? null,
      logicalId,
      // The sandbox's projects have no default region of their own.
      region: body.region === "inherit" ? "us-east-1" : body.region,
      isDefault: body.isDefault,
      source: body.source ?? { type: "empty" },
      provisioningMs: ctx.options.prismaProvisioningMs,
    });
    databases.push(record);
    ctx.stats.countCreation("prisma", `${record.projectId}/${logicalId ?? record.name}`);
    return json(201, { data: presentDatabase(record, true) });
  };

  const list = (c: Context<SandboxEnv>): Response => {
    const parsed = listQuerySchema.safeParse(c.req.query());
    if (!parsed.success) return providerError("prisma", invalidInput(parsed.error));
    const query = parsed.data;
    const wantedBranch = query.branchId ?? query.branchGitName;
    const matching = databases.filter(
      (db) =>
        (query.projectId === undefined || db.projectId === query.projectId) &&
        (query.logicalId === undefined || db.logicalId === query.logicalId) &&
        (wantedBranch === undefined || db.branch === wantedBranch),
    );
    const paged = pageOf(matching, query.cursor, query.limit);
    if (paged === null) return unknownCursor();
    return json(200, { data: paged.page.map((db) => presentDatabase(db, false)), pagination: paged.pagination });
  };

  routes.post("/v1/databases", async (c) => {
    const refusal = admit(c, ctx, CREATE);
    if (refusal !== null) return refusal;
    const body = await readJson(c, MAX_BODY_BYTES);
    if (!body.ok) return providerError("prisma", body.detail);
    return (await withFaults(c, ctx, createCall("prisma", body.value), () => create(body.value))).response;
  });

  routes.get("/v1/databases", async (c) => {
    const refusal = admit(c, ctx, FIND);
    if (refusal !== null) return refusal;
    return (await withFaults(c, ctx, FIND, () => list(c))).response;
  });

  routes.get("/v1/databases/:databaseId", async (c) => {
    const refusal = admit(c, ctx, FIND);
    if (refusal !== null) return refusal;
    const databaseId = c.req.param("databaseId");
    return (
      await withFaults(c, ctx, FIND, () => {
        const record = databases.find((db) => db.id === databaseId);
        if (record === undefined) {
          return providerError("prisma", { status: 404, message: `Database "${databaseId}" not found.` });
        }
        return json(200, { data: presentDatabase(record, false) });
      })
    ).response;
  });

  const databaseNotFound = (databaseId: string) =>
    providerError("prisma", { status: 404, message: `Database "${databaseId}" not found.` });

  // Prisma hands out a database's connection strings only when they are made: in the
  // create answer, or here. Each call makes one more connection with its own credentials.
  const createConnection = (databaseId: string, input: unknown): Response => {
    const record = databases.find((db) => db.id === databaseId);
    if (record === undefined) return databaseNotFound(databaseId);
    const parsed = createConnectionSchema.safeParse(input);
    if (!parsed.success) return providerError("prisma", invalidInput(parsed.error));
    const connection = newConnectionRecord(parsed.data.name);
    record.connections.push(connection);
    const shown = presentConnection(record, connection, true);
    const host = shown.endpoints.direct.host;
    return json(200, {
      data: {
        ...shown,
        // Deprecated fields the document still requires.
        connectionString: shown.endpoints.direct.connectionString,
        host,
        user: connection.user,
        pass: connection.password,
        directConnection: { host, user: connection.user, pass: connection.password },
      },
    });
  };

  const listConnections = (c: Context<SandboxEnv>, databaseId: string): Response => {
    const record = databases.find((db) => db.id === databaseId);
    if (record === undefined) return databaseNotFound(databaseId);
    const parsed = pageQuerySchema.safeParse(c.req.query());
    if (!parsed.success) return providerError("prisma", invalidInput(parsed.error));
    const paged = pageOf(record.connections, parsed.data.cursor, parsed.data.limit);
    if (paged === null) return unknownCursor();
    return json(200, {
      data: paged.page.map((connection) => presentConnection(record, connection, false)),
      pagination: paged.pagination,
    });
  };

  const deleteConnection = (connectionId: string): Response => {
    const record = databases.find((db) => db.connections.some((connection) => connection.id === connectionId));
    if (record === undefined) {
      return providerError("prisma", { status: 404, message: `Connection "${connectionId}" not found.` });
    }
    record.connections = record.connections.filter((connection) => connection.id !== connectionId);
    return new Response(null, { status: 204 });
  };

  routes.post("/v1/databases/:databaseId/connections", async (c) => {
    const refusal = admit(c, ctx, CREATE);
    if (refusal !== null) return refusal;
    const body = await readJson(c, MAX_BODY_BYTES);
    if (!body.ok) return providerError("prisma", body.detail);
    const databaseId = c.req.param("databaseId");
    // The body's `name` is the connection's, so a `namePrefix` fault rule can aim at it.
    const call = createCall("prisma", body.value);
    return (await withFaults(c, ctx, call, () => createConnection(databaseId, body.value))).response;
  });

  routes.get("/v1/databases/:databaseId/connections", async (c) => {
    const refusal = admit(c, ctx, FIND);
    if (refusal !== null) return refusal;
    const databaseId = c.req.param("databaseId");
    return (await withFaults(c, ctx, FIND, () => listConnections(c, databaseId))).response;
  });

  routes.delete("/v1/connections/:connectionId", async (c) => {
    const refusal = admit(c, ctx, REVOKE);
    if (refusal !== null) return refusal;
    const connectionId = c.req.param("connectionId");
    return (await withFaults(c, ctx, REVOKE, () => deleteConnection(connectionId))).response;
  });

  return {
    routes,
    reset() {
      databases = [];
    },
  };
}
