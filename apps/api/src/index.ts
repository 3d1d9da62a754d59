// The API as a library, for the root start script and tests. Everything not exported here is internal.
// Its request and response shapes are not here: they are @provisioner/api-contract's.
export { type App, type AppDeps, createApp, defaultBodyLimitBytes } from "./app.ts";
export {
  singleTokenResolver,
  staticTokenResolver,
  type TokenEntry,
  type TokenResolver,
  tokenDigest,
} from "./auth.ts";
export { statusOfCode } from "./errors.ts";
export { type Scope, scopes, type TokenIdentity } from "./identity.ts";
export { createLogger } from "./logger.ts";
export { type ApiSettings, loadApiSettings, SettingsError } from "./settings.ts";
export { parseTokensFile, readTokensFile, TokensFileError } from "./tokens-file.ts";
