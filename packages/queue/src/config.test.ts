import { randomBytes } from "node:crypto";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ConfigError, loadConfig, settingsOf } from "./config.ts";

const key = randomBytes(32).toString("base64");
const writeConfig = (value: unknown) => {
  const path = join(mkdtempSync(join(tmpdir(), "cfg-")), "config.json");
  writeFileSync(path, typeof value === "string" ? value : JSON.stringify(value));
  return path;
};

describe("loadConfig", () => {
  it("fills each provider's default account from the environment, with default settings", () => {
    const config = loadConfig({
      PROVISIONER_ENCRYPTION_KEY: key,
      BRIDGEPORT_API_URL: "http://bp.test",
      BRIDGEPORT_API_TOKEN: "t",
      POSTGRES_ADMIN_URL: "postgres://u@h/db",
    });
    expect(config.accounts.bridgeport.default).toEqual({
      provider: "bridgeport",
      url: "http://bp.test",
      token: "t",
      timeoutMs: 15_000,
    });
    expect(config.accounts.postgres.default).toEqual({
      provider: "postgres",
      url: "postgres://u@h/db",
      timeoutMs: 15_000,
    });
    expect(config.accounts.artie).toEqual({});
    expect(config.providers.prisma).toMatchObject({
      concurrency: 10,
      attempts: 8,
      backoff: { baseMs: 1_000, capMs: 300_000 },
    });
    expect(config.redisUrl).toBe("redis://127.0.0.1:6379");
  });

  it("connects to the cluster's seed nodes when REDIS_CLUSTER_NODES is set, over REDIS_URL", () => {
    const config = loadConfig({
      PROVISIONER_ENCRYPTION_KEY: key,
      REDIS_URL: "redis://single:6379",
      REDIS_CLUSTER_NODES: "10.0.0.1:7000, redis-b:7001",
    });
    expect(config.redis).toEqual([
      { host: "10.0.0.1", port: 7000 },
      { host: "redis-b", port: 7001 },
    ]);
    expect(loadConfig({ PROVISIONER_ENCRYPTION_KEY: key }).redis).toBe("redis://127.0.0.1:6379");
    expect(() => loadConfig({ PROVISIONER_ENCRYPTION_KEY: key, REDIS_CLUSTER_NODES: "10.0.0.1" })).toThrow(
      /REDIS_CLUSTER_NODES\.0: must be host:port/,
    );
  });

  it("reads accounts and settings from PROVISIONER_CONFIG, resolving env: references", () => {
    const path = writeConfig({
      accounts: { prisma: { eu: { url: "https://api.prisma.io", token: "env:EU_TOKEN" } } },
      providers: { prisma: { concurrency: 20, rateLimit: { max: 100, durationMs: 60_000 }, attempts: 10 } },
      sources: { billing: { secret: "env:BILLING_SECRET" } },
    });
    const config = loadConfig({
      PROVISIONER_ENCRYPTION_KEY: key,
      PROVISIONER_CONFIG: path,
      EU_TOKEN: "tok",
      BILLING_SECRET: "whsec_x",
    });
    expect(config.accounts.prisma.eu).toMatchObject({ url: "https://api.prisma.io", token: "tok" });
    expect(config.providers.prisma).toMatchObject({
      concurrency: 20,
      attempts: 10,
      rateLimit: { max: 100, durationMs: 60_000 },
    });
    expect(config.sources.billing?.secret).toBe("whsec_x");
  });

  it("names the path of an unknown key or a bad value", () => {
    const path = writeConfig({ providers: { prisma: { concurency: 3 } } });
    expect(() => loadConfig({ PROVISIONER_ENCRYPTION_KEY: key, PROVISIONER_CONFIG: path })).toThrow(
      /providers\.prisma/,
    );
    const bad = writeConfig({ providers: { artie: { attempts: 0 } } });
    expect(() => loadConfig({ PROVISIONER_ENCRYPTION_KEY: key, PROVISIONER_CONFIG: bad })).toThrow(
      /providers\.artie\.attempts/,
    );
  });

  it("says which environment variable an env: reference lacks, without printing values", () => {
    const path = writeConfig({ accounts: { artie: { default: { url: "http://a", token: "env:NOPE" } } } });
    expect(() => loadConfig({ PROVISIONER_ENCRYPTION_KEY: key, PROVISIONER_CONFIG: path })).toThrow(
      /accounts\.artie\.default\.token: environment variable NOPE is not set/,
    );
  });

  it("refuses to start without an encryption key, saying how to make one", () => {
    expect(() => loadConfig({})).toThrow(ConfigError);
    expect(() => loadConfig({})).toThrow(/openssl rand -base64 32/);
  });

  it("refuses a trigger whose source or account is not configured, and a secret not in whsec_ form", () => {
    const trigger = { source: "billing", event: "tenant.created", provider: "prisma", input: {} };
    const noSource = writeConfig({ triggers: [trigger] });
    expect(() => loadConfig({ PROVISIONER_ENCRYPTION_KEY: key, PROVISIONER_CONFIG: noSource })).toThrow(
      /triggers\.0\.source/,
    );
    const noAccount = writeConfig({ sources: { billing: { secret: "whsec_c2VjcmV0" } }, triggers: [trigger] });
    expect(() => loadConfig({ PROVISIONER_ENCRYPTION_KEY: key, PROVISIONER_CONFIG: noAccount })).toThrow(
      /triggers\.0\.account/,
    );
    const badSecret = writeConfig({ sources: { billing: { secret: "plaintext" } } });
    expect(() => loadConfig({ PROVISIONER_ENCRYPTION_KEY: key, PROVISIONER_CONFIG: badSecret })).toThrow(
      /sources\.billing\.secret/,
    );
  });

  it("refuses a file that is not JSON", () => {
    expect(() => loadConfig({ PROVISIONER_ENCRYPTION_KEY: key, PROVISIONER_CONFIG: writeConfig("{nope") })).toThrow(
      /not valid JSON/,
    );
  });

  it("gives each account its provider's settings, with the fields the account overrides replaced", () => {
    const path = writeConfig({
      providers: { bridgeport: { concurrency: 4, rateLimit: { max: 10, durationMs: 1_000 } } },
      accounts: {
        bridgeport: {
          eu: { url: "http://eu.test", token: "t", settings: { concurrency: 2, timeoutMs: 5_000 } },
          us: { url: "http://us.test", token: "t" },
        },
      },
    });
    const config = loadConfig({ PROVISIONER_ENCRYPTION_KEY: key, PROVISIONER_CONFIG: path });
    expect(settingsOf(config, "bridgeport", "eu")).toMatchObject({
      concurrency: 2,
      timeoutMs: 5_000,
      rateLimit: { max: 10, durationMs: 1_000 },
      attempts: 8,
    });
    expect(settingsOf(config, "bridgeport", "us")).toEqual(config.providers.bridgeport);
    expect(config.accounts.bridgeport.eu?.timeoutMs).toBe(5_000);
  });

  it("refuses an account name outside [A-Za-z0-9_-] (it names a queue) and an unknown override field", () => {
    for (const name of ["eu:west", "{eu}", "eu west", "a".repeat(65)]) {
      const path = writeConfig({ accounts: { bridgeport: { [name]: { url: "http://x.test", token: "t" } } } });
      expect(() => loadConfig({ PROVISIONER_ENCRYPTION_KEY: key, PROVISIONER_CONFIG: path })).toThrow(ConfigError);
    }
    const path = writeConfig({
      accounts: { bridgeport: { eu: { url: "http://x.test", token: "t", settings: { colour: 1 } } } },
    });
    expect(() => loadConfig({ PROVISIONER_ENCRYPTION_KEY: key, PROVISIONER_CONFIG: path })).toThrow(
      /accounts\.bridgeport\.eu\.settings/,
    );
  });
});

describe("mysql accounts", () => {
  it("fills the default account from MYSQL_ADMIN_URL and takes more from PROVISIONER_CONFIG, passwords from the environment", () => {
    const path = writeConfig({
      accounts: { mysql: { eu: { url: "env:MYSQL_EU_URL", settings: { timeoutMs: 5_000 } } } },
    });
    const config = loadConfig({
      PROVISIONER_ENCRYPTION_KEY: key,
      PROVISIONER_CONFIG: path,
      MYSQL_ADMIN_URL: "mysql://admin:pw@db.test:3306",
      MYSQL_EU_URL: "mysql://admin:eu-pw@eu.db.test:3306",
    });
    expect(config.accounts.mysql).toEqual({
      default: { provider: "mysql", url: "mysql://admin:pw@db.test:3306", timeoutMs: 15_000 },
      eu: { provider: "mysql", url: "mysql://admin:eu-pw@eu.db.test:3306", timeoutMs: 5_000 },
    });
  });
});
