import pg from "pg";
import { classifyPostgresFailure } from "../classify.ts";
import type { ParsedAccountConfig } from "../config.ts";
import { parseProviderInput } from "../inputs.ts";
import type { ProviderClient, ProvisionedDatabase } from "../types.ts";

const quote = (identifier: string) => `"${identifier.replaceAll('"', '""')}"`;

/**
 * `CREATE DATABASE` on a server reached through its admin URL; 42P04 is the conflict.
 *
 * Each call has a connection of its own rather than one from a pool: a pooled connection
 * that is still connecting cannot be cancelled (pg-pool hands it over only once the server
 * greets it), so a hung server would hold a drain past its grace. Creating a database
 * costs far more than connecting, so nothing measurable is lost.
 */
export function createPostgresClient(config: ParsedAccountConfig<"postgres">): ProviderClient<"postgres"> {
  const server = new URL(config.url);
  const open = new Set<pg.Client>();

  async function query(sql: string, values: unknown[], signal: AbortSignal | undefined) {
    const timeout = AbortSignal.timeout(config.timeoutMs);
    const cancel = signal ? AbortSignal.any([signal, timeout]) : timeout;
    const failure = (error: unknown) => classifyPostgresFailure(error, timeout.aborted, signal?.aborted ?? false);
    if (cancel.aborted) throw failure(cancel.reason);

    const client = new pg.Client({ connectionString: config.url });
    // A socket error after the call has settled must not crash the process.
    client.on("error", () => {});
    // Destroying the socket ends a connect or a query at once, whatever the server is doing.
    // A CREATE DATABASE it was running may still complete: the next attempt looks first.
    const drop = () => client.connection.stream.destroy();
    cancel.addEventListener("abort", drop, { once: true });
    open.add(client);
    try {
      await client.connect();
      return await client.query<{ datname: string; owner: string }>(sql, values);
    } catch (error) {
      throw failure(error);
    } finally {
      cancel.removeEventListener("abort", drop);
      open.delete(client);
      client.end().catch(() => {});
    }
  }

  const database = (name: string, owner: string | null): ProvisionedDatabase => ({
    id: name,
    name,
    status: "ready",
    resource: { name, owner, host: server.hostname, port: Number(server.port || 5432) },
    secrets: {},
  });

  return {
    provider: "postgres",
    refusesDuplicates: true,
    identityOf: (input) => ({ name: input.name }),

    async createDatabase(input, { signal }) {
      const { name, owner, template, encoding } = parseProviderInput("postgres", input);
      const clauses = [
        owner ? `OWNER ${quote(owner)}` : "",
        template ? `TEMPLATE ${quote(template)}` : "",
        // The schema allows only [A-Za-z0-9_-], so the literal cannot be broken out of.
        encoding ? `ENCODING '${encoding}'` : "",
      ].filter(Boolean);
      await query(`CREATE DATABASE ${quote(name)} ${clauses.join(" ")}`.trim(), [], signal);
      return database(name, owner ?? null);
    },

    async findDatabase({ name }, options = {}) {
      const result = await query(
        "SELECT datname, pg_get_userbyid(datdba) AS owner FROM pg_database WHERE datname = $1",
        [name],
        options.signal,
      );
      const row = result.rows[0];
      return row ? database(row.datname, row.owner) : null;
    },

    async close() {
      for (const client of open) client.connection.stream.destroy();
    },
  };
}
