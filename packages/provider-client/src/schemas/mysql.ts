import { z } from "zod";
import { matching } from "./documented.ts";

/**
 * `CREATE DATABASE name [CHARACTER SET charset] [COLLATE collation]` on MySQL or MariaDB.
 * Quoted identifiers could hold almost anything, but a database per tenant wants names that
 * every tool handles unquoted (and that map to the same directory name on every file
 * system); 64 characters is MySQL's limit for a database name.
 */
export const mysqlCreateInputSchema = z.strictObject({
  name: matching(/^[A-Za-z_][A-Za-z0-9_]{0,63}$/u, "must be a letter or _ followed by up to 63 letters, digits or _"),
  // Whether the server knows the character set or collation is the server's to say (a
  // non-retryable `invalid`); here they only have to be names, so nothing else reaches it.
  characterSet: matching(/^[A-Za-z0-9_]{1,32}$/u, "is not a character set name").optional(),
  collation: matching(/^[A-Za-z0-9_]{1,64}$/u, "is not a collation name").optional(),
});
export type MysqlCreateInput = z.output<typeof mysqlCreateInputSchema>;

export interface MysqlIdentity {
  name: string;
}
