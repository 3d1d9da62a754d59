import { createHash } from "node:crypto";
import { createManagementApiClient, type operations } from "@prisma/management-api-sdk";
import { classifyHttpFailure } from "../classify.ts";
import type { ParsedAccountConfig } from "../config.ts";
import { parseProviderInput } from "../inputs.ts";
import { type PrismaDatabase, prismaCreatedSchema, prismaDatabaseListSchema } from "../schemas/prisma.ts";
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

    close: async () => {},
  };
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
    const endpoints = Object.fromEntries(
      Object.entries(connection.endpoints).map(([kind, endpoint]) => {
        if (!endpoint) return [kind, endpoint];
        const { connectionString, ...rest } = endpoint as { connectionString?: string };
        if (connectionString) secrets[`${kind}ConnectionString${suffix}`] = connectionString;
        return [kind, rest];
      }),
    );
    const { directConnection, ...rest } = connection;
    if (directConnection?.pass) secrets[`directPassword${suffix}`] = directConnection.pass;
    const shown = directConnection ? { ...directConnection, pass: undefined } : directConnection;
    return { ...rest, endpoints, ...(shown === undefined ? {} : { directConnection: shown }) };
  });
  return {
    id: database.id,
    name: database.name,
    status: statusOf[database.status],
    resource: { ...database, connections },
    secrets,
  };
}
