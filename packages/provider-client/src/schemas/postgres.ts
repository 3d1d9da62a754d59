import { z } from "zod";
import { matching } from "./documented.ts";

// Quoted identifiers could hold anything, but a database per tenant wants names that
// every tool handles unquoted; 63 bytes is PostgreSQL's NAMEDATALEN - 1.
const identifier = matching(
  /^[A-Za-z_][A-Za-z0-9_]{0,62}$/u,
  "must be a letter or _ followed by up to 62 letters, digits or _",
);

/** `CREATE DATABASE name [OWNER owner] [TEMPLATE template] [ENCODING encoding]`. */
export const postgresCreateInputSchema = z.strictObject({
  name: identifier,
  owner: identifier.optional(),
  template: identifier.optional(),
  encoding: matching(/^[A-Za-z0-9_-]{1,32}$/u, "is not an encoding name").optional(),
});
export type PostgresCreateInput = z.output<typeof postgresCreateInputSchema>;

export interface PostgresIdentity {
  name: string;
}
