import { describe, expect, it } from "vitest";
import { TOKENS, testSandbox } from "../test-support.ts";

const CREATE = "/artie/connectors/new-database";
const FIND = "/artie/connectors/databases";
const connector = { type: "snowflake", uuid: "conn-1", sharedConfig: { password: "secret" } };

describe("artie", () => {
  it("creates a database with 204 and no body", async () => {
    const sandbox = testSandbox();
    const response = await sandbox.call("POST", CREATE, { body: { name: "tenant_a", connector } });
    expect(response.status).toBe(204);
    expect(await response.text()).toBe("");
    expect(sandbox.state.stats().creations.artie).toEqual({ "conn-1/tenant_a": 1 });
  });

  it("lists the databases created in the same connector scope", async () => {
    const sandbox = testSandbox();
    await sandbox.call("POST", CREATE, { body: { name: "tenant_a", connector } });
    await sandbox.call("POST", CREATE, { body: { name: "other", connector: { uuid: "conn-2" } } });
    const response = await sandbox.call("POST", FIND, { body: connector });
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ items: [{ name: "tenant_a" }], metadata: [] });
    const empty = await sandbox.call("POST", FIND, { body: { uuid: "nowhere" } });
    expect(await empty.json()).toEqual({ items: [], metadata: [] });
  });

  it("answers 204 to a repeated name but counts it as a duplicate creation", async () => {
    const sandbox = testSandbox();
    await sandbox.call("POST", CREATE, { body: { name: "tenant_a", connector } });
    const again = await sandbox.call("POST", CREATE, { body: { name: "tenant_a", connector } });
    expect(again.status).toBe(204);
    const stats = sandbox.state.stats();
    expect(stats.creations.artie["conn-1/tenant_a"]).toBe(2);
    expect(stats.duplicates).toEqual(["artie:conn-1/tenant_a"]);
  });

  it("answers 400 {error} naming a missing field", async () => {
    const sandbox = testSandbox();
    const response = await sandbox.call("POST", CREATE, { body: { connector } });
    expect(response.status).toBe(400);
    const body = (await response.json()) as { error: string };
    expect(Object.keys(body)).toEqual(["error"]);
    expect(body.error).toContain('"name"');
  });

  it("rejects a connector uuid field that is not a uuid", async () => {
    const sandbox = testSandbox();
    const body = { name: "x", connector: { sshTunnelUUID: "nope" } };
    const response = await sandbox.call("POST", CREATE, { body });
    expect(response.status).toBe(400);
    expect(((await response.json()) as { error: string }).error).toContain("connector.sshTunnelUUID");
  });

  it("answers 400 to a body that is not JSON", async () => {
    const sandbox = testSandbox();
    const response = await sandbox.call("POST", CREATE, { rawBody: "{nope" });
    expect(response.status).toBe(400);
    expect(await response.json()).toEqual({ error: "Request body is not valid JSON." });
  });

  it("answers 401 without a token or with an unknown one", async () => {
    const sandbox = testSandbox();
    for (const token of [null, "wrong"]) {
      const response = await sandbox.call("POST", CREATE, { token, body: { name: "x", connector } });
      expect(response.status).toBe(401);
      expect(await response.json()).toHaveProperty("error");
    }
  });

  it("answers 403 to a create with the read-only token, which may still look up", async () => {
    const sandbox = testSandbox();
    const token = TOKENS.artie.read;
    const create = await sandbox.call("POST", CREATE, { token, body: { name: "x", connector } });
    expect(create.status).toBe(403);
    const find = await sandbox.call("POST", FIND, { token, body: connector });
    expect(find.status).toBe(200);
    expect(sandbox.state.stats().creations.artie).toEqual({});
  });

  it("accepts tokens given in the options instead of the defaults", async () => {
    const sandbox = testSandbox({ tokens: { artie: { write: "custom" } } });
    const body = { name: "x", connector };
    expect((await sandbox.call("POST", CREATE, { token: "custom", body })).status).toBe(204);
    expect((await sandbox.call("POST", CREATE, { body })).status).toBe(401);
  });
});
