// A validated request in the queue's terms, and the 409 for a key that stands for another
// request. Nothing here queues: the routes hand the result to `submitJobs`.
import type { JobRequest } from "@provisioner/api-contract";
import { callbackUrlProblem, type ProvisionerConfig, type SubmitOutcome, type SubmitRequest } from "@provisioner/queue";
import { ApiError } from "./errors.ts";

/**
 * The checks a schema cannot make (the account must be configured, a callback must not
 * reach a private network unless the configuration allows it, the header and body keys
 * must agree), then the queue's request. Throws ApiError; nothing has been queued.
 */
export function toSubmitRequest(
  config: ProvisionerConfig,
  request: JobRequest,
  headerKey?: string | undefined,
): SubmitRequest {
  const accounts = Object.keys(config.accounts[request.provider]);
  if (accounts.length === 0) {
    throw new ApiError("VALIDATION_ERROR", `no account is configured for provider ${request.provider}`, {
      field: "provider",
      hint: "configure one in PROVISIONER_CONFIG or the provider's environment variables",
    });
  }
  if (!accounts.includes(request.account)) {
    throw new ApiError("VALIDATION_ERROR", `account ${request.account} is not configured for ${request.provider}`, {
      field: "account",
      hint: `configured accounts: ${accounts.join(", ")}`,
    });
  }
  checkCallbackUrl(config, request.callbackUrl);
  if (headerKey !== undefined && request.idempotencyKey !== undefined && headerKey !== request.idempotencyKey) {
    throw new ApiError("VALIDATION_ERROR", "idempotencyKey differs from the Idempotency-Key header", {
      field: "idempotencyKey",
      hint: "send the key in one place, or the same key in both",
    });
  }
  // Spread whole, so `provider` and its typed `input` stay one pair.
  return { ...request, idempotencyKey: request.idempotencyKey ?? headerKey };
}

/** A job's or a bulk request's callbackUrl must not reach a private network unless allowed. Throws ApiError. */
export function checkCallbackUrl(config: ProvisionerConfig, url: string | undefined): void {
  const problem = url === undefined ? undefined : callbackUrlProblem(url, config.callbacks);
  if (problem === undefined) return;
  throw new ApiError("VALIDATION_ERROR", `callbackUrl ${problem}`, {
    field: "callbackUrl",
    hint: "give a public http(s) address; private networks are refused unless CALLBACK_ALLOW_PRIVATE_NETWORKS=true",
  });
}

/** The 409 for a key already standing for a different request. */
export function keyReused(outcome: Extract<SubmitOutcome, { accepted: false }>, explicitKey: boolean): ApiError {
  return explicitKey
    ? new ApiError("IDEMPOTENCY_KEY_REUSED", outcome.message, {
        field: "idempotencyKey",
        hint: `job ${outcome.id} holds this key; use a new key for a new request`,
      })
    : new ApiError(
        "IDEMPOTENCY_KEY_REUSED",
        "a different request for the same database is already queued under the key derived from it",
        { hint: `job ${outcome.id} holds it; see GET /v1/jobs/${outcome.id}` },
      );
}
