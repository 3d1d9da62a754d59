import { failureKinds } from "@provisioner/provider-client";
import { z } from "zod";

/** Why an attempt failed: the provider error's kind, or `expired` (the classifier owns the list). */
export { failureKinds };
export const failureKindSchema = z.enum(failureKinds);
export type FailureKind = z.output<typeof failureKindSchema>;

/** One failed attempt, as a job's `errors` and a dead letter's `reason` show it. Never holds a secret. */
export const attemptErrorSchema = z.object({
  at: z.string(),
  attempt: z.number().int(),
  kind: failureKindSchema,
  retryable: z.boolean(),
  status: z.number().int().optional(),
  code: z.string().optional(),
  message: z.string(),
  retryAfterMs: z.number().optional(),
});
export type AttemptError = z.output<typeof attemptErrorSchema>;
