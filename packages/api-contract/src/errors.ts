import { z } from "zod";

/** Every code an error answer can carry. The API maps each to its HTTP status (apps/api/src/errors.ts). */
export const errorCodes = [
  "VALIDATION_ERROR",
  "INVALID_JSON",
  "UNAUTHORIZED",
  "FORBIDDEN",
  "NOT_FOUND",
  "CONFLICT",
  "IDEMPOTENCY_KEY_REUSED",
  "PAYLOAD_TOO_LARGE",
  "UNSUPPORTED_MEDIA_TYPE",
  "REDIS_UNAVAILABLE",
  "INTERNAL",
] as const;
export const errorCodeSchema = z.enum(errorCodes);
export type ErrorCode = z.output<typeof errorCodeSchema>;

/** What went wrong, inside the envelope; a rejected bulk item carries the same fields but the hint and request id. */
export const errorDetailSchema = z.object({
  code: errorCodeSchema,
  message: z.string(),
  field: z.string().optional().meta({ description: "The request field at fault, as a dotted path." }),
  hint: z.string().optional(),
  requestId: z.string(),
});
export type ErrorDetail = z.output<typeof errorDetailSchema>;

/** The body of every error answer: `{error: {code, message, field?, hint?, requestId}}`. */
export const errorEnvelopeSchema = z.object({ error: errorDetailSchema }).meta({ id: "Error" });
export type ErrorEnvelope = z.output<typeof errorEnvelopeSchema>;
