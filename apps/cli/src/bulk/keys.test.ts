import { expect, it } from "vitest";
import { idempotencyKeyFor } from "./keys.ts";

const input = { envId: "env_1", name: "tenant-1", type: "postgres", password: "hunter2" };

it("gives the same row the same key, whatever the order of its keys", () => {
  const reordered = { type: "postgres", password: "hunter2", name: "tenant-1", envId: "env_1" };
  expect(idempotencyKeyFor("bridgeport", "default", input)).toBe(idempotencyKeyFor("bridgeport", "default", reordered));
  expect(idempotencyKeyFor("bridgeport", "default", input)).toMatch(/^cli:[0-9a-f]{64}$/);
});

it("gives a different key for another account, provider or database", () => {
  const key = idempotencyKeyFor("bridgeport", "default", input);
  expect(idempotencyKeyFor("bridgeport", "eu", input)).not.toBe(key);
  expect(idempotencyKeyFor("prisma", "default", input)).not.toBe(key);
  expect(idempotencyKeyFor("bridgeport", "default", { ...input, name: "tenant-2" })).not.toBe(key);
});

it("leaves secret fields out of the key, so it says nothing about a password", () => {
  const key = idempotencyKeyFor("bridgeport", "default", input);
  expect(idempotencyKeyFor("bridgeport", "default", { ...input, password: "other" })).toBe(key);
  const artie = { name: "db", connector: { type: "snowflake", uuid: "c1", sharedConfig: { password: "a" } } };
  const changed = { ...artie, connector: { ...artie.connector, sharedConfig: { password: "b" } } };
  expect(idempotencyKeyFor("artie", "default", changed)).toBe(idempotencyKeyFor("artie", "default", artie));
  expect(artie.connector.sharedConfig.password).toBe("a");
});
