import { type ErrorCode, type ErrorEnvelope, errorEnvelopeSchema } from "@provisioner/api-contract";
import type { Context } from "hono";
import type { ContentfulStatusCode } from "hono/utils/http-status";

// The codes and the envelope are the contract's (packages/api-contract); what each code
// means over HTTP (its status and the headers it always carries) is the API's own.

// No default branch: a new code does not compile until it has a status.
export const statusOfCode: Record<ErrorCode, ContentfulStatusCode> = {
  VALIDATION_ERROR: 400,
  INVALID_JSON: 400,
  UNAUTHORIZED: 401,
  FORBIDDEN: 403,
  NOT_FOUND: 404,
  CONFLICT: 409,
  IDEMPOTENCY_KEY_REUSED: 409,
  PAYLOAD_TOO_LARGE: 413,
  UNSUPPORTED_MEDIA_TYPE: 415,
  REDIS_UNAVAILABLE: 503,
  INTERNAL: 500,
};

/** Headers some codes always carry: how to authenticate, when to come back. */
const headersOfCode: Partial<Record<ErrorCode, Record<string, string>>> = {
  UNAUTHORIZED: { "WWW-Authenticate": 'Bearer realm="provisioner"' },
  REDIS_UNAVAILABLE: { "Retry-After": "5" },
};

/** An error the API answers with; anything else thrown becomes 500 INTERNAL. */
export class ApiError extends Error {
  override name = "ApiError";
  readonly code: ErrorCode;
  readonly field: string | undefined;
  readonly hint: string | undefined;

  constructor(code: ErrorCode, message: string, details: { field?: string; hint?: string; cause?: unknown } = {}) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    this.code = code;
    this.field = details.field;
    this.hint = details.hint;
  }
}

export const notFound = (what: string, id: string) => new ApiError("NOT_FOUND", `${what} ${id} does not exist`);

export function errorResponse(c: Context, error: ApiError): Response {
  const body: ErrorEnvelope = {
    error: { code: error.code, message: error.message, requestId: c.get("requestId") ?? "" },
  };
  if (error.field !== undefined) body.error.field = error.field;
  if (error.hint !== undefined) body.error.hint = error.hint;
  return c.json(body, statusOfCode[error.code], headersOfCode[error.code]);
}

/** What every response carries (middleware sets it), as the document declares it. */
export const everyResponseHeaders = {
  "x-request-id": {
    description:
      "The request's id: the caller's own when short and plain, else a fresh one. Quote it when reporting a problem.",
    required: true,
    schema: { type: "string" as const },
  },
};

/** The headers every response of a status carries: the request id, and those its codes always set. */
function headersOfStatus(status: number) {
  const headers: Record<string, { description: string; required: boolean; schema: { type: "string" } }> = {
    ...everyResponseHeaders,
  };
  for (const [code, codeStatus] of Object.entries(statusOfCode) as [ErrorCode, number][]) {
    if (codeStatus !== status) continue;
    for (const name of Object.keys(headersOfCode[code] ?? {})) {
      headers[name] = { description: `Sent with ${code}.`, required: true, schema: { type: "string" } };
    }
  }
  return headers;
}

/** The documented error responses of a route, by status; 500 INTERNAL can answer anything, so it is always there. */
export function errorResponses<const S extends ContentfulStatusCode>(...statuses: S[]) {
  const content = { "application/json": { schema: errorEnvelopeSchema } };
  return Object.fromEntries(
    [...statuses, 500].map((status) => [
      status,
      { description: codesOf(status), headers: headersOfStatus(status), content },
    ]),
  ) as Record<S | 500, { description: string; headers: ReturnType<typeof headersOfStatus>; content: typeof content }>;
}

const codesOf = (status: number) =>
  (Object.entries(statusOfCode) as [ErrorCode, number][])
    .filter(([, s]) => s === status)
    .map(([code]) => code)
    .join(" or ");
