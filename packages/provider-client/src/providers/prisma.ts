import { createHash } from "node:crypto";
import { createManagementApiClient, type operations } from "@prisma/management-api-sdk";
import { classifyHttpFailure } from "../classify.ts";
import type { ParsedAccountConfig } from "../config.ts";
import { parseProviderInput } from "../inputs.ts";
import {
  type PrismaConnection,
  type PrismaDatabase,
  prismaConnectionCreatedSchema,
  prismaConnectionListSchema,
  prismaCreatedSchema,
  prismaDatabaseListSchema,
} from "../schemas/prisma.ts";
import { type HttpAnswer, parseAnswer, retryLookup, withDeadline } from "../transport.ts";
import type { ProviderClient, ProvisionedDatabase } from "../types.ts";

// zod leaves absent optional keys absent, so the parsed input is the SDK's body type even
// though exactOptionalPropertyTypes cannot see it.
type CreateBody = NonNullable<operations["postV1Databases"]["requestBody"]>["content"]["application/json"];

/** The logicalId Provisioner sends when the caller set none: the same for every retry of one request. */
export function logicalIdFor(idempotencyKey: string): string {
  return `provisioner-${createHash("sha256").update(idempotencyKey).digest("hex").slice(0, 32)}`;
}

/**
 * Uses `@prisma/management-api-sdk`'s raw client: its openapi-fetch core hands back the
 * status, the headers and the error body untouched, which is all classification needs.
 * Bodies are read as text so that a malformed 2xx is our own error kind, not a crash.
 */
export function createPrismaClient(config: ParsedAccountConfig<"prisma">): ProviderClient<"prisma"> {
  const api = createManagementApiClient({
    baseUrl: config.url.replace(/\/+$/, ""),
    token: config.token,
  });

  return {
    provider: "prisma",
    refusesDuplicates: true,
    identityOf: (input, { idempotencyKey }) => ({
      projectId: input.projectId,
      logicalId: input.logicalId ?? logicalIdFor(idempotencyKey),
      branchId: input.branchId,
    }),

    async createDatabase(input, { idempotencyKey, signal }) {
      const parsed = parseProviderInput("prisma", input);
      const body = {
        ...parsed,
        logicalId: parsed.logicalId ?? logicalIdFor(idempotencyKey),
      } as CreateBody;
      const answer = await withDeadline("prisma", config.timeoutMs, signal, async (deadline) =>
        answerOf(await api.POST("/v1/databases", { body, signal: deadline, parseAs: "text" })),
      );
      return prismaDatabase(parseAnswer("prisma", answer, prismaCreatedSchema).data);
    },

    async findDatabase({ projectId, logicalId, branchId }, options = {}) {
      const query = branchId === undefined ? { projectId, logicalId } : { projectId, logicalId, branchId };
      const answer = await retryLookup(
        () =>
          withDeadline("prisma", config.timeoutMs, options.signal, async (deadline) =>
            answerOf(await api.GET("/v1/databases", { params: { query }, signal: deadline, parseAs: "text" })),
          ),
        options.signal,
      );
      const found = parseAnswer("prisma", answer, prismaDatabaseListSchema).data.find(
        (database) => database.logicalId === logicalId,
      );
      return found ? prismaDatabase(found) : null;
    },

    // Connection strings exist only in the answer that made them. Revoking what an earlier
    // call left under this label before minting keeps one set per label, whatever was lost.
    async mintCredentials(database, { label, signal }) {
      const databaseId = database.id as string;
      for (const connectionId of await connectionIdsNamed(databaseId, label, signal)) {
        await retryLookup(() => deleteConnection(connectionId, signal), signal);
      }
      const answer = await withDeadline("prisma", config.timeoutMs, signal, async (deadline) =>
        answerOf(
          await api.POST("/v1/databases/{databaseId}/connections", {
            params: { path: { databaseId } },
            body: { name: label },
            signal: deadline,
            parseAs: "text",
          }),
        ),
      );
      return connectionSecrets(parseAnswer("prisma", answer, prismaConnectionCreatedSchema).data, "");
    },

    close: async () => {},
  };

  async function connectionIdsNamed(databaseId: string, name: string, signal: AbortSignal | undefined) {
    const ids: string[] = [];
    for (let cursor: string | null = null; ; ) {
      const query: { cursor?: string } = cursor === null ? {} : { cursor };
      const answer = await retryLookup(
        () =>
          withDeadline("prisma", config.timeoutMs, signal, async (deadline) =>
            answerOf(
              await api.GET("/v1/databases/{databaseId}/connections", {
                params: { path: { databaseId }, query },
                signal: deadline,
                parseAs: "text",
              }),
            ),
          ),
        signal,
      );
      const page = parseAnswer("prisma", answer, prismaConnectionListSchema);
      ids.push(...page.data.filter((connection) => connection.name === name).map((connection) => connection.id));
      if (!page.pagination.hasMore || page.pagination.nextCursor === null) return ids;
      cursor = page.pagination.nextCursor;
    }
  }

  /** Safe to repeat: a connection already gone is as good as deleted. */
  async function deleteConnection(id: string, signal: AbortSignal | undefined): Promise<void> {
    await withDeadline("prisma", config.timeoutMs, signal, async (deadline) => {
      const outcome = await api.DELETE("/v1/connections/{id}", {
        params: { path: { id } },
        signal: deadline,
        parseAs: "text",
      });
      if (outcome.response.status === 404) return;
      answerOf(outcome);
    });
  }
}

/**
 * The SDK's outcome as a plain answer; a non-2xx becomes the classified error. With
 * `parseAs: "text"` the SDK hands back the raw body, whatever its types claim.
 */
function answerOf(outcome: { data?: unknown; error?: unknown; response: Response }): HttpAnswer {
  const { data, error, response } = outcome;
  if (!response.ok) {
    throw classifyHttpFailure({ provider: "prisma", status: response.status, headers: response.headers, body: error });
  }
  return { status: response.status, headers: response.headers, text: typeof data === "string" ? data : "" };
}

const statusOf: Record<PrismaDatabase["status"], ProvisionedDatabase["status"]> = {
  ready: "ready",
  provisioning: "provisioning",
  recovering: "provisioning",
  failure: "failed",
};

/** Moves connection strings and passwords out of the resource into `secrets`. */
function prismaDatabase(database: PrismaDatabase): ProvisionedDatabase {
  const secrets: Record<string, string> = {};
  const connections = database.connections.map((connection, index) => {
    const suffix = index === 0 ? "" : `_${index}`;
    Object.assign(secrets, connectionSecrets(connection, suffix));
    return withoutSecrets(connection);
  });
  return {
    id: database.id,
    name: database.name,
    status: statusOf[database.status],
    resource: { ...database, connections },
    secrets,
  };
}

/** A connection's strings and password, keyed as a create's result secrets are. */
function connectionSecrets(connection: PrismaConnection, suffix: string): Record<string, string> {
  const secrets: Record<string, string> = {};
  for (const [kind, endpoint] of Object.entries(connection.endpoints)) {
    const connectionString = (endpoint as { connectionString?: string } | undefined)?.connectionString;
    if (connectionString) secrets[`${kind}ConnectionString${suffix}`] = connectionString;
  }
  if (connection.directConnection?.pass) secrets[`directPassword${suffix}`] = connection.directConnection.pass;
  return secrets;
}

function withoutSecrets(connection: PrismaConnection) {
  const endpoints = Object.fromEntries(
    Object.entries(connection.endpoints).map(([kind, endpoint]) => {
      if (!endpoint) return [kind, endpoint];
      const { connectionString: _, ...rest } = endpoint as { connectionString?: string };
      return [kind, rest];
    }),
  );
  const { directConnection, ...rest } = connection;
  const shown = directConnection ? { ...directConnection, pass: undefined } : directConnection;
  return { ...rest, endpoints, ...(shown === undefined ? {} : { directConnection: shown }) };
}
