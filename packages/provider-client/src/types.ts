import type { ProviderName } from "./provider-names.ts";
import type { ArtieCreateInput, ArtieIdentity } from "./schemas/artie.ts";
import type { BridgeportCreateInput, BridgeportIdentity } from "./schemas/bridgeport.ts";
import type { MysqlCreateInput, MysqlIdentity } from "./schemas/mysql.ts";
import type { PostgresCreateInput, PostgresIdentity } from "./schemas/postgres.ts";
import type { PrismaCreateInput, PrismaIdentity } from "./schemas/prisma.ts";

/** Each provider's create body, as its published document has it. */
export interface ProviderInputs {
  artie: ArtieCreateInput;
  bridgeport: BridgeportCreateInput;
  prisma: PrismaCreateInput;
  postgres: PostgresCreateInput;
  mysql: MysqlCreateInput;
}

/**
 * One create request with its provider: narrowing on `provider` types `input`, so the
 * body parsed at the API reaches the queue as that provider's type.
 */
export type ProviderRequest = { [P in ProviderName]: { provider: P; input: ProviderInputs[P] } }[ProviderName];

/** What identifies one database at each provider: what `findDatabase` looks for. */
export interface ProviderIdentities {
  artie: ArtieIdentity;
  bridgeport: BridgeportIdentity;
  prisma: PrismaIdentity;
  postgres: PostgresIdentity;
  mysql: MysqlIdentity;
}

/** A database that exists at the provider, split into what may be shown and what may not. */
export interface ProvisionedDatabase {
  /** The provider's id for it, where the provider gives one (Artie does not). */
  id: string | null;
  name: string;
  /** `provisioning` means it exists but is not usable yet (Prisma); ask again later. */
  status: "ready" | "provisioning" | "failed";
  /** The provider's resource with every secret removed. */
  resource: Record<string, unknown>;
  /** Connection strings and passwords the provider returned; empty when there are none. */
  secrets: Record<string, string>;
}

export interface CallOptions {
  /** Cancels the call; it then fails as a transient `ABORTED` error. */
  signal?: AbortSignal | undefined;
}

export interface CreateOptions extends CallOptions {
  /** Stable across retries of one request: sent as `Idempotency-Key` or turned into a `logicalId`. */
  idempotencyKey: string;
}

export interface MintOptions extends CallOptions {
  /**
   * Names the credentials, the same on every retry for one job: credentials an earlier
   * call made under this label (whose answer may have been lost) are revoked first.
   */
  label: string;
}

/** The same verbs for every provider. */
export interface ProviderClient<P extends ProviderName = ProviderName> {
  readonly provider: P;
  /**
   * Whether the provider itself answers a second create of the same database with a
   * conflict (or a replay) rather than making another. Where it does not (Artie), callers
   * must look the database up before every create, not only before retries.
   */
  readonly refusesDuplicates: boolean;
  /** The look-up key for the database that `createDatabase(input, options)` makes. */
  identityOf(input: ProviderInputs[P], options: { idempotencyKey: string }): ProviderIdentities[P];
  /** Makes exactly one create call. Throws a classified `ProviderError`; never retries. */
  createDatabase(input: ProviderInputs[P], options: CreateOptions): Promise<ProvisionedDatabase>;
  /** Finds the database a create made (after a conflict or an ambiguous failure), or null. */
  findDatabase(identity: ProviderIdentities[P], options?: CallOptions): Promise<ProvisionedDatabase | null>;
  /**
   * Mints credentials for a database that exists, where the provider shows them only in
   * the create answer (Prisma), so an adopted database can be connected to. Repeating it
   * with one label leaves one set of credentials under that label, not one per call.
   * Absent where there is nothing to mint.
   */
  mintCredentials?(database: ProvisionedDatabase, options: MintOptions): Promise<Record<string, string>>;
  /** Releases connections (PostgreSQL, MySQL); a no-op for HTTP providers. */
  close(): Promise<void>;
}
