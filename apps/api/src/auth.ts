import { createHash, timingSafeEqual } from "node:crypto";
import { createMiddleware } from "hono/factory";
import type { ApiEnv } from "./context.ts";
import { ApiError } from "./errors.ts";

export const scopes = ["jobs:write", "jobs:read", "dead-letters:manage", "secrets:read"] as const;
export type Scope = (typeof scopes)[number];

/** Who a request acts as. Only the name is ever logged. */
export interface TokenIdentity {
  name: string;
  scopes: ReadonlySet<Scope>;
}

/**
 * Turns a bearer token into an identity, or `undefined` for an unknown token. The API
 * needs nothing else, so a tokens file (`API_TOKENS_FILE`) or a store can plug in here.
 */
export interface TokenResolver {
  resolve(token: string): TokenIdentity | undefined;
}

export interface TokenEntry {
  name: string;
  token: string;
  scopes: readonly Scope[];
}

const digest = (value: string) => createHash("sha256").update(value, "utf8").digest();

/**
 * Resolves against a fixed list. Tokens are compared as SHA-256 digests (equal lengths,
 * so `timingSafeEqual` applies) and every entry is compared, so the time taken says
 * nothing about which token came close.
 */
export function staticTokenResolver(entries: readonly TokenEntry[]): TokenResolver {
  if (entries.length === 0) throw new Error("staticTokenResolver: at least one token is required");
  const known = entries.map((entry) => {
    if (entry.token.length === 0) throw new Error(`token ${entry.name} is empty`);
    return { digest: digest(entry.token), identity: { name: entry.name, scopes: new Set(entry.scopes) } };
  });
  return {
    resolve(token) {
      const presented = digest(token);
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
  return createMiddleware<ApiEnv>(async (c, next) => {
    const header = c.req.header("authorization");
    const match = header ? /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(header) : null;
    if (!match?.[1]) {
      throw new ApiError("UNAUTHORIZED", "an Authorization: Bearer <token> header is required");
    }
    const identity = tokens.resolve(match[1]);
    if (!identity) throw new ApiError("UNAUTHORIZED", "the bearer token is not valid");
    c.set("token", identity);
    await next();
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
