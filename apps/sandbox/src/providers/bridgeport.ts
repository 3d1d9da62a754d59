import type { Context } from "hono";
import { Hono } from "hono";
import { z } from "zod";
import type { ProviderModule, SandboxContext, SandboxEnv } from "../context.ts";
import { json, providerError } from "../errors.ts";
import { randomId } from "../ids.ts";
import { admit, type Call, createCall, withFaults } from "../provider-call.ts";
import { invalidInput, readJson } from "../validation.ts";
import { type Admission, createIdempotencyLedger } from "./bridgeport-idempotency.ts";

// BRIDGEPORT (self-hosted): databases per environment, names unique in each.
// Published document: bridgeport-openapi.json (the install's GET /openapi.json).
// The sandbox keeps its own copy of the provider's schemas on purpose: written apart from
// provider-client's, a mistake in one shows up as a failing test instead of agreeing with itself.
// (It could not import them anyway: provider-client's tests run against this sandbox.)

/** The create body. Strict: BRIDGEPORT rejects keys it does not know. */
const createDatabaseSchema = z.strictObject({
  name: z.string().min(1),
  type: z.string().min(1),
  databaseTypeId: z.string().optional(),
  host: z.string().optional(),
  port: z.number().optional(),
  databaseName: z.string().optional(),
  username: z.string().optional(),
  password: z.string().optional(),
  filePath: z.string().optional(),
  useSsl: z.boolean().optional(),
  serverId: z.string().optional(),
  backupStorageType: z.enum(["local", "spaces"]).optional(),
  backupLocalPath: z.string().optional(),
  backupSpacesBucket: z.string().optional(),
  backupSpacesPrefix: z.string().optional(),
  backupFormat: z.enum(["plain", "custom", "tar"]).optional(),
  backupCompression: z.enum(["none", "gzip"]).optional(),
  backupCompressionLevel: z.number().min(1).max(9).optional(),
  pgDumpOptions: z
    .strictObject({
      noOwner: z.boolean().optional(),
      clean: z.boolean().optional(),
      ifExists: z.boolean().optional(),
      schemaOnly: z.boolean().optional(),
      dataOnly: z.boolean().optional(),
    })
    .optional(),
  pgDumpTimeoutMs: z.number().min(30_000).max(3_600_000).optional(),
});

const listQuerySchema = z.object({
  limit: z.coerce.number().int().min(0).default(50),
  offset: z.coerce.number().int().min(0).default(0),
});

const MAX_LIMIT = 500;

/** A database as BRIDGEPORT returns it: never with its password. */
interface Database {
  id: string;
  name: string;
  type: string;
  environmentId: string;
  databaseTypeId: string | null;
  host: string | null;
  port: number | null;
  databaseName: string | null;
  username: string | null;
  useSsl: boolean;
  serverId: string | null;
  backupStorageType: "local" | "spaces";
  createdAt: string;
  updatedAt: string;
}

const CREATE: Call = { provider: "bridgeport", operation: "create" };
const FIND: Call = { provider: "bridgeport", operation: "find" };

export function bridgeportProvider(ctx: SandboxContext): ProviderModule {
  // Databases per environment, by name, in creation order.
  let environments = new Map<string, Map<string, Database>>();
  const ledger = createIdempotencyLedger();
  const routes = new Hono<SandboxEnv>();

  const create = (envId: string, input: unknown): Response => {
    const missing = missingEnvironment(envId);
    if (missing !== null) return missing;
    const parsed = createDatabaseSchema.safeParse(input);
    if (!parsed.success) return providerError("bridgeport", invalidInput(parsed.error));
    const request = parsed.data;
    const databases = environments.get(envId) ?? new Map<string, Database>();
    environments.set(envId, databases);
    if (databases.has(request.name)) {
      return providerError("bridgeport", {
        status: 409,
        message: `A database named "${request.name}" already exists in this environment.`,
        field: "name",
      });
    }
    const now = new Date().toISOString();
    const database: Database = {
      id: randomId("db_"),
      name: request.name,
      type: request.type,
      environmentId: envId,
      databaseTypeId: request.databaseTypeId ?? null,
      host: request.host ?? null,
      port: request.port ?? null,
      databaseName: request.databaseName ?? null,
      username: request.username ?? null,
      useSsl: request.useSsl ?? false,
      serverId: request.serverId ?? null,
      backupStorageType: request.backupStorageType ?? "local",
      createdAt: now,
      updatedAt: now,
    };
    databases.set(request.name, database);
    ctx.stats.countCreation("bridgeport", `${envId}/${request.name}`);
    return json(200, { database });
  };

  const list = (c: Context<SandboxEnv>): Response => {
    const envId = c.req.param("envId") ?? "";
    const missing = missingEnvironment(envId);
    if (missing !== null) return missing;
    const query = listQuerySchema.safeParse(c.req.query());
    if (!query.success) return providerError("bridgeport", invalidInput(query.error));
    const limit = Math.min(query.data.limit, MAX_LIMIT);
    const { offset } = query.data;
    const all = [...(environments.get(envId)?.values() ?? [])];
    return json(200, { databases: all.slice(offset, offset + limit), total: all.length, limit, offset });
  };

  routes.post("/api/environments/:envId/databases", async (c) => {
    const refusal = admit(c, ctx, CREATE);
    if (refusal !== null) return refusal;
    const body = await readJson(c);
    if (!body.ok) return providerError("bridgeport", body.detail);
    const envId = c.req.param("envId");
    const key = c.req.header("idempotency-key");
    if (key === undefined) {
      return (await withFaults(c, ctx, createCall("bridgeport", body.value), () => create(envId, body.value))).response;
    }
    const admission = ledger.begin(envId, key, body.value);
    if (admission.kind !== "new") return refuseOrReplay(admission);
    const outcome = await withFaults(c, ctx, createCall("bridgeport", body.value), () => create(envId, body.value));
    await ledger.finish(envId, key, outcome.handled);
    return outcome.response;
  });

  routes.get("/api/environments/:envId/databases", async (c) => {
    const refusal = admit(c, ctx, FIND);
    if (refusal !== null) return refusal;
    const outcome = await withFaults(c, ctx, FIND, () => list(c));
    return outcome.response;
  });

  return {
    routes,
    reset() {
      environments = new Map();
      ledger.reset();
    },
  };
}

function refuseOrReplay(admission: Exclude<Admission, { kind: "new" }>): Response {
  switch (admission.kind) {
    case "replay":
      return admission.response;
    case "reused":
      return providerError("bridgeport", {
        status: 409,
        code: "IDEMPOTENCY_KEY_REUSED",
        message: "This Idempotency-Key was already used with a different request.",
        field: "Idempotency-Key",
        hint: "Use a new key for a different request.",
      });
    case "in_progress":
      return providerError("bridgeport", {
        status: 409,
        message: "A request with this Idempotency-Key is still being processed.",
        field: "Idempotency-Key",
        hint: "Retry after a short delay.",
        headers: { "retry-after": "1" },
      });
  }
}

/** Any environment exists, except the ones a test names `env_missing…` to get a 404. */
function missingEnvironment(envId: string): Response | null {
  if (!envId.startsWith("env_missing")) return null;
  return providerError("bridgeport", { status: 404, message: `Environment "${envId}" not found.` });
}
