import { z } from "zod";
import { defaultBodyLimitBytes } from "./app.ts";
import type { TokenEntry } from "./auth.ts";
import { scopes } from "./identity.ts";
import { readTokensFile, TokensFileError } from "./tokens-file.ts";

const settingsSchema = z
  .object({
    /** Port to listen on. Default 3000. */
    PORT: z.coerce.number().int().min(0).max(65_535).default(3000),
    /** Interface to listen on. Default 127.0.0.1: expose it deliberately (HOST=0.0.0.0), not by accident. */
    HOST: z.string().min(1).default("127.0.0.1"),
    /** One full-access bearer token, named "default". No default: a secret must be chosen. */
    API_TOKEN: z.string().min(1, "is empty: set the bearer token clients must send").optional(),
    /** A JSON file of named tokens with scopes (see tokens-file.ts); with or without API_TOKEN. */
    API_TOKENS_FILE: z.string().min(1, "is empty: set the path of a tokens file").optional(),
    /** The largest request body, in bytes. Default 2 MiB. */
    API_BODY_LIMIT_BYTES: z.coerce.number().int().min(1).default(defaultBodyLimitBytes),
    LOG_LEVEL: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).default("info"),
  })
  .refine((env) => env.API_TOKEN !== undefined || env.API_TOKENS_FILE !== undefined, {
    path: ["API_TOKEN"],
    message:
      "or API_TOKENS_FILE is required: set API_TOKEN to the bearer token clients must send (make one with `openssl rand -hex 32`), or API_TOKENS_FILE to a file of named tokens",
  });

export type ApiSettings = z.output<typeof settingsSchema> & {
  /** Every known token: API_TOKEN as "default" with every scope, then the file's. */
  tokens: TokenEntry[];
};

export class SettingsError extends Error {
  override name = "SettingsError";
}

/** The API process's own settings, read once at start; the message names every bad variable, never a value. */
export function loadApiSettings(env: NodeJS.ProcessEnv): ApiSettings {
  const parsed = settingsSchema.safeParse(env);
  if (!parsed.success) {
    throw new SettingsError(parsed.error.issues.map((issue) => `${issue.path.join(".")} ${issue.message}`).join("; "));
  }
  const settings = parsed.data;
  const tokens: TokenEntry[] = [];
  if (settings.API_TOKEN !== undefined) tokens.push({ name: "default", token: settings.API_TOKEN, scopes });
  if (settings.API_TOKENS_FILE !== undefined) {
    const others = tokens.map((entry) => ({ label: "API_TOKEN", entry }));
    try {
      tokens.push(...readTokensFile(settings.API_TOKENS_FILE, env, others));
    } catch (error) {
      if (error instanceof TokensFileError) throw new SettingsError(`API_TOKENS_FILE ${error.message}`);
      throw error;
    }
  }
  return { ...settings, tokens };
}
