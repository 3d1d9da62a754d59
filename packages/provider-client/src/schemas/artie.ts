import { z } from "zod";
import { guid } from "./documented.ts";

/** `PayloadsConnectorPayload` of Artie's OpenAPI document (v1.0.76). */
export const artieConnectorSchema = z.strictObject({
  dataPlaneName: z.string().optional(),
  defaultDatabase: z.string().nullable().optional(),
  environmentUUID: guid().nullable().optional(),
  label: z.string().optional(),
  privateLinkUUID: guid().nullable().optional(),
  /** Free-form destination settings; holds credentials, so it is a secret field. */
  sharedConfig: z.record(z.string(), z.unknown()).nullable().optional(),
  snapshotPrivateLinkUUID: guid().nullable().optional(),
  sshTunnelUUID: guid().nullable().optional(),
  type: z.string().optional(),
  uuid: z.string().optional(),
});

/** `RouterConnectorCreateDatabaseRequest`: the body of `POST /connectors/new-database`. */
export const artieCreateInputSchema = z.strictObject({
  name: z.string().min(1),
  connector: artieConnectorSchema,
});
export type ArtieCreateInput = z.output<typeof artieCreateInputSchema>;

/** `PayloadsConnectorFetchDatabasesResponse`: the answer of `POST /connectors/databases`. */
export const artieDatabaseListSchema = z.object({
  items: z
    .array(z.object({ name: z.string() }))
    .nullable()
    .optional(),
  metadata: z.array(z.unknown()).nullable().optional(),
});

export interface ArtieIdentity {
  name: string;
  connector: ArtieCreateInput["connector"];
}
