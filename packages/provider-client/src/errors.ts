import type { ProviderName } from "./provider-names.ts";

/** What went wrong, in the terms a caller decides on. Decided only by `classify.ts`. */
export const errorKinds = [
  "conflict",
  "rate_limited",
  "transient",
  "auth",
  "invalid",
  "not_found",
  "malformed",
  "unknown",
] as const;
export type ErrorKind = (typeof errorKinds)[number];

/**
 * What ended a job: a provider's kinds, and `expired` for a job that outlived its maximum
 * age before any call decided it. The kinds an attempt record and a dead letter show.
 */
export const failureKinds = [...errorKinds, "expired"] as const;
export type FailureKind = (typeof failureKinds)[number];

export interface ProviderErrorDetails {
  provider: ProviderName;
  kind: FailureKind;
  retryable: boolean;
  message: string;
  /** HTTP status, when the provider answered. */
  status?: number | undefined;
  /** The provider's own error code (`CONFLICT`, `conflict`, a SQLSTATE), or ours for transport faults (`TIMEOUT`, `ECONNRESET`). */
  code?: string | undefined;
  /** The field the provider (or our validation) blamed. */
  field?: string | undefined;
  requestId?: string | undefined;
  /** How long the provider asked us to wait, from `Retry-After` or a body field. */
  retryAfterMs?: number | undefined;
  cause?: unknown;
}

/**
 * The plain-data form of an error, safe to store and to show: no secrets ever enter one.
 * With the attempt's number and time it is the attempt record a job's log keeps and the API shows.
 */
export type ProviderErrorJSON = Omit<ProviderErrorDetails, "cause"> & { name: string };

/**
 * The one error every provider call fails with. Messages are built from the
 * provider's answer and our own words only: never from tokens, URLs with
 * credentials or request bodies.
 */
export class ProviderError extends Error {
  override name = "ProviderError";
  readonly provider: ProviderName;
  readonly kind: FailureKind;
  readonly retryable: boolean;
  readonly status: number | undefined;
  readonly code: string | undefined;
  readonly field: string | undefined;
  readonly requestId: string | undefined;
  readonly retryAfterMs: number | undefined;

  constructor(details: ProviderErrorDetails) {
    super(details.message, details.cause === undefined ? undefined : { cause: details.cause });
    this.provider = details.provider;
    this.kind = details.kind;
    this.retryable = details.retryable;
    this.status = details.status;
    this.code = details.code;
    this.field = details.field;
    this.requestId = details.requestId;
    this.retryAfterMs = details.retryAfterMs;
  }

  toJSON(): ProviderErrorJSON {
    const json: ProviderErrorJSON = {
      name: this.name,
      provider: this.provider,
      kind: this.kind,
      retryable: this.retryable,
      message: this.message,
    };
    if (this.status !== undefined) json.status = this.status;
    if (this.code !== undefined) json.code = this.code;
    if (this.field !== undefined) json.field = this.field;
    if (this.requestId !== undefined) json.requestId = this.requestId;
    if (this.retryAfterMs !== undefined) json.retryAfterMs = this.retryAfterMs;
    return json;
  }
}

/** The name already exists at the provider: a reconciliation, not a failure. */
export class ProviderConflictError extends ProviderError {
  override name = "ProviderConflictError";
}
export class ProviderRateLimitError extends ProviderError {
  override name = "ProviderRateLimitError";
}
/** Network faults, timeouts, 5xx: the outcome of a create is unknown and must be reconciled. */
export class ProviderTransientError extends ProviderError {
  override name = "ProviderTransientError";
}
export class ProviderAuthError extends ProviderError {
  override name = "ProviderAuthError";
}
/** The request itself is wrong (400, 413, 422, or it failed our schema before it was sent). */
export class ProviderInvalidRequestError extends ProviderError {
  override name = "ProviderInvalidRequestError";
}
export class ProviderNotFoundError extends ProviderError {
  override name = "ProviderNotFoundError";
}
/** The provider answered 2xx with a body that does not match its published schema. */
export class ProviderMalformedResponseError extends ProviderError {
  override name = "ProviderMalformedResponseError";
}
export class ProviderUnknownError extends ProviderError {
  override name = "ProviderUnknownError";
}
/** The job outlived its maximum age: not the provider's fault, but decided in the same terms. */
export class JobExpiredError extends ProviderError {
  override name = "JobExpiredError";
}

const errorClassByKind: Record<FailureKind, typeof ProviderError> = {
  conflict: ProviderConflictError,
  rate_limited: ProviderRateLimitError,
  transient: ProviderTransientError,
  auth: ProviderAuthError,
  invalid: ProviderInvalidRequestError,
  not_found: ProviderNotFoundError,
  malformed: ProviderMalformedResponseError,
  unknown: ProviderUnknownError,
  expired: JobExpiredError,
};

/** Builds the subclass that matches `details.kind`. */
export function providerError(details: ProviderErrorDetails): ProviderError {
  return new errorClassByKind[details.kind](details);
}

export const isProviderError = (error: unknown): error is ProviderError => error instanceof ProviderError;
export const isConflict = (error: unknown): error is ProviderConflictError => error instanceof ProviderConflictError;
export const isRetryable = (error: unknown): error is ProviderError => isProviderError(error) && error.retryable;

/** An account's configuration is unusable; thrown when a client is created, never later. */
export class ProviderConfigError extends Error {
  override name = "ProviderConfigError";
}
