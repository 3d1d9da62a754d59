import type { z } from "zod";
import type { ParsedAccountConfig } from "../config.ts";
import { parseProviderInput } from "../inputs.ts";
import {
  bridgeportCreatedSchema,
  bridgeportDatabaseListSchema,
  type bridgeportDatabaseSchema,
} from "../schemas/bridgeport.ts";
import { parseAnswer, retryLookup, sendHttp } from "../transport.ts";
import type { ProviderClient, ProvisionedDatabase } from "../types.ts";

const pageSize = 500;

/** BRIDGEPORT dedupes by `Idempotency-Key` and keeps names unique per environment. */
export function createBridgeportClient(config: ParsedAccountConfig<"bridgeport">): ProviderClient<"bridgeport"> {
  const base = config.url.replace(/\/+$/, "");
  const call = {
    provider: "bridgeport",
    token: config.token,
    timeoutMs: config.timeoutMs,
  } as const;
  const databasesUrl = (envId: string) => `${base}/api/environments/${encodeURIComponent(envId)}/databases`;

  return {
    provider: "bridgeport",
    refusesDuplicates: true,
    identityOf: (input) => ({ envId: input.envId, name: input.name }),

    async createDatabase(input, { idempotencyKey, signal }) {
      const { envId, ...body } = parseProviderInput("bridgeport", input);
      const answer = await sendHttp({
        ...call,
        method: "POST",
        url: databasesUrl(envId),
        headers: { "idempotency-key": idempotencyKey },
        body,
        signal,
      });
      return bridgeportDatabase(parseAnswer("bridgeport", answer, bridgeportCreatedSchema).database);
    },

    async findDatabase({ envId, name }, options = {}) {
      for (let offset = 0; ; offset += pageSize) {
        const url = `${databasesUrl(envId)}?limit=${pageSize}&offset=${offset}`;
        const answer = await retryLookup(
          () => sendHttp({ ...call, method: "GET", url, signal: options.signal }),
          options.signal,
        );
        const page = parseAnswer("bridgeport", answer, bridgeportDatabaseListSchema);
        const found = page.databases.find((database) => database.name === name);
        if (found) return bridgeportDatabase(found);
        if (page.databases.length < pageSize) return null;
      }
    },

    close: async () => {},
  };
}

function bridgeportDatabase(database: z.output<typeof bridgeportDatabaseSchema>): ProvisionedDatabase {
  // BRIDGEPORT does not echo the password; should a version ever do so, it stops here.
  const { password: _password, ...resource } = database;
  return { id: database.id, name: database.name, status: "ready", resource, secrets: {} };
}
