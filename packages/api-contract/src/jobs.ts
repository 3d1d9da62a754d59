import { matching, type ProviderName, providerInputSchemas, providerNames } from "@provisioner/provider-client";
import { fullFormats } from "ajv-formats/dist/formats.js";
import { z } from "zod";
import { attemptErrorSchema } from "./attempts.ts";

export const maxMetadataKeys = 32;

/** A job's status, in the product's words (queue's `statusOfState` maps BullMQ's states to these). */
export const jobStatuses = ["queued", "running", "retrying", "succeeded", "dead"] as const;
export const jobStatusSchema = z.enum(jobStatuses);
export type JobStatus = z.output<typeof jobStatusSchema>;

export const providerSchema = z.enum(providerNames);

/**
 * A job's lane within its account: `interactive` jobs start before waiting `bulk` ones, and
 * bulk batches share the account round robin; bulk still gets a share and never starves.
 */
export const lanes = ["interactive", "bulk"] as const;
export const laneSchema = z.enum(lanes);
export type Lane = z.output<typeof laneSchema>;

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
export const callbackUrlSchema = z
  .url({ protocol: /^https?$/ })
  .max(2048)
  .refine(isRfc3986Uri, "must be a URI (RFC 3986): percent-encode spaces and non-ASCII characters");

const metadataSchema = z
  .record(z.string().min(1).max(100), z.union([z.string().max(1000), z.number(), z.boolean(), z.null()]))
  .refine((metadata) => Object.keys(metadata).length <= maxMetadataKeys, `has more than ${maxMetadataKeys} keys`)
  .meta({ maxProperties: maxMetadataKeys, description: "Flat labels kept with the job and shown with it." });

const jobRequestFields = {
  account: z
    .string()
    .min(1)
    .max(100)
    .default("default")
    .meta({ description: "The provider account (from the configuration) to create the database at." }),
  idempotencyKey: idempotencyKeySchema.optional().meta({
    description:
      "Repeats with this key return the existing job. Default: derived from provider, account, database name and where it goes. The `Idempotency-Key` header is an alternative.",
  }),
  callbackUrl: callbackUrlSchema.optional(),
  metadata: metadataSchema.optional(),
  lane: laneSchema.optional().meta({
    description:
      "`interactive` starts before the account's waiting `bulk` jobs. Default: `interactive` for POST /v1/jobs and events, `bulk` for POST /v1/jobs/bulk.",
  }),
};

// One variant per provider, so `input` is checked against that provider's own schema and
// a failure names its field (`input.name`), in the same pass as the envelope.
const jobRequestFor = <P extends ProviderName>(provider: P) =>
  z.strictObject({
    provider: z.literal(provider),
    input: providerInputSchemas[provider] as (typeof providerInputSchemas)[P],
    ...jobRequestFields,
  });

/** `POST /v1/jobs`'s body, and each item of a bulk request. */
export const jobRequestSchema = z
  .discriminatedUnion("provider", [
    jobRequestFor("artie"),
    jobRequestFor("bridgeport"),
    jobRequestFor("prisma"),
    jobRequestFor("postgres"),
    jobRequestFor("mysql"),
  ])
  .meta({
    id: "JobRequest",
    description: "One create-database request; `input` is the provider's create body.",
    example: {
      provider: "postgres",
      input: { name: "tenant_acme" },
      idempotencyKey: "signup-8421",
      callbackUrl: "https://hooks.example.com/provisioner",
      metadata: { tenant: "acme" },
    },
  });
/** A request as the API holds it once parsed (`account` defaulted). */
export type JobRequest = z.output<typeof jobRequestSchema>;
/** A request as a caller writes it. */
export type JobRequestBody = z.input<typeof jobRequestSchema>;

/** The answer to a submission: the job that stands for the request, new or not. */
export const submittedSchema = z
  .object({ id: z.string(), status: jobStatusSchema, deduplicated: z.boolean() })
  .meta({ id: "Submitted" });
export type Submitted = z.output<typeof submittedSchema>;

/** A job as the API shows it: no secret, encrypted or not, ever reaches this shape. */
export const jobViewSchema = z
  .object({
    id: z.string(),
    provider: providerSchema,
    account: z.string(),
    lane: laneSchema,
    status: jobStatusSchema,
    attempts: z.number().int(),
    maxAttempts: z.number().int(),
    nextAttemptAt: z.string().nullable(),
    createdAt: z.string(),
    finishedAt: z.string().nullable(),
    idempotencyKey: z.string(),
    batchId: z.string().nullable(),
    metadata: z.record(z.string(), z.unknown()).nullable(),
    input: z.record(z.string(), z.unknown()).meta({ description: "The request body, secret fields removed." }),
    result: z
      .object({ outcome: z.enum(["created", "deduplicated"]), resource: z.record(z.string(), z.unknown()) })
      .nullable(),
    errors: z.array(attemptErrorSchema),
  })
  .meta({ id: "Job" });
export type JobView = z.output<typeof jobViewSchema>;

export const jobListSchema = z.object({ jobs: z.array(jobViewSchema), nextCursor: z.string().nullable() });
export type JobList = z.output<typeof jobListSchema>;

export const listJobsQuerySchema = z.object({
  status: jobStatusSchema.optional(),
  provider: providerSchema.optional(),
  cursor: z.string().max(500).optional(),
  limit: z.coerce.number().int().min(1).max(200).optional(),
});
export type ListJobsQuery = z.output<typeof listJobsQuerySchema>;

/** `GET /v1/jobs/{id}/secrets`: for `secrets:read` only. */
export const jobSecretsSchema = z
  .object({
    input: z.record(z.string(), z.unknown()).meta({ description: "Secret input fields by dotted path." }),
    result: z.record(z.string(), z.string()).meta({ description: "Secrets the provider returned." }),
  })
  .meta({ id: "JobSecrets" });
export type JobSecrets = z.output<typeof jobSecretsSchema>;
