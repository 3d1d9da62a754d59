// The package's whole surface. Everything not exported here is internal.

export { classifyHttpFailure, parseRetryAfter } from "./classify.ts";
export { createProviderClient } from "./client.ts";
export { type AccountConfig, accountConfigSchema } from "./config.ts";
export * from "./errors.ts";
export {
  identityKeyOf,
  parseProviderInput,
  providerInputSchemas,
  secretInputFields,
} from "./inputs.ts";
export { type ProviderName, providerNames } from "./provider-names.ts";
export { logicalIdFor } from "./providers/prisma.ts";
export type { ArtieCreateInput } from "./schemas/artie.ts";
export type { BridgeportCreateInput } from "./schemas/bridgeport.ts";
export { matching } from "./schemas/documented.ts";
export type { PostgresCreateInput } from "./schemas/postgres.ts";
export type { PrismaCreateInput } from "./schemas/prisma.ts";
export type * from "./types.ts";
