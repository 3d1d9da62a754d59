import { requireScope, type Scope } from "../auth.ts";

/**
 * What a route needs to be guarded by `scope`: the check itself and the `bearerAuth`
 * requirement (app.ts registers the scheme) naming the scope, which OpenAPI 3.1 allows for
 * non-OAuth schemes. One value for both, so the document cannot say one scope while the
 * route checks another.
 */
export const scoped = (scope: Scope) => ({
  security: [{ bearerAuth: [scope] }],
  middleware: [requireScope(scope)] as [ReturnType<typeof requireScope>],
});

/** A documented JSON response. */
export const json = <T>(schema: T, description: string) => ({
  description,
  content: { "application/json": { schema } },
});
