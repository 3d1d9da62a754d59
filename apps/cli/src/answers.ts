// The API's answers as this CLI reads them: the contract's schemas (@provisioner/api-contract),
// loosened where an API newer than the CLI may say more. A field the API adds passes through
// (and shows in `--json`); an error kind, error code or provider the CLI has not heard of is
// shown as it is rather than refused. Statuses and counts stay strict: the CLI acts on them.
import {
  attemptErrorSchema,
  batchViewSchema,
  bulkResponseSchema,
  callbackDeliveryListSchema,
  callbackDeliveryViewSchema,
  callbackRetriedSchema,
  deadLetterListSchema,
  deadLetterViewSchema,
  errorEnvelopeSchema,
  jobViewSchema,
  replayedManySchema,
  replayedSchema,
} from "@provisioner/api-contract";
import { z } from "zod";

// What the CLI prints of an attempt (at, attempt, kind, status, code, message); the rest passes through.
const attemptError = attemptErrorSchema
  .pick({ at: true, attempt: true, status: true, code: true, message: true })
  .extend({ kind: z.string() })
  .loose();
export type AttemptError = z.output<typeof attemptError>;

export const jobAnswer = jobViewSchema
  .extend({
    provider: z.string(),
    result: jobViewSchema.shape.result.unwrap().loose().nullable(),
    errors: z.array(attemptError),
  })
  .loose();
export type JobView = z.output<typeof jobAnswer>;

export const deadLetterAnswer = deadLetterViewSchema
  .extend({
    provider: z.string(),
    reason: attemptError,
    errors: z.array(attemptError),
    request: deadLetterViewSchema.shape.request.loose(),
  })
  .loose();
export type DeadLetterView = z.output<typeof deadLetterAnswer>;

export const deadLetterListAnswer = deadLetterListSchema.extend({ deadLetters: z.array(deadLetterAnswer) }).loose();
export type DeadLetterList = z.output<typeof deadLetterListAnswer>;

const rejection = bulkResponseSchema.shape.rejected.element;
export const bulkAnswer = bulkResponseSchema
  .extend({
    rejected: z.array(rejection.extend({ error: rejection.shape.error.extend({ code: z.string() }).loose() })),
  })
  .loose();
export type BulkResponse = z.output<typeof bulkAnswer>;

// `outcomes` is newer than the rest: an older API leaves it out, and the summary then reads the rows.
export const batchAnswer = batchViewSchema.extend({ outcomes: batchViewSchema.shape.outcomes.optional() }).loose();
export type BatchView = z.output<typeof batchAnswer>;

export const callbackDeliveryAnswer = callbackDeliveryViewSchema.extend({ event: z.string() }).loose();
export type CallbackDeliveryView = z.output<typeof callbackDeliveryAnswer>;
export const callbackDeliveryListAnswer = callbackDeliveryListSchema
  .extend({ deliveries: z.array(callbackDeliveryAnswer) })
  .loose();
export const callbackRetriedAnswer = callbackRetriedSchema.loose();

export const replayedAnswer = replayedSchema.loose();
export const replayedManyAnswer = replayedManySchema.loose();
export type ReplayedMany = z.output<typeof replayedManyAnswer>;

// Any code, and the request id may come from the header instead (client.ts): a proxy or a newer API may answer.
const errorDetail = errorEnvelopeSchema.shape.error;
export const errorAnswer = z.object({
  error: errorDetail.extend({ code: z.string(), requestId: errorDetail.shape.requestId.optional() }),
});
