// The zod schemas that validate requests and describe responses; /openapi.json is generated from these.
// Schemas from other packages may predate the `.openapi()` extension (zod 4 copies methods onto each
// instance when it is made), so they are used as they are, never `.openapi()`-ed here.
import { z } from "@hono/zod-openapi";
import {
  errorKinds,
  matching,
  type ProviderName,
  providerInputSchemas,
  providerNames,
} from "@provisioner/provider-client";
import { attemptErrorSchema, jobStatuses } from "@provisioner/queue";
import { fullFormats } from "ajv-formats/dist/formats.js";
import { errorCodeSchema } from "./errors.ts";

export const maxBulkJobs = 1000;
export const maxMetadataKeys = 32;

export const providerSchema = z.enum(providerNames);
export const jobStatusSchema = z.enum(jobStatuses);
export const deadLetterKindSchema = z.enum([...errorKinds, "expired"]);
// No control characters (Unicode category Cc), spelled as the C0 and C1 ranges and DEL rather
// than `\P{Cc}`, so that pattern dialects without Unicode property escapes read it the same.
// biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what it refuses
export const idempotencyKeySchema = matching(/^[^\x00-\x1F\x7F-\x9F]+$/u, "must not contain control characters")
  .min(1)
  .max(255);

// The document says `format: uri`, which validators check as RFC 3986 (ajv-formats' `uri`);
// WHATWG parsing alone (z.url) also takes spaces, non-ASCII and bad %-escapes, so the API
// runs the very check the validators run, and refuses what the document refuses.
const isRfc3986Uri = fullFormats.uri as (value: string) => boolean;
const callbackUrlSchema = z
  .url({ protocol: /^https?$/ })
  .max(2048)
  .refine(isRfc3986Uri, "must be a URI (RFC 3986): percent-encode spaces and non-ASCII characters");

const metadataSchema = z
  .record(z.string().min(1).max(100), z.union([z.string().max(1000), z.number(), z.boolean(), z.null()]))
  .refine((metadata) => Object.keys(metadata).length <= maxMetadataKeys, `has more than ${maxMetadataKeys} keys`)
  .openapi({ maxProperties: maxMetadataKeys, description: "Flat labels kept with the job and shown with it." });

const jobRequestFields = {
  account: z
    .string()
    .min(1)
    .max(100)
    .default("default")
    .openapi({ description: "The provider account (from the configuration) to create the database at." }),
  idempotencyKey: idempotencyKeySchema.optional().openapi({
    description:
      "Repeats with this key return the existing job. Default: derived from provider, account, database name and where it goes. The `Idempotency-Key` header is an alternative.",
  }),
  callbackUrl: callbackUrlSchema.optional(),
  metadata: metadataSchema.optional(),
};

// One variant per provider, so `input` is checked against that provider's own schema and
// a failure names its field (`input.name`), in the same pass as the envelope.
const jobRequestFor = <P extends ProviderName>(provider: P) =>
  z.strictObject({
    provider: z.literal(provider),
    input: providerInputSchemas[provider] as (typeof providerInputSchemas)[P],
    ...jobRequestFields,
  });

export const jobRequestSchema = z
  .discriminatedUnion("provider", [
    jobRequestFor("artie"),
    jobRequestFor("bridgeport"),
    jobRequestFor("prisma"),
    jobRequestFor("postgres"),
  ])
  .openapi("JobRequest", {
    description: "One create-database request; `input` is the provider's create body.",
    example: {
      provider: "postgres",
      input: { name: "tenant_acme" },
      idempotencyKey: "signup-8421",
      callbackUrl: "https://hooks.example.com/provisioner",
      metadata: { tenant: "acme" },
    },
  });
export type JobRequest = z.output<typeof jobRequestSchema>;

export const idempotencyHeaderSchema = z.object({
  "idempotency-key": idempotencyKeySchema
    .optional()
    .openapi({ description: "Alternative to the body's `idempotencyKey`." }),
});

export const bulkRequestSchema = z
  .strictObject({
    // Items are validated one by one in the handler so one bad item rejects only itself.
    jobs: z
      .array(z.unknown())
      .min(1)
      .max(maxBulkJobs)
      .openapi({ items: { $ref: "#/components/schemas/JobRequest" } }),
  })
  .openapi("BulkRequest", {
    example: {
      jobs: [
        { provider: "postgres", input: { name: "tenant_north" }, metadata: { region: "north" } },
        { provider: "postgres", input: { name: "tenant_south" }, metadata: { region: "south" } },
      ],
    },
  });

export const submittedSchema = z
  .object({ id: z.string(), status: jobStatusSchema, deduplicated: z.boolean() })
  .openapi("Submitted");

export const bulkResponseSchema = z
  .object({
    batchId: z.uuid(),
    accepted: z.number().int().openapi({ description: "Items queued or answered by an existing job." }),
    deduplicated: z.number().int(),
    rejected: z.array(
      z.object({
        index: z.number().int(),
        error: z.object({ code: errorCodeSchema, message: z.string(), field: z.string().optional() }),
      }),
    ),
    jobs: z.array(submittedSchema.extend({ index: z.number().int() })),
  })
  .openapi("BulkResponse");

export const jobViewSchema = z
  .object({
    id: z.string(),
    provider: providerSchema,
    account: z.string(),
    status: jobStatusSchema,
    attempts: z.number().int(),
    maxAttempts: z.number().int(),
    nextAttemptAt: z.string().nullable(),
    createdAt: z.string(),
    finishedAt: z.string().nullable(),
    idempotencyKey: z.string(),
    batchId: z.string().nullable(),
    metadata: z.record(z.string(), z.unknown()).nullable(),
    input: z.record(z.string(), z.unknown()).openapi({ description: "The request body, secret fields removed." }),
    result: z
      .object({ outcome: z.enum(["created", "deduplicated"]), resource: z.record(z.string(), z.unknown()) })
      .nullable(),
    errors: z.array(attemptErrorSchema),
  })
  .openapi("Job");

export const jobListSchema = z.object({ jobs: z.array(jobViewSchema), nextCursor: z.string().nullable() });

export const listJobsQuerySchema = z.object({
  status: jobStatusSchema.optional(),
  provider: providerSchema.optional(),
  cursor: z.string().max(500).optional(),
  limit: z.coerce.number().int().min(1).max(200).optional(),
});

export const jobSecretsSchema = z
  .object({
    input: z.record(z.string(), z.unknown()).openapi({ description: "Secret input fields by dotted path." }),
    result: z.record(z.string(), z.string()).openapi({ description: "Secrets the provider returned." }),
  })
  .openapi("JobSecrets");

const countSchema = z.number().int();
export const batchViewSchema = z
  .object({
    id: z.string(),
    total: z.number().int(),
    counts: z.object({
      queued: countSchema,
      running: countSchema,
      retrying: countSchema,
      succeeded: countSchema,
      dead: countSchema,
      expired: countSchema.openapi({ description: "Jobs past their retention." }),
    }),
    dead: z.array(z.object({ id: z.string(), reason: z.string().nullable() })),
  })
  .openapi("Batch");

export const deadLetterViewSchema = z
  .object({
    id: z.string(),
    provider: providerSchema,
    account: z.string(),
    diedAt: z.string(),
    reason: attemptErrorSchema,
    errors: z.array(attemptErrorSchema),
    attemptsMade: z.number().int(),
    request: z.object({
      input: z.record(z.string(), z.unknown()),
      idempotencyKey: z.string(),
      batchId: z.string().nullable(),
      callbackUrl: z.string().nullable(),
      metadata: z.record(z.string(), z.unknown()).nullable(),
      submittedAt: z.string(),
    }),
  })
  .openapi("DeadLetter");

export const deadLetterListSchema = z.object({ deadLetters: z.array(deadLetterViewSchema), total: z.number().int() });

export const listDeadLettersQuerySchema = z.object({
  provider: providerSchema.optional(),
  kind: deadLetterKindSchema.optional(),
  offset: z.coerce.number().int().min(0).optional(),
  limit: z.coerce.number().int().min(1).max(200).optional(),
});

export const replayOneSchema = z.strictObject({
  input: z
    .record(z.string(), z.unknown())
    .optional()
    .openapi({ description: "A corrected create body; checked against the dead job's provider schema." }),
});

export const replayManySchema = z
  .strictObject({
    provider: providerSchema.optional(),
    kind: deadLetterKindSchema.optional(),
    all: z.boolean().optional(),
  })
  .refine((filter) => filter.provider !== undefined || filter.kind !== undefined || filter.all === true, {
    path: ["all"],
    message: "give provider, kind, or all: true",
  });

export const replayedSchema = z.object({ id: z.string(), status: z.literal("queued") });
export const replayedManySchema = z.object({
  replayed: z.number().int(),
  ids: z.array(z.string()),
  skipped: z.array(z.string()).openapi({ description: "Entries whose job is no longer dead." }),
});

export const idParamSchema = z.object({
  id: z
    .string()
    .min(1)
    .max(200)
    .openapi({ param: { name: "id", in: "path" } }),
});

export const okSchema = z.object({ ok: z.literal(true) });
