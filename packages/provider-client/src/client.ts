import { type AccountConfig, parseAccountConfig } from "./config.ts";
import { createArtieClient } from "./providers/artie.ts";
import { createBridgeportClient } from "./providers/bridgeport.ts";
import { createPostgresClient } from "./providers/postgres.ts";
import { createPrismaClient } from "./providers/prisma.ts";
import type { ProviderClient } from "./types.ts";

/**
 * A client for one provider account. The configuration is validated here, so a bad URL
 * or a missing token fails when the process starts, not on its first job.
 */
export function createProviderClient(config: AccountConfig & { provider: "artie" }): ProviderClient<"artie">;
export function createProviderClient(config: AccountConfig & { provider: "bridgeport" }): ProviderClient<"bridgeport">;
export function createProviderClient(config: AccountConfig & { provider: "prisma" }): ProviderClient<"prisma">;
export function createProviderClient(config: AccountConfig & { provider: "postgres" }): ProviderClient<"postgres">;
export function createProviderClient(config: AccountConfig): ProviderClient;
export function createProviderClient(config: AccountConfig): ProviderClient {
  const parsed = parseAccountConfig(config);
  switch (parsed.provider) {
    case "artie":
      return createArtieClient(parsed);
    case "bridgeport":
      return createBridgeportClient(parsed);
    case "prisma":
      return createPrismaClient(parsed);
    case "postgres":
      return createPostgresClient(parsed);
  }
}
