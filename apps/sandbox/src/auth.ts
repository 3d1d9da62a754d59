import { createHash, timingSafeEqual } from "node:crypto";
import type { TokenPair } from "./options.ts";

export type Scope = "write" | "read";
export type AuthOutcome = "allowed" | "unauthenticated" | "forbidden";

/** Checks `Authorization: Bearer <token>` against a provider's tokens, in constant time. */
export function authorize(header: string | undefined, tokens: TokenPair, needed: Scope): AuthOutcome {
  const presented = /^Bearer\s+(\S+)\s*$/i.exec(header ?? "")?.[1];
  if (presented === undefined) return "unauthenticated";
  // Both comparisons always run so the time taken says nothing about which token was close.
  const isWrite = sameSecret(presented, tokens.write);
  const isRead = sameSecret(presented, tokens.read);
  if (isWrite) return "allowed";
  if (isRead) return needed === "read" ? "allowed" : "forbidden";
  return "unauthenticated";
}

function sameSecret(a: string, b: string): boolean {
  // Digests have equal length whatever the inputs, which timingSafeEqual requires.
  return timingSafeEqual(digest(a), digest(b));
}

function digest(value: string): Buffer {
  return createHash("sha256").update(value).digest();
}
