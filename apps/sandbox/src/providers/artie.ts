import { Hono } from "hono";
import { z } from "zod";
import type { ProviderModule, SandboxContext, SandboxEnv } from "../context.ts";
import { json, providerError } from "../errors.ts";
import { admit, type Call, createCall, withFaults } from "../provider-call.ts";
import { invalidInput, readJson } from "../validation.ts";

// Artie: creates a database through an unsaved connector configuration.
// Published document: artie-openapi.yaml, v1.0.76.

const nullableUuid = z.guid().nullable().optional();

/** PayloadsConnectorPayload. Every field optional; extra keys pass, as the document allows. */
const connectorSchema = z.looseObject({
  dataPlaneName: z.string().optional(),
  defaultDatabase: z.string().nullable().optional(),
  environmentUUID: nullableUuid,
  label: z.string().optional(),
  privateLinkUUID: nullableUuid,
  sharedConfig: z.record(z.string(), z.unknown()).nullable().optional(),
  snapshotPrivateLinkUUID: nullableUuid,
  sshTunnelUUID: nullableUuid,
  type: z.string().optional(),
  uuid: z.string().optional(),
});

/** RouterConnectorCreateDatabaseRequest. */
const createDatabaseSchema = z.looseObject({
  name: z.string().min(1),
  connector: connectorSchema,
});

type Connector = z.output<typeof connectorSchema>;

/**
 * The sandbox's notion of "the same target": the real API reaches a warehouse through
 * the connector's credentials, which the sandbox cannot follow.
 */
function connectorScope(connector: Connector): string {
  return connector.uuid ?? connector.type ?? "default";
}

const CREATE: Call = { provider: "artie", operation: "create" };
const FIND: Call = { provider: "artie", operation: "find" };

export function artieProvider(ctx: SandboxContext): ProviderModule {
  // Database names per connector scope, in creation order.
  let databases = new Map<string, Set<string>>();
  const routes = new Hono<SandboxEnv>();

  routes.post("/connectors/new-database", async (c) => {
    const refusal = admit(c, ctx, CREATE);
    if (refusal !== null) return refusal;
    const body = await readJson(c);
    if (!body.ok) return providerError("artie", body.detail);
    const outcome = await withFaults(c, ctx, createCall("artie", body.value), () => {
      const parsed = createDatabaseSchema.safeParse(body.value);
      if (!parsed.success) return providerError("artie", invalidInput(parsed.error));
      const { name, connector } = parsed.data;
      const scope = connectorScope(connector);
      const names = databases.get(scope) ?? new Set();
      databases.set(scope, names.add(name));
      // The document has no conflict answer: a repeated name is created "again" and
      // counted, so a test can see the duplicate.
      ctx.stats.countCreation("artie", `${scope}/${name}`);
      return new Response(null, { status: 204 });
    });
    return outcome.response;
  });

  routes.post("/connectors/databases", async (c) => {
    const refusal = admit(c, ctx, FIND);
    if (refusal !== null) return refusal;
    const body = await readJson(c);
    if (!body.ok) return providerError("artie", body.detail);
    const outcome = await withFaults(c, ctx, FIND, () => {
      const parsed = connectorSchema.safeParse(body.value);
      if (!parsed.success) return providerError("artie", invalidInput(parsed.error));
      const names = databases.get(connectorScope(parsed.data)) ?? new Set();
      return json(200, { items: [...names].map((name) => ({ name })), metadata: [] });
    });
    return outcome.response;
  });

  return {
    routes,
    reset() {
      databases = new Map();
    },
  };
}
