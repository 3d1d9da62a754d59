import { z } from "zod";
import { matching } from "./documented.ts";

const idPattern = (prefix: string) => new RegExp(`^(${prefix}_)?([cC][^\\s-]{8,}|[a-z0-9]+)$`, "u");

/**
 * The body of Prisma's `POST /v1/databases`, as `@prisma/management-api-sdk` 1.80 types it
 * (the mirrored OpenAPI document predates `branchId`, `branchGitName` and `logicalId`).
 */
export const prismaCreateInputSchema = z
  .strictObject({
    projectId: matching(idPattern("proj"), "is not a Prisma project id"),
    region: z
      .enum(["us-east-1", "us-west-1", "eu-west-3", "eu-central-1", "ap-northeast-1", "ap-southeast-1", "inherit"])
      .optional(),
    name: z.string().min(1).optional(),
    isDefault: z.boolean().optional(),
    source: z
      .discriminatedUnion("type", [
        z.strictObject({ type: z.literal("empty") }),
        z.strictObject({
          type: z.literal("backup"),
          databaseId: matching(idPattern("db"), "is not a Prisma database id"),
          backupId: z.string().min(1),
        }),
        z.strictObject({
          type: z.literal("database"),
          databaseId: matching(idPattern("db"), "is not a Prisma database id"),
        }),
      ])
      .optional(),
    branchId: z.string().min(1).optional(),
    branchGitName: z.string().min(1).optional(),
    logicalId: z.string().min(1).max(200).optional(),
  })
  .superRefine((input, ctx) => {
    // Prisma refuses logicalId with branchGitName, and Provisioner always sends a logicalId:
    // it is how a retried create finds the database the first try made.
    if (input.branchGitName !== undefined) {
      ctx.addIssue({
        code: "custom",
        path: ["branchGitName"],
        message:
          "cannot be used: Prisma does not accept it together with logicalId, which Provisioner always sends; pass branchId instead",
      });
    }
  });
export type PrismaCreateInput = z.output<typeof prismaCreateInputSchema>;

const endpointSchema = z.looseObject({
  host: z.string(),
  port: z.number(),
  connectionString: z.string().optional(),
});

const connectionSchema = z.looseObject({
  id: z.string(),
  name: z.string().optional(),
  endpoints: z.looseObject({
    direct: endpointSchema.optional(),
    pooled: endpointSchema.optional(),
    accelerate: endpointSchema.optional(),
  }),
  directConnection: z.looseObject({ host: z.string(), pass: z.string(), user: z.string() }).nullable().optional(),
});
export type PrismaConnection = z.output<typeof connectionSchema>;

export const prismaDatabaseSchema = z.looseObject({
  id: z.string(),
  name: z.string(),
  status: z.enum(["failure", "provisioning", "ready", "recovering"]),
  connections: z.array(connectionSchema).default([]),
  branchId: z.string().nullable().optional(),
  logicalId: z.string().nullable().optional(),
});
export type PrismaDatabase = z.output<typeof prismaDatabaseSchema>;

const paginationSchema = z.object({ nextCursor: z.string().nullable(), hasMore: z.boolean() });

export const prismaCreatedSchema = z.object({ data: prismaDatabaseSchema });
export const prismaDatabaseListSchema = z.object({
  data: z.array(prismaDatabaseSchema),
  pagination: paginationSchema.optional(),
});

/** The answer of `POST /v1/databases/{databaseId}/connections`: the only one with its strings. */
export const prismaConnectionCreatedSchema = z.object({ data: connectionSchema });
/** The answer of `GET /v1/databases/{databaseId}/connections`. */
export const prismaConnectionListSchema = z.object({
  data: z.array(connectionSchema.extend({ name: z.string() })),
  pagination: paginationSchema,
});

export interface PrismaIdentity {
  projectId: string;
  logicalId: string;
  branchId?: string | undefined;
}
