import { z } from "zod";
import { UsageError } from "./errors.ts";

export const defaultApiUrl = "http://127.0.0.1:3000";

// Messages name the variable, never its value: the token must not reach a terminal or a CI log.
const envSchema = z.object({
  PROVISIONER_API_URL: z
    .url({ protocol: /^https?$/, error: "PROVISIONER_API_URL must be an http(s) URL, e.g. http://127.0.0.1:3000" })
    .default(defaultApiUrl)
    .transform((url) => url.replace(/\/+$/, "")),
  PROVISIONER_TOKEN: z
    .string({ error: "PROVISIONER_TOKEN is not set: export the API token (npm start prints one)" })
    .min(1, "PROVISIONER_TOKEN is empty: export the API token (npm start prints one)")
    .regex(/^[\x21-\x7e]+$/, "PROVISIONER_TOKEN must be printable ASCII without spaces; check how it was exported"),
});

export interface CliEnv {
  apiUrl: string;
  token: string;
}

/** Reads the environment once; the rest of the CLI gets this object, never `process.env`. */
export function loadEnv(env: Record<string, string | undefined>): CliEnv {
  const parsed = envSchema.safeParse({
    // An empty URL is as good as unset: `PROVISIONER_API_URL= provisioner …` should mean the default.
    PROVISIONER_API_URL: env.PROVISIONER_API_URL || undefined,
    PROVISIONER_TOKEN: env.PROVISIONER_TOKEN,
  });
  if (!parsed.success) throw new UsageError(parsed.error.issues[0]?.message ?? "the environment is invalid");
  return { apiUrl: parsed.data.PROVISIONER_API_URL, token: parsed.data.PROVISIONER_TOKEN };
}
