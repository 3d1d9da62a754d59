import type { ParsedAccountConfig } from "../config.ts";
import { parseProviderInput } from "../inputs.ts";
import { artieDatabaseListSchema } from "../schemas/artie.ts";
import { parseAnswer, retryLookup, sendHttp } from "../transport.ts";
import type { ProviderClient, ProvisionedDatabase } from "../types.ts";

/**
 * Artie has neither an idempotency key nor a conflict answer, so a retried create is
 * made safe by looking the name up first (`POST /connectors/databases`).
 */
export function createArtieClient(config: ParsedAccountConfig<"artie">): ProviderClient<"artie"> {
  const base = config.url.replace(/\/+$/, "");
  const call = {
    provider: "artie",
    method: "POST",
    token: config.token,
    timeoutMs: config.timeoutMs,
  } as const;

  return {
    provider: "artie",
    // No idempotency key and no documented conflict: a repeated create is not refused.
    refusesDuplicates: false,
    identityOf: (input) => ({ name: input.name, connector: input.connector }),

    async createDatabase(input, { signal }) {
      const body = parseProviderInput("artie", input);
      // 204 No Content: Artie says nothing but "done".
      await sendHttp({ ...call, url: `${base}/connectors/new-database`, body, signal });
      return artieDatabase(body.name, body.connector.type);
    },

    async findDatabase(identity, options = {}) {
      const answer = await retryLookup(
        () =>
          sendHttp({
            ...call,
            url: `${base}/connectors/databases`,
            body: identity.connector,
            signal: options.signal,
          }),
        options.signal,
      );
      const list = parseAnswer("artie", answer, artieDatabaseListSchema);
      const found = (list.items ?? []).some((item) => item.name === identity.name);
      return found ? artieDatabase(identity.name, identity.connector.type) : null;
    },

    close: async () => {},
  };
}

function artieDatabase(name: string, connectorType: string | undefined): ProvisionedDatabase {
  return {
    id: null,
    name,
    status: "ready",
    resource: { name, connectorType: connectorType ?? null },
    secrets: {},
  };
}
