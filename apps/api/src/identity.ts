// Who a request acts as. Its own module so that authentication (auth.ts) and the context it
// fills (context.ts) both depend on it rather than on each other.

export const scopes = ["jobs:write", "jobs:read", "dead-letters:manage", "secrets:read"] as const;
export type Scope = (typeof scopes)[number];

/** Who a request acts as. Only the name is ever logged. */
export interface TokenIdentity {
  name: string;
  scopes: ReadonlySet<Scope>;
}
