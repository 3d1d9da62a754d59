import { z } from "zod";

/**
 * The body of BRIDGEPORT's `POST /api/environments/{envId}/databases`, plus `envId`,
 * which goes into the path.
 */
export const bridgeportCreateInputSchema = z.strictObject({
  envId: z.string().min(1),
  name: z.string().min(1),
  type: z.string().min(1),
  databaseTypeId: z.string().optional(),
  host: z.string().optional(),
  port: z.number().optional(),
  databaseName: z.string().optional(),
  username: z.string().optional(),
  /** A secret field. */
  password: z.string().optional(),
  filePath: z.string().optional(),
  useSsl: z.boolean().optional(),
  serverId: z.string().optional(),
  backupStorageType: z.enum(["local", "spaces"]).optional(),
  backupLocalPath: z.string().optional(),
  backupSpacesBucket: z.string().optional(),
  backupSpacesPrefix: z.string().optional(),
  backupFormat: z.enum(["plain", "custom", "tar"]).optional(),
  backupCompression: z.enum(["none", "gzip"]).optional(),
  backupCompressionLevel: z.number().min(1).max(9).optional(),
  pgDumpOptions: z
    .strictObject({
      noOwner: z.boolean().optional(),
      clean: z.boolean().optional(),
      ifExists: z.boolean().optional(),
      schemaOnly: z.boolean().optional(),
      dataOnly: z.boolean().optional(),
    })
    .optional(),
  pgDumpTimeoutMs: z.number().min(30_000).max(3_600_000).optional(),
});
export type BridgeportCreateInput = z.output<typeof bridgeportCreateInputSchema>;

// The published document leaves the success bodies unspecified; BRIDGEPORT answers
// `{database}` on create and `{databases, total}` on list. We require only what we use.
export const bridgeportDatabaseSchema = z.looseObject({ id: z.string(), name: z.string() });
export const bridgeportCreatedSchema = z.object({ database: bridgeportDatabaseSchema });
export const bridgeportDatabaseListSchema = z.object({
  databases: z.array(bridgeportDatabaseSchema),
  total: z.number().optional(),
});

export interface BridgeportIdentity {
  envId: string;
  name: string;
}
