import { z } from "zod";
import { ProviderConfigError } from "./errors.ts";

const timeoutMs = z.number().int().positive().max(600_000).default(15_000);
const httpUrl = z.url({ protocol: /^https?$/, error: "must be an http(s) URL" });

const httpAccount = {
  /** Base URL of the provider's API, e.g. `https://api.prisma.io`. */
  url: httpUrl,
  /** Bearer token. Never logged, never put in an error. */
  token: z.string().min(1, "is required"),
  /** Per-call timeout in milliseconds. Default 15000. */
  timeoutMs,
};

export const accountConfigSchema = z.discriminatedUnion("provider", [
  z.strictObject({ provider: z.literal("artie"), ...httpAccount }),
  z.strictObject({ provider: z.literal("bridgeport"), ...httpAccount }),
  z.strictObject({ provider: z.literal("prisma"), ...httpAccount }),
  z.strictObject({
    provider: z.literal("postgres"),
    /** Admin connection URL of the server that databases are created on. */
    url: z.string().regex(/^postgres(ql)?:\/\//, "must be a postgres:// URL"),
    timeoutMs,
  }),
  z.strictObject({
    provider: z.literal("mysql"),
    /** Admin connection URL (`mysql://user:password@host:3306`) of the MySQL or MariaDB server. */
    url: z
      .url({ protocol: /^(mysql|mariadb)$/, error: "must be a mysql:// URL" })
      .refine((url) => URL.canParse(url) && new URL(url).hostname !== "", "must name a host"),
    timeoutMs,
  }),
]);

/** One provider account, as a caller writes it (defaults optional). */
export type AccountConfig = z.input<typeof accountConfigSchema>;
export type ParsedAccountConfig<P extends AccountConfig["provider"]> = Extract<
  z.output<typeof accountConfigSchema>,
  { provider: P }
>;

/** Validates an account when its client is created, so bad configuration fails at start. */
export function parseAccountConfig(config: AccountConfig): z.output<typeof accountConfigSchema> {
  const parsed = accountConfigSchema.safeParse(config);
  if (parsed.success) return parsed.data;
  // Issue messages name the path and the rule, never the value: a token must not leak here.
  const problems = parsed.error.issues.map((i) => `${i.path.join(".") || "config"} ${i.message}`);
  throw new ProviderConfigError(`invalid provider account: ${problems.join("; ")}`);
}
