import { randomBytes } from "node:crypto";

const ALPHABET = "0123456789abcdefghijklmnopqrstuvwxyz";

/**
 * A random lowercase id such as `db_k3j9…`. Lowercase alphanumerics only, because
 * Prisma's id pattern (`[a-z0-9]+`) is the strictest of the providers' formats.
 */
export function randomId(prefix: string, length = 20): string {
  const bytes = randomBytes(length);
  let id = "";
  for (const byte of bytes) id += ALPHABET[byte % ALPHABET.length];
  return `${prefix}${id}`;
}

export function randomSecret(): string {
  return randomBytes(18).toString("base64url");
}
