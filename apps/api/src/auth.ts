import { hash, timingSafeEqual } from "node:crypto";
import { createMiddleware } from "hono/factory";
import type { ApiEnv } from "./context.ts";
import { ApiError } from "./errors.ts";
import { type Scope, scopes, type TokenIdentity } from "./identity.ts";

/**
 * Turns a bearer token into an identity, or `undefined` for an unknown token. The API
 * needs nothing else, so a tokens file (`API_TOKENS_FILE`) or a store can plug in here.
 */
export interface TokenResolver {
  resolve(token: string): TokenIdentity | undefined;
}

/**
 * One known token: the token itself, or only its SHA-256 digest (64 hex digits), so a
 * tokens file need not hold the secret.
 */
export type TokenEntry = { name: string; scopes: readonly Scope[] } & (
  | { token: string; sha256?: never }
  | { sha256: string; token?: never }
);

const sha256Pattern = /^[0-9a-f]{64}$/i;

/**
 * The SHA-256 of a token, as `API_TOKENS_FILE`'s `sha256:` entries hold it. One-shot, as hex
 * then decoded: ~0.5 µs a request, where a Hash object or `hash()`'s "buffer" output cost ~2 µs.
 */
export const tokenDigest = (token: string): Buffer => Buffer.from(hash("sha256", token, "hex"), "hex");

function digestOf(entry: TokenEntry): Buffer {
  if (entry.sha256 !== undefined) {
    if (!sha256Pattern.test(entry.sha256)) throw new Error(`token ${entry.name}: sha256 must be 64 hex digits`);
    return Buffer.from(entry.sha256, "hex");
  }
  if (entry.token.length === 0) throw new Error(`token ${entry.name} is empty`);
  return tokenDigest(entry.token);
}

/**
 * Resolves against a fixed list. Tokens are compared as SHA-256 digests (equal lengths,
 * so `timingSafeEqual` applies) and every entry is compared, so the time taken says
 * nothing about which token came close.
 */
export function staticTokenResolver(entries: readonly TokenEntry[]): TokenResolver {
  if (entries.length === 0) throw new Error("staticTokenResolver: at least one token is required");
  const known = entries.map((entry) => ({
    digest: digestOf(entry),
    identity: { name: entry.name, scopes: new Set(entry.scopes) },
  }));
  // Two names for one token would make the name in the logs a guess.
  known.forEach((entry, i) => {
    const earlier = known.slice(0, i).find((other) => other.digest.equals(entry.digest));
    if (earlier) throw new Error(`tokens ${earlier.identity.name} and ${entry.identity.name} are the same token`);
    if (known.slice(0, i).some((other) => other.identity.name === entry.identity.name)) {
      throw new Error(`two tokens are named ${entry.identity.name}`);
    }
  });
  return {
    resolve(token) {
      const presented = tokenDigest(token);
      let match: TokenIdentity | undefined;
      for (const entry of known) if (timingSafeEqual(presented, entry.digest)) match ??= entry.identity;
      return match;
    },
  };
}

/** `API_TOKEN`: one token named "default" with every scope. */
export const singleTokenResolver = (token: string): TokenResolver =>
  staticTokenResolver([{ name: "default", token, scopes }]);

/** Resolves the bearer token of every request it guards; 401 when there is none or it is unknown. */
export function authenticate(tokens: TokenResolver) {
  // Not async: a layer that only checks and hands on returns next()'s promise rather than making its own.
  return createMiddleware<ApiEnv>((c, next) => {
    const header = c.req.header("authorization");
    const match = header ? /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(header) : null;
    if (!match?.[1]) {
      throw new ApiError("UNAUTHORIZED", "an Authorization: Bearer <token> header is required");
    }
    const identity = tokens.resolve(match[1]);
    if (!identity) throw new ApiError("UNAUTHORIZED", "the bearer token is not valid");
    c.set("token", identity);
    return next();
  });
}

/** Route middleware: 403 unless the authenticated token holds `scope`. */
export function requireScope(scope: Scope) {
  return createMiddleware<ApiEnv>(async (c, next) => {
    const identity = c.get("token");
    if (!identity) throw new ApiError("UNAUTHORIZED", "an Authorization: Bearer <token> header is required");
    if (!identity.scopes.has(scope)) {
      throw new ApiError("FORBIDDEN", `this token lacks the ${scope} scope`, { hint: `ask for a token with ${scope}` });
    }
    await next();
  });
}
