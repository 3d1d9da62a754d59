/** Routes under /v1 take the bearer token of the `bearerAuth` scheme that app.ts registers. */
export const bearer = [{ bearerAuth: [] }];

/** A documented JSON response. */
export const json = <T>(schema: T, description: string) => ({
  description,
  content: { "application/json": { schema } },
});
