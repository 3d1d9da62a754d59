import { z } from "zod";
import { defaultBodyLimitBytes } from "./app.ts";

const settingsSchema = z.object({
  /** Port to listen on. Default 3000. */
  PORT: z.coerce.number().int().min(0).max(65_535).default(3000),
  /** Interface to listen on. Default 127.0.0.1: expose it deliberately (HOST=0.0.0.0), not by accident. */
  HOST: z.string().min(1).default("127.0.0.1"),
  /** The one full-access bearer token. No default: a secret must be chosen. */
  API_TOKEN: z
    .string({ error: "is required: set the bearer token clients must send (e.g. `openssl rand -hex 32`)" })
    .min(1, "is empty: set the bearer token clients must send"),
  /** Named tokens with scopes; planned, refused until it is read so it is never silently ignored. */
  API_TOKENS_FILE: z.undefined({ error: "is not supported yet: use API_TOKEN" }).optional(),
  /** The largest request body, in bytes. Default 2 MiB. */
  API_BODY_LIMIT_BYTES: z.coerce.number().int().min(1).default(defaultBodyLimitBytes),
  LOG_LEVEL: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).default("info"),
});
export type ApiSettings = z.output<typeof settingsSchema>;

export class SettingsError extends Error {
  override name = "SettingsError";
}

/** The API process's own settings, read once at start; the message names every bad variable, never a value. */
export function loadApiSettings(env: NodeJS.ProcessEnv): ApiSettings {
  const parsed = settingsSchema.safeParse(env);
  if (parsed.success) return parsed.data;
  throw new SettingsError(parsed.error.issues.map((issue) => `${issue.path.join(".")} ${issue.message}`).join("; "));
}
