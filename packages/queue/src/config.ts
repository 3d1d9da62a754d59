import { readFileSync } from "node:fs";
import { laneSchema } from "@provisioner/api-contract";
import { type AccountConfig, type ProviderName, providerNames } from "@provisioner/provider-client";
import { z } from "zod";
import type { RedisTarget } from "./redis.ts";

const backoffFields = { baseMs: z.number().int().min(1), capMs: z.number().int().min(1) };
/** Per-provider execution settings (SPEC section 3), without their defaults. */
const settingsFields = {
  /** Jobs run at once per worker process, per account. Default 10. */
  concurrency: z.number().int().min(1).max(1000),
  /** At most `max` create calls per `durationMs` per account, across all workers. Default: none. */
  rateLimit: z.strictObject({ max: z.number().int().min(1), durationMs: z.number().int().min(1) }),
  /** Create attempts before a retryable failure is final. Default 8. */
  attempts: z.number().int().min(1).max(100),
  /** Exponential backoff with full jitter: a random delay up to min(capMs, baseMs * 2^(n-1)). */
  backoff: z.strictObject({ baseMs: backoffFields.baseMs.default(1_000), capMs: backoffFields.capMs.default(300_000) }),
  /** Per-call timeout. Default 15 s. */
  timeoutMs: z.number().int().min(1).max(600_000),
  /** A job older than this dies instead of trying again. Default 24 h. */
  maxAgeMs: z.number().int().min(1),
};
const providerSettingsSchema = z.strictObject({
  concurrency: settingsFields.concurrency.default(10),
  rateLimit: settingsFields.rateLimit.optional(),
  attempts: settingsFields.attempts.default(8),
  backoff: settingsFields.backoff.default({ baseMs: 1_000, capMs: 300_000 }),
  timeoutMs: settingsFields.timeoutMs.default(15_000),
  maxAgeMs: settingsFields.maxAgeMs.default(86_400_000),
});
/** An account's own settings: each field given replaces the provider's. */
const settingsOverrideSchema = z.strictObject({
  concurrency: settingsFields.concurrency.optional(),
  rateLimit: settingsFields.rateLimit.optional(),
  attempts: settingsFields.attempts.optional(),
  backoff: settingsFields.backoff.optional(),
  timeoutMs: settingsFields.timeoutMs.optional(),
  maxAgeMs: settingsFields.maxAgeMs.optional(),
});
export type ProviderSettings = z.output<typeof providerSettingsSchema>;
export type ProviderSettingsOverride = z.output<typeof settingsOverrideSchema>;

/** The settings one account runs with: its provider's, with the account's own overrides. */
export function settingsOf(config: ProvisionerConfig, provider: ProviderName, account: string): ProviderSettings {
  const settings: ProviderSettings = { ...config.providers[provider] };
  for (const [field, value] of Object.entries(config.overrides[provider][account] ?? {})) {
    if (value !== undefined) Object.assign(settings, { [field]: value });
  }
  return settings;
}

const accountSchema = z.strictObject({
  url: z.string().min(1),
  token: z.string().min(1).optional(),
  settings: settingsOverrideSchema.optional(),
});

/**
 * An account's name is part of its queue's name and its jobs' ids, which BullMQ and Redis
 * Cluster's hash tags constrain (no `:`, no braces): letters, digits, `_` and `-`.
 */
const accountNamePattern = /^[A-Za-z0-9_-]{1,64}$/;
const accountNameSchema = z.string().regex(accountNamePattern, "must be 1 to 64 letters, digits, _ or -");

const fileSchema = z.strictObject({
  accounts: z.partialRecord(z.enum(providerNames), z.record(accountNameSchema, accountSchema)).default({}),
  providers: z.partialRecord(z.enum(providerNames), providerSettingsSchema).default({}),
  /** Event senders: each signs with its Standard Webhooks secret, `whsec_<base64>`. */
  sources: z
    .record(
      z.string().min(1),
      z.strictObject({ secret: z.string().regex(/^whsec_[A-Za-z0-9+/=]+$/, "must be whsec_<base64>") }),
    )
    .default({}),
  triggers: z
    .array(
      z.strictObject({
        source: z.string().min(1),
        event: z.string().min(1),
        provider: z.enum(providerNames),
        account: accountNameSchema.default("default"),
        /** The lane of the jobs it makes. Default `interactive`. */
        lane: laneSchema.optional(),
        input: z.record(z.string(), z.unknown()),
      }),
    )
    .default([]),
});

const encryptionKeyHint = "is required: generate one with `openssl rand -base64 32`";
const durationMs = z.coerce.number().int().min(1);
const envSchema = z.object({
  REDIS_URL: z
    .string()
    .regex(/^rediss?:\/\//, "must be a redis:// URL")
    .default("redis://127.0.0.1:6379"),
  /** Seed nodes of a Redis Cluster, `host:port,host:port,...`; when set it wins over REDIS_URL. */
  REDIS_CLUSTER_NODES: z
    .string()
    .transform((text) => text.split(",").map((node) => node.trim()))
    .pipe(
      z
        .array(
          z
            .string()
            .regex(/^[^\s:]+:\d{1,5}$/, "must be host:port")
            .transform((node) => {
              const at = node.lastIndexOf(":");
              return { host: node.slice(0, at), port: Number(node.slice(at + 1)) };
            }),
        )
        .min(1),
    )
    .optional(),
  /**
   * Namespace of every Redis key; tests use a fresh one each. A hash tag (`{name}`) puts
   * every key in one cluster slot.
   */
  QUEUE_PREFIX: z
    .string()
    .regex(/^(\{[A-Za-z0-9_.-]+\}|[A-Za-z0-9_.-]+)$/)
    .default("provisioner"),
  COMPLETED_RETENTION_MS: durationMs.default(7 * 86_400_000),
  DEAD_LETTER_RETENTION_MS: durationMs.default(30 * 86_400_000),
  PROVISIONER_ENCRYPTION_KEY: z.string({ error: encryptionKeyHint }).min(1, encryptionKeyHint),
  PROVISIONER_CONFIG: z.string().optional(),
  /** Lets `callbackUrl`s reach loopback, private and link-local addresses. Default false. */
  CALLBACK_ALLOW_PRIVATE_NETWORKS: z.stringbool().default(false),
  /** Tries per callback delivery before it is a failed delivery (about a day with the default backoff). */
  CALLBACK_MAX_ATTEMPTS: z.coerce.number().int().min(1).max(100).default(17),
  /** The first wait between tries of a delivery; BullMQ doubles it each try. */
  CALLBACK_BACKOFF_BASE_MS: z.coerce.number().int().min(1).default(1_000),
});

/** The environment variables that fill each provider's `default` account. */
const defaultAccountEnv: Record<ProviderName, { url: string; token?: string }> = {
  artie: { url: "ARTIE_API_URL", token: "ARTIE_API_KEY" },
  bridgeport: { url: "BRIDGEPORT_API_URL", token: "BRIDGEPORT_API_TOKEN" },
  prisma: { url: "PRISMA_API_URL", token: "PRISMA_SERVICE_TOKEN" },
  postgres: { url: "POSTGRES_ADMIN_URL" },
  mysql: { url: "MYSQL_ADMIN_URL" },
};

export interface ProvisionerConfig {
  redisUrl: string;
  /** Where the processes connect: the cluster's seed nodes when REDIS_CLUSTER_NODES is set, else REDIS_URL. */
  redis: RedisTarget;
  prefix: string;
  retention: { completedMs: number; deadLetterMs: number };
  encryptionKey: string;
  /** Accounts per provider, by name. Providers with none take no jobs. */
  accounts: { [P in ProviderName]: Record<string, AccountConfig & { provider: P }> };
  providers: Record<ProviderName, ProviderSettings>;
  /** Each account's own settings, where it overrides its provider's (read through `settingsOf`). */
  overrides: { [P in ProviderName]: Record<string, ProviderSettingsOverride> };
  sources: Record<string, { secret: string }>;
  triggers: z.output<typeof fileSchema>["triggers"];
  /** What a `callbackUrl` may reach; read by the API at submission and the worker at delivery. */
  /** What a `callbackUrl` may reach (read by the API at submission and the worker at delivery), and how deliveries retry. */
  callbacks: { allowPrivateNetworks: boolean; maxAttempts: number; backoffBaseMs: number };
}

export class ConfigError extends Error {
  override name = "ConfigError";
}

/**
 * Reads the environment and the optional `PROVISIONER_CONFIG` file once, at start.
 * Throws a ConfigError naming the path of every problem; never echoes a value.
 */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): ProvisionerConfig {
  const parsedEnv = envSchema.safeParse(env);
  if (!parsedEnv.success) throw new ConfigError(describe(parsedEnv.error, "environment"));
  const settings = parsedEnv.data;

  const raw = settings.PROVISIONER_CONFIG ? readConfigFile(settings.PROVISIONER_CONFIG, env) : {};
  const parsedFile = fileSchema.safeParse(raw);
  if (!parsedFile.success) throw new ConfigError(describe(parsedFile.error, settings.PROVISIONER_CONFIG ?? "config"));
  const file = parsedFile.data;

  const accounts = {} as ProvisionerConfig["accounts"];
  const providers = {} as ProvisionerConfig["providers"];
  const overrides = {} as ProvisionerConfig["overrides"];
  for (const provider of providerNames) {
    const named: Record<string, z.output<typeof accountSchema>> = { ...file.accounts[provider] };
    const fromEnv = defaultAccountEnv[provider];
    const envUrl = env[fromEnv.url];
    if (!named.default && envUrl)
      named.default = { url: envUrl, token: fromEnv.token ? env[fromEnv.token] : undefined };
    const settingsFor = file.providers[provider] ?? providerSettingsSchema.parse({});
    providers[provider] = settingsFor;
    overrides[provider] = Object.fromEntries(
      Object.entries(named).flatMap(([name, account]) => (account.settings ? [[name, account.settings]] : [])),
    );
    accounts[provider] = Object.fromEntries(
      Object.entries(named).map(([name, account]) => {
        const timeoutMs = account.settings?.timeoutMs ?? settingsFor.timeoutMs;
        // The SQL servers' credentials live in their URLs; the HTTP providers take a bearer token.
        const client =
          provider === "postgres" || provider === "mysql"
            ? { provider, url: account.url, timeoutMs }
            : { provider, url: account.url, token: account.token ?? "", timeoutMs };
        return [name, client as never];
      }),
    );
  }

  file.triggers.forEach((trigger, index) => {
    if (!file.sources[trigger.source]) {
      throw new ConfigError(`triggers.${index}.source: no source named "${trigger.source}" in sources`);
    }
    if (!accounts[trigger.provider][trigger.account]) {
      throw new ConfigError(`triggers.${index}.account: ${trigger.provider} has no account named "${trigger.account}"`);
    }
  });

  return {
    redisUrl: settings.REDIS_URL,
    redis: settings.REDIS_CLUSTER_NODES ?? settings.REDIS_URL,
    prefix: settings.QUEUE_PREFIX,
    retention: { completedMs: settings.COMPLETED_RETENTION_MS, deadLetterMs: settings.DEAD_LETTER_RETENTION_MS },
    encryptionKey: settings.PROVISIONER_ENCRYPTION_KEY,
    accounts,
    providers,
    overrides,
    sources: file.sources,
    triggers: file.triggers,
    callbacks: {
      allowPrivateNetworks: settings.CALLBACK_ALLOW_PRIVATE_NETWORKS,
      maxAttempts: settings.CALLBACK_MAX_ATTEMPTS,
      backoffBaseMs: settings.CALLBACK_BACKOFF_BASE_MS,
    },
  };
}

/** Reads the JSON file and replaces every `"env:NAME"` string with that variable. */
function readConfigFile(path: string, env: NodeJS.ProcessEnv): unknown {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (error) {
    throw new ConfigError(`PROVISIONER_CONFIG: cannot read ${path}: ${(error as Error).message}`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new ConfigError(`${path}: not valid JSON: ${(error as Error).message}`);
  }
  return resolveEnvRefs(json, env, []);
}

function resolveEnvRefs(value: unknown, env: NodeJS.ProcessEnv, path: string[]): unknown {
  if (typeof value === "string" && value.startsWith("env:")) {
    const name = value.slice(4);
    const resolved = env[name];
    if (resolved === undefined) throw new ConfigError(`${path.join(".")}: environment variable ${name} is not set`);
    return resolved;
  }
  if (Array.isArray(value)) return value.map((item, i) => resolveEnvRefs(item, env, [...path, String(i)]));
  if (typeof value === "object" && value !== null) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, resolveEnvRefs(v, env, [...path, k])]));
  }
  return value;
}

function describe(error: z.ZodError, where: string): string {
  const problems = error.issues.map((issue) => `  ${issue.path.join(".") || "(root)"}: ${issue.message}`);
  return `invalid configuration in ${where}:\n${problems.join("\n")}`;
}
