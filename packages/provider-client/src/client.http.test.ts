import { randomUUID } from "node:crypto";
import { startSandbox } from "@provisioner/sandbox";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { createProviderClient } from "./client.ts";
import type { AccountConfig } from "./config.ts";
import { ProviderError } from "./errors.ts";
import type { ProviderName } from "./provider-names.ts";
import type { ProviderClient, ProviderInputs } from "./types.ts";

type HttpProvider = Exclude<ProviderName, "postgres" | "mysql">;

let sandbox: Awaited<ReturnType<typeof startSandbox>>;

beforeAll(async () => {
  sandbox = await startSandbox();
});
afterAll(() => sandbox.close());
beforeEach(() => sandbox.state.reset());

const tokens = {
  artie: { write: "artie-sandbox-key", read: "artie-sandbox-readonly" },
  bridgeport: { write: "bport_pat_sandbox", read: "bport_pat_sandbox_readonly" },
  prisma: { write: "prisma-sandbox-token", read: "prisma-sandbox-readonly" },
} as const;

function clientFor<P extends HttpProvider>(provider: P, token: string = tokens[provider].write, timeoutMs = 2_000) {
  const account: AccountConfig = { provider, url: `${sandbox.url}/${provider}`, token, timeoutMs };
  return createProviderClient(account) as ProviderClient<P>;
}

const unique = () => `db_${randomUUID().slice(0, 8)}`;

/** A valid create body per provider, with a fresh name. */
const inputs: { [P in HttpProvider]: () => ProviderInputs[P] } = {
  artie: () => ({
    name: unique(),
    connector: { type: "snowflake", uuid: "conn-1", sharedConfig: { password: "s3cret" } },
  }),
  bridgeport: () => ({ envId: "env_test", name: unique(), type: "postgres", password: "s3cret" }),
  prisma: () => ({ projectId: "proj_abc123", name: unique(), region: "eu-central-1" }),
};

async function setFaults(rules: unknown[]) {
  const response = await fetch(`${sandbox.url}/__sandbox/faults`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ rules }),
  });
  expect(response.status).toBe(200);
}

async function creationsOf(provider: HttpProvider): Promise<Record<string, number>> {
  const stats = (await (await fetch(`${sandbox.url}/__sandbox/stats`)).json()) as {
    creations: Record<HttpProvider, Record<string, number>>;
  };
  return stats.creations[provider];
}

async function failureOf(promise: Promise<unknown>): Promise<ProviderError> {
  const error = await promise.then(
    () => {
      throw new Error("expected the call to fail");
    },
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ProviderError);
  return error as ProviderError;
}

const providers: HttpProvider[] = ["artie", "bridgeport", "prisma"];

describe.each(providers)("%s over HTTP", (provider) => {
  const create = (client: ProviderClient<HttpProvider>, input = inputs[provider](), idempotencyKey = randomUUID()) =>
    client.createDatabase(input as never, { idempotencyKey });

  it("creates a database and finds it again", async () => {
    const client = clientFor(provider);
    const input = inputs[provider]();
    const idempotencyKey = randomUUID();
    const created = await client.createDatabase(input as never, { idempotencyKey });
    expect(created.status).toBe("ready");
    expect(created.name).toBe(input.name);
    const found = await client.findDatabase(client.identityOf(input as never, { idempotencyKey }) as never);
    expect(found?.name).toBe(input.name);
    expect(Object.values(await creationsOf(provider))).toEqual([1]);
  });

  it("answers null when looking up a database that does not exist", async () => {
    const client = clientFor(provider);
    const input = inputs[provider]();
    expect(
      await client.findDatabase(client.identityOf(input as never, { idempotencyKey: randomUUID() }) as never),
    ).toBeNull();
  });

  it("classifies a 400 as invalid and not retryable", async () => {
    await setFaults([{ provider, fault: "error", status: 400 }]);
    const error = await failureOf(create(clientFor(provider)));
    expect([error.kind, error.retryable, error.status]).toEqual(["invalid", false, 400]);
  });

  it("rejects input that fails the provider's schema without calling it", async () => {
    const error = await failureOf(create(clientFor(provider), { ...inputs[provider](), name: 42 } as never));
    expect([error.kind, error.field, error.status]).toEqual(["invalid", "name", undefined]);
    expect(await creationsOf(provider)).toEqual({});
  });

  it("classifies a wrong token as auth (401), and never shows the token", async () => {
    const error = await failureOf(create(clientFor(provider, "wrong-token-value")));
    expect([error.kind, error.retryable, error.status]).toEqual(["auth", false, 401]);
    expect(`${error} ${JSON.stringify(error)} ${error.stack}`).not.toContain("wrong-token-value");
  });

  it("classifies a token without write scope as auth (403)", async () => {
    const error = await failureOf(create(clientFor(provider, tokens[provider].read)));
    expect([error.kind, error.retryable, error.status]).toEqual(["auth", false, 403]);
  });

  it("honours Retry-After in seconds on a 429", async () => {
    await setFaults([{ provider, fault: "rate_limit", retryAfter: "2" }]);
    const error = await failureOf(create(clientFor(provider)));
    expect([error.kind, error.retryable, error.status, error.retryAfterMs]).toEqual(["rate_limited", true, 429, 2000]);
  });

  it("honours Retry-After as an HTTP date on a 429", async () => {
    const at = new Date(Date.now() + 5_000).toUTCString();
    await setFaults([{ provider, fault: "rate_limit", retryAfter: at }]);
    const error = await failureOf(create(clientFor(provider)));
    expect(error.kind).toBe("rate_limited");
    expect(error.retryAfterMs).toBeGreaterThan(2_000);
    expect(error.retryAfterMs).toBeLessThanOrEqual(5_000);
  });

  it("classifies a 5xx as transient and retryable", async () => {
    await setFaults([{ provider, fault: "error", status: 503 }]);
    const error = await failureOf(create(clientFor(provider)));
    expect([error.kind, error.retryable, error.status]).toEqual(["transient", true, 503]);
  });

  it("gives up on a hanging provider at the timeout", async () => {
    await setFaults([{ provider, fault: "hang" }]);
    const started = Date.now();
    const error = await failureOf(create(clientFor(provider, tokens[provider].write, 300)));
    expect([error.kind, error.retryable, error.code]).toEqual(["transient", true, "TIMEOUT"]);
    expect(Date.now() - started).toBeLessThan(2_000);
  });

  it("classifies a dropped connection as transient", async () => {
    await setFaults([{ provider, fault: "drop" }]);
    const error = await failureOf(create(clientFor(provider)));
    expect([error.kind, error.retryable]).toEqual(["transient", true]);
    expect(await creationsOf(provider)).toEqual({});
  });

  it("finds what a create whose response was lost made", async () => {
    await setFaults([{ provider, fault: "lost_response", times: 1 }]);
    const client = clientFor(provider);
    const input = inputs[provider]();
    const idempotencyKey = randomUUID();
    const error = await failureOf(client.createDatabase(input as never, { idempotencyKey }));
    expect([error.kind, error.retryable]).toEqual(["transient", true]);
    const found = await client.findDatabase(client.identityOf(input as never, { idempotencyKey }) as never);
    expect(found?.name).toBe(input.name);
    expect(Object.values(await creationsOf(provider))).toEqual([1]);
  });

  it("classifies a malformed look-up answer as its own kind", async () => {
    await setFaults([{ provider, operation: "find", fault: "malformed" }]);
    const client = clientFor(provider);
    const input = inputs[provider]();
    const error = await failureOf(
      client.findDatabase(client.identityOf(input as never, { idempotencyKey: "k" }) as never),
    );
    expect([error.kind, error.code]).toEqual(["malformed", "MALFORMED_RESPONSE"]);
  });
});

describe.each(["bridgeport", "prisma"] as const)("%s create answers", (provider) => {
  it("classifies a malformed create answer as its own kind, and retryable", async () => {
    await setFaults([{ provider, fault: "malformed" }]);
    const error = await failureOf(
      clientFor(provider).createDatabase(inputs[provider]() as never, { idempotencyKey: randomUUID() }),
    );
    expect([error.kind, error.retryable]).toEqual(["malformed", true]);
  });
});

describe("name conflicts", () => {
  it("BRIDGEPORT: a second create of the name answers 409 CONFLICT, and the look-up adopts it", async () => {
    const client = clientFor("bridgeport");
    const input = inputs.bridgeport();
    await client.createDatabase(input, { idempotencyKey: randomUUID() });
    const error = await failureOf(client.createDatabase(input, { idempotencyKey: randomUUID() }));
    expect([error.kind, error.retryable, error.status, error.code]).toEqual(["conflict", false, 409, "CONFLICT"]);
    expect((await client.findDatabase(client.identityOf(input, { idempotencyKey: "any" })))?.name).toBe(input.name);
  });

  it("BRIDGEPORT: the same Idempotency-Key replays the first answer without creating again", async () => {
    const client = clientFor("bridgeport");
    const input = inputs.bridgeport();
    const first = await client.createDatabase(input, { idempotencyKey: "key-1" });
    const again = await client.createDatabase(input, { idempotencyKey: "key-1" });
    expect(again.id).toBe(first.id);
    expect(Object.values(await creationsOf("bridgeport"))).toEqual([1]);
  });

  it("Prisma: the same idempotency key sends the same logicalId, so a repeat is a 409 conflict", async () => {
    const client = clientFor("prisma");
    const input = inputs.prisma();
    await client.createDatabase(input, { idempotencyKey: "key-2" });
    const error = await failureOf(client.createDatabase(input, { idempotencyKey: "key-2" }));
    expect([error.kind, error.status]).toEqual(["conflict", 409]);
    const found = await client.findDatabase(client.identityOf(input, { idempotencyKey: "key-2" }));
    expect(found?.name).toBe(input.name);
  });

  it("Prisma: connection strings come back as secrets, never in the resource", async () => {
    const created = await clientFor("prisma").createDatabase(inputs.prisma(), { idempotencyKey: randomUUID() });
    expect(created.secrets.directConnectionString).toMatch(/^postgres:\/\//);
    expect(JSON.stringify(created.resource)).not.toContain("postgres://");
  });

  it("BRIDGEPORT: the password never comes back in the resource", async () => {
    const created = await clientFor("bridgeport").createDatabase(inputs.bridgeport(), { idempotencyKey: randomUUID() });
    expect(JSON.stringify(created)).not.toContain("s3cret");
  });
});

describe("createProviderClient", () => {
  it("refuses a bad account at creation, naming the field and not the token", () => {
    expect(() => createProviderClient({ provider: "prisma", url: "not a url", token: "tok-secret-1" })).toThrow(/url/);
    expect(() => createProviderClient({ provider: "prisma", url: "not a url", token: "tok-secret-1" })).not.toThrow(
      /tok-secret-1/,
    );
    expect(() => createProviderClient({ provider: "artie", url: "http://x", token: "" })).toThrow(/token/);
  });
});

describe("Prisma provisioning", () => {
  it("reports provisioning at creation and ready once the provider is done", async () => {
    const slow = await startSandbox({ prismaProvisioningMs: 300 });
    try {
      const client = createProviderClient({
        provider: "prisma",
        url: `${slow.url}/prisma`,
        token: tokens.prisma.write,
      });
      const input = inputs.prisma();
      const created = await client.createDatabase(input, { idempotencyKey: "p-1" });
      expect(created.status).toBe("provisioning");
      await new Promise((resolve) => setTimeout(resolve, 400));
      const found = await client.findDatabase(client.identityOf(input, { idempotencyKey: "p-1" }));
      expect(found?.status).toBe("ready");
    } finally {
      await slow.close();
    }
  });
});
