import type { Socket } from "node:net";
import mysql from "mysql2";
import { classifyMysqlFailure } from "../classify.ts";
import type { ParsedAccountConfig } from "../config.ts";
import { parseProviderInput } from "../inputs.ts";
import type { ProviderClient, ProvisionedDatabase } from "../types.ts";

/** The driver's socket, which its types leave out: destroying it is the only cancel that never waits on the server. */
const socketOf = (connection: mysql.Connection) => (connection as unknown as { stream: Socket }).stream;

/**
 * `CREATE DATABASE` on a MySQL or MariaDB server reached through its admin URL; error 1007
 * is the conflict.
 *
 * As for PostgreSQL, each call has a connection of its own rather than one from a pool, so
 * a cancel can always destroy the one socket the call is waiting on, even mid-handshake
 * (mysql2's `destroy()` only half-closes and leaves a call on a hung server waiting).
 */
export function createMysqlClient(config: ParsedAccountConfig<"mysql">): ProviderClient<"mysql"> {
  const server = new URL(config.url);
  const password = server.password;
  // The password may sit percent-encoded in the URL and appear decoded anywhere else.
  const secrets = [password, decodeURIComponent(password)].filter((secret) => secret.length > 0);
  const open = new Set<mysql.Connection>();

  async function query<Row>(sql: string, values: unknown[], signal: AbortSignal | undefined): Promise<Row[]> {
    const timeout = AbortSignal.timeout(config.timeoutMs);
    const cancel = signal ? AbortSignal.any([signal, timeout]) : timeout;
    const failure = (error: unknown) => classifyMysqlFailure(error, timeout.aborted, signal?.aborted ?? false, secrets);
    if (cancel.aborted) throw failure(cancel.reason);

    const connection = mysql.createConnection({
      host: server.hostname,
      port: Number(server.port || 3306),
      user: decodeURIComponent(server.username),
      password: decodeURIComponent(password),
      connectTimeout: config.timeoutMs,
      // Never more than one statement per call, whatever a value holds.
      multipleStatements: false,
    });
    // A socket error after the call has settled must not crash the process.
    connection.on("error", () => {});
    // A CREATE DATABASE the server was running may still complete: the next attempt looks first.
    const drop = () => socketOf(connection).destroy();
    // The call settles at the abort whatever the driver does with the destroyed socket.
    let giveUp = () => {};
    const cancelled = new Promise<never>((_, reject) => {
      giveUp = () => reject(cancel.reason);
    });
    const onAbort = () => {
      drop();
      giveUp();
    };
    cancel.addEventListener("abort", onAbort, { once: true });
    open.add(connection);
    const call = connection.promise().query(sql, values);
    // The loser of the race below must not become an unhandled rejection.
    call.catch(() => {});
    try {
      const [rows] = await Promise.race([call, cancelled]);
      // Say goodbye (COM_QUIT) so the server does not log an aborted connection.
      connection.end(() => {});
      return rows as Row[];
    } catch (error) {
      drop();
      throw failure(error);
    } finally {
      cancel.removeEventListener("abort", onAbort);
      open.delete(connection);
    }
  }

  const database = (name: string, characterSet: string | null, collation: string | null): ProvisionedDatabase => ({
    id: name,
    name,
    status: "ready",
    resource: { name, characterSet, collation, host: server.hostname, port: Number(server.port || 3306) },
    secrets: {},
  });

  return {
    provider: "mysql",
    refusesDuplicates: true,
    identityOf: (input) => ({ name: input.name }),

    async createDatabase(input, { signal }) {
      const { name, characterSet, collation } = parseProviderInput("mysql", input);
      // Every name goes through mysql2's `??` (escapeId): nothing from the input is spliced into SQL.
      const clauses = [characterSet ? "CHARACTER SET ??" : "", collation ? "COLLATE ??" : ""].filter(Boolean);
      const values = [name, characterSet, collation].filter((value) => value !== undefined);
      await query(`CREATE DATABASE ?? ${clauses.join(" ")}`.trim(), values, signal);
      return database(name, characterSet ?? null, collation ?? null);
    },

    async findDatabase({ name }, options = {}) {
      const rows = await query<{ name: string; characterSet: string; collation: string }>(
        `SELECT SCHEMA_NAME AS name, DEFAULT_CHARACTER_SET_NAME AS characterSet, DEFAULT_COLLATION_NAME AS collation
         FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = ?`,
        [name],
        options.signal,
      );
      const row = rows[0];
      return row ? database(row.name, row.characterSet, row.collation) : null;
    },

    async close() {
      for (const connection of open) socketOf(connection).destroy();
    },
  };
}
