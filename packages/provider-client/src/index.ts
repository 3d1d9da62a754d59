// The package's whole surface: a client per account with the same verbs for every provider,
// the input schemas, one error model and the one classifier (HTTP answers and job faults).
// Everything not exported here is internal.

export { abortWhen } from "./abort.ts";
export { classifyHttpFailure, classifyJobFault, type JobFault, parseRetryAfter } from "./classify.ts";
export {
  createProviderClient,
  type ProviderCallObserver,
  type ProviderClientOptions,
  type ProviderOperation,
} from "./client.ts";
export { type AccountConfig, accountConfigSchema } from "./config.ts";
export * from "./errors.ts";
export {
  identityKeyOf,
  parseProviderInput,
  parseProviderRequest,
  providerInputSchemas,
  secretInputFields,
} from "./inputs.ts";
export { type ProviderName, providerNames } from "./provider-names.ts";
export { logicalIdFor } from "./providers/prisma.ts";
export type { ArtieCreateInput } from "./schemas/artie.ts";
export type { BridgeportCreateInput } from "./schemas/bridgeport.ts";
export { matching } from "./schemas/documented.ts";
export type { MysqlCreateInput } from "./schemas/mysql.ts";
export type { PostgresCreateInput } from "./schemas/postgres.ts";
export type { PrismaCreateInput } from "./schemas/prisma.ts";
export type * from "./types.ts";
