// The run's databases on the MySQL/MariaDB server: listed for the checks, dropped at the end.
import mysql from "mysql2/promise";
import { mysqlNameOf } from "./jobs.ts";

const patternOf = (runId: string) => `%${mysqlNameOf(`chaos-${runId}-`)}%`;

/** Every database of the run that the server holds. */
export async function listMysqlNames(url: string, runId: string): Promise<Set<string>> {
  const admin = await mysql.createConnection({ uri: url });
  try {
    const [rows] = await admin.query(
      "SELECT SCHEMA_NAME AS name FROM information_schema.SCHEMATA WHERE SCHEMA_NAME LIKE ?",
      [patternOf(runId)],
    );
    return new Set((rows as { name: string }[]).map((row) => row.name));
  } finally {
    await admin.end();
  }
}

export async function dropMysqlDatabases(url: string, runId: string): Promise<void> {
  const admin = await mysql.createConnection({ uri: url });
  try {
    for (const name of await listMysqlNames(url, runId)) await admin.query("DROP DATABASE IF EXISTS ??", [name]);
  } finally {
    await admin.end();
  }
}
