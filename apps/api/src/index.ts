// The API as a library, for the root start script and tests. Everything not exported here is internal.
export { type App, type AppDeps, createApp, defaultBodyLimitBytes } from "./app.ts";
export {
  type Scope,
  scopes,
  singleTokenResolver,
  staticTokenResolver,
  type TokenEntry,
  type TokenIdentity,
  type TokenResolver,
  tokenDigest,
} from "./auth.ts";
export { type ErrorCode, errorCodeSchema, statusOfCode } from "./errors.ts";
export { createLogger } from "./logger.ts";
export { type ApiSettings, loadApiSettings, SettingsError } from "./settings.ts";
export { parseTokensFile, readTokensFile, TokensFileError } from "./tokens-file.ts";
