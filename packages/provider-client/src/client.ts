import { type AccountConfig, parseAccountConfig } from "./config.ts";
import { createArtieClient } from "./providers/artie.ts";
import { createBridgeportClient } from "./providers/bridgeport.ts";
import { createMysqlClient } from "./providers/mysql.ts";
import { createPostgresClient } from "./providers/postgres.ts";
import { createPrismaClient } from "./providers/prisma.ts";
import type { ProviderClient } from "./types.ts";

/** One provider call's name, as metrics label it: bounded, never an input. */
export type ProviderOperation = "create" | "find" | "mint_credentials";

/** Hears every provider call as it ends, however it ends: the one place calls are timed. */
export type ProviderCallObserver = (call: {
  provider: ProviderClient["provider"];
  operation: ProviderOperation;
  seconds: number;
  ok: boolean;
}) => void;

export interface ProviderClientOptions {
  observeCall?: ProviderCallObserver | undefined;
}

/**
 * A client for one provider account. The configuration is validated here, so a bad URL
 * or a missing token fails when the process starts, not on its first job.
 */
export function createProviderClient(
  config: AccountConfig & { provider: "artie" },
  options?: ProviderClientOptions,
): ProviderClient<"artie">;
export function createProviderClient(
  config: AccountConfig & { provider: "bridgeport" },
  options?: ProviderClientOptions,
): ProviderClient<"bridgeport">;
export function createProviderClient(
  config: AccountConfig & { provider: "prisma" },
  options?: ProviderClientOptions,
): ProviderClient<"prisma">;
export function createProviderClient(
  config: AccountConfig & { provider: "postgres" },
  options?: ProviderClientOptions,
): ProviderClient<"postgres">;
export function createProviderClient(
  config: AccountConfig & { provider: "mysql" },
  options?: ProviderClientOptions,
): ProviderClient<"mysql">;
export function createProviderClient(config: AccountConfig, options?: ProviderClientOptions): ProviderClient;
export function createProviderClient(config: AccountConfig, options: ProviderClientOptions = {}): ProviderClient {
  const parsed = parseAccountConfig(config);
  const client = clientFor(parsed);
  return options.observeCall ? observed(client, options.observeCall) : client;
}

function clientFor(parsed: ReturnType<typeof parseAccountConfig>): ProviderClient {
  switch (parsed.provider) {
    case "artie":
      return createArtieClient(parsed);
    case "bridgeport":
      return createBridgeportClient(parsed);
    case "prisma":
      return createPrismaClient(parsed);
    case "postgres":
      return createPostgresClient(parsed);
    case "mysql":
      return createMysqlClient(parsed);
  }
}

/** The same client, each verb that calls the provider timed for `observe`. */
function observed(client: ProviderClient, observe: ProviderCallObserver): ProviderClient {
  const timed =
    <A extends unknown[], R>(operation: ProviderOperation, call: (...args: A) => Promise<R>) =>
    async (...args: A): Promise<R> => {
      const started = performance.now();
      let ok = false;
      try {
        const answer = await call(...args);
        ok = true;
        return answer;
      } finally {
        observe({ provider: client.provider, operation, seconds: (performance.now() - started) / 1000, ok });
      }
    };
  const mint = client.mintCredentials;
  return {
    provider: client.provider,
    refusesDuplicates: client.refusesDuplicates,
    identityOf: (input, identityOptions) => client.identityOf(input, identityOptions),
    createDatabase: timed("create", (input, createOptions) => client.createDatabase(input, createOptions)),
    findDatabase: timed("find", (identity, callOptions) => client.findDatabase(identity, callOptions)),
    ...(mint ? { mintCredentials: timed("mint_credentials", mint.bind(client)) } : {}),
    close: () => client.close(),
  };
}
