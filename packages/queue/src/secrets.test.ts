import { randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import {
  decryptFields,
  decryptValue,
  encryptFields,
  encryptValue,
  isEncrypted,
  parseKeyring,
  redactFields,
} from "./secrets.ts";

const oldKey = randomBytes(32).toString("base64");
const newKey = randomBytes(32).toString("base64");

describe("encryption at rest", () => {
  it("round-trips any JSON value", () => {
    const keyring = parseKeyring(oldKey);
    const sealed = encryptValue(keyring, { host: "h", password: "p@ss" });
    expect(sealed).not.toContain("p@ss");
    expect(decryptValue(keyring, sealed)).toEqual({ host: "h", password: "p@ss" });
  });

  it("rotates keys: new entries use the first key, old ones stay readable", () => {
    const before = parseKeyring(`k1:${oldKey}`);
    const sealedBefore = encryptValue(before, "secret-1");
    const after = parseKeyring(`k2:${newKey},k1:${oldKey}`);
    expect(decryptValue(after, sealedBefore)).toBe("secret-1");
    const sealedAfter = encryptValue(after, "secret-2");
    expect(sealedAfter.startsWith("enc:v1:k2:")).toBe(true);
    expect(() => decryptValue(before, sealedAfter)).toThrow(/unknown key id k2/);
  });

  it("refuses tampered ciphertext", () => {
    const keyring = parseKeyring(oldKey);
    const sealed = encryptValue(keyring, "x");
    const tampered = `${sealed.slice(0, -2)}${sealed.endsWith("A") ? "B" : "A"}A`;
    expect(() => decryptValue(keyring, tampered)).toThrow();
  });

  it("refuses a key that is not 32 bytes", () => {
    expect(() => parseKeyring("c2hvcnQ=")).toThrow(/32 bytes/);
  });

  it("encrypts, decrypts and redacts only the named fields", () => {
    const keyring = parseKeyring(oldKey);
    const input = { name: "db", connector: { type: "x", sharedConfig: { password: "p" } } };
    const sealed = encryptFields(keyring, input, [["connector", "sharedConfig"]]);
    expect(sealed.name).toBe("db");
    expect(isEncrypted((sealed.connector as Record<string, unknown>).sharedConfig)).toBe(true);
    expect(decryptFields(keyring, sealed, [["connector", "sharedConfig"]])).toEqual(input);
    expect(redactFields(input, [["connector", "sharedConfig"]])).toEqual({
      name: "db",
      connector: { type: "x", sharedConfig: "[redacted]" },
    });
    expect(input.connector.sharedConfig.password).toBe("p");
  });
});
