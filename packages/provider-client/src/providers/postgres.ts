import pg from "pg";
import { classifyPostgresFailure } from "../classify.ts";
import type { ParsedAccountConfig } from "../config.ts";
import { parseProviderInput } from "../inputs.ts";
import type { ProviderClient, ProvisionedDatabase } from "../types.ts";

const quote = (identifier: string) => `"${identifier.replaceAll('"', '""')}"`;

/** `CREATE DATABASE` on a server reached through its admin URL; 42P04 is the conflict. */
export function createPostgresClient(config: ParsedAccountConfig<"postgres">): ProviderClient<"postgres"> {
  const pool = new pg.Pool({
    connectionString: config.url,
    max: 4,
    connectionTimeoutMillis: config.timeoutMs,
    query_timeout: config.timeoutMs,
    idleTimeoutMillis: 10_000,
  });
  // An idle connection that the server drops must not crash the process; the next query reconnects.
  pool.on("error", () => {});
  const server = new URL(config.url);

  async function query(sql: string, values: unknown[], signal: AbortSignal | undefined) {
    if (signal?.aborted) throw classifyPostgresFailure(signal.reason, false, true);
    try {
      return await pool.query<{ datname: string; owner: string }>(sql, values);
    } catch (error) {
      const timedOut = error instanceof Error && /timeout/i.test(error.message);
      throw classifyPostgresFailure(error, timedOut, signal?.aborted);
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

    close: () => pool.end(),
  };
}
