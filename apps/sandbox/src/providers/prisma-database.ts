import { randomId, randomSecret } from "../ids.ts";

// A Prisma Postgres database as the sandbox keeps it, and as the Management API shows it.

const API = "https://api.prisma.io/v1";

export type Source =
  | { type: "empty" }
  | { type: "backup"; databaseId: string; backupId: string }
  | { type: "database"; databaseId: string };

/** One set of credentials for a database: the default one, or one minted later. */
export interface ConnectionRecord {
  id: string;
  name: string;
  createdAt: Date;
  user: string;
  password: string;
}

export interface DatabaseRecord {
  id: string;
  name: string;
  projectId: string;
  /** `branchId ?? branchGitName ?? "main"`: the scope in which `logicalId` is unique. */
  branch: string;
  branchId: string | null;
  logicalId: string | null;
  region: string;
  isDefault: boolean;
  source: Source;
  createdAt: Date;
  /** When `status` turns from `provisioning` to `ready`. */
  readyAt: number;
  /** The first is the default connection, made with the database. */
  connections: ConnectionRecord[];
}

/** What a create decides; the record adds its id, times and default connection. */
export type NewDatabase = Omit<DatabaseRecord, "id" | "createdAt" | "readyAt" | "connections"> & {
  provisioningMs: number;
};

export function newDatabaseRecord(input: NewDatabase): DatabaseRecord {
  const { provisioningMs, ...rest } = input;
  const createdAt = new Date();
  return {
    ...rest,
    id: randomId("db_"),
    createdAt,
    readyAt: createdAt.getTime() + provisioningMs,
    connections: [newConnectionRecord("default", createdAt)],
  };
}

export function newConnectionRecord(name: string, createdAt = new Date()): ConnectionRecord {
  return { id: randomId("con_"), name, createdAt, user: randomId("u", 15), password: randomSecret() };
}

/**
 * The API's view of a database. Connection strings carry the password, so, as at the
 * real API, only the create answer includes them.
 */
export function presentDatabase(record: DatabaseRecord, withSecrets: boolean) {
  const url = `${API}/databases/${record.id}`;
  return {
    id: record.id,
    type: "database" as const,
    url,
    name: record.name,
    status: Date.now() >= record.readyAt ? ("ready" as const) : ("provisioning" as const),
    createdAt: record.createdAt.toISOString(),
    isDefault: record.isDefault,
    defaultConnectionId: record.connections[0]?.id ?? null,
    connections: record.connections.map((connection) => presentConnection(record, connection, withSecrets)),
    project: { id: record.projectId, url: `${API}/projects/${record.projectId}`, name: record.projectId },
    region: { id: record.region, name: record.region },
    source: record.source,
    branchId: record.branchId,
    logicalId: record.logicalId,
  };
}

/**
 * The API's view of one connection. Only the answer that made it (the database's create,
 * or `POST /v1/databases/{id}/connections`) carries its connection strings.
 */
export function presentConnection(record: DatabaseRecord, connection: ConnectionRecord, withSecrets: boolean) {
  const endpoint = (host: string) => ({
    host,
    port: 5432,
    ...(withSecrets
      ? {
          connectionString: `postgres://${connection.user}:${connection.password}@${host}:5432/postgres?sslmode=require`,
        }
      : {}),
  });
  return {
    id: connection.id,
    type: "connection" as const,
    url: `${API}/connections/${connection.id}`,
    name: connection.name,
    createdAt: connection.createdAt.toISOString(),
    kind: "postgres" as const,
    endpoints: { direct: endpoint("db.prisma.io"), pooled: endpoint("pooled.db.prisma.io") },
    database: { id: record.id, url: `${API}/databases/${record.id}`, name: record.name },
  };
}
