// The CLI's errors. Each maps to one exit code in `exitCodeOf`; nothing else decides one.

/** How the process ends: 0 all good, 1 something failed, 2 the command was called wrongly. */
export const exitCodes = { ok: 0, failed: 1, usage: 2, interrupted: 130 } as const;

/** The command line, its files or its environment are wrong; nothing was sent. Exit 2. */
export class UsageError extends Error {
  override name = "UsageError";
  /** What to run to learn more, e.g. `provisioner bulk --help`. */
  readonly hint: string | undefined;
  constructor(message: string, hint?: string) {
    super(message);
    this.hint = hint;
  }
}

/** The API answered with an error envelope (or at least an error status). */
export class ApiError extends Error {
  override name = "ApiError";
  readonly status: number;
  readonly code: string;
  readonly field: string | undefined;
  readonly hint: string | undefined;
  readonly requestId: string | undefined;
  /** From `Retry-After`, when the API sent one. */
  readonly retryAfterMs: number | undefined;
  constructor(fields: {
    status: number;
    code: string;
    message: string;
    field?: string | undefined;
    hint?: string | undefined;
    requestId?: string | undefined;
    retryAfterMs?: number | undefined;
  }) {
    super(fields.message);
    this.status = fields.status;
    this.code = fields.code;
    this.field = fields.field;
    this.hint = fields.hint;
    this.requestId = fields.requestId;
    this.retryAfterMs = fields.retryAfterMs;
  }
}

/** No answer: refused, reset, DNS, or nothing within the timeout. */
export class NetworkError extends Error {
  override name = "NetworkError";
}

/** An answer that is not what this CLI understands: a proxy's page, or an API of another version. */
export class ProtocolError extends Error {
  override name = "ProtocolError";
}

export const isUsageError = (error: unknown): error is UsageError => error instanceof UsageError;
export const isApiError = (error: unknown): error is ApiError => error instanceof ApiError;
export const isNetworkError = (error: unknown): error is NetworkError => error instanceof NetworkError;

export function exitCodeOf(error: unknown): number {
  return error instanceof UsageError ? exitCodes.usage : exitCodes.failed;
}

/** `<code>: <message> (field: <field>)`, then the hint and request id on their own lines. */
export function formatError(error: unknown): string {
  if (error instanceof ApiError) {
    const lines = [`${error.code}: ${error.message}${error.field ? ` (field: ${error.field})` : ""}`];
    if (error.hint) lines.push(`  hint: ${error.hint}`);
    if (error.requestId) lines.push(`  request id: ${error.requestId}`);
    return lines.join("\n");
  }
  if (error instanceof UsageError) return error.hint ? `${error.message}\n  ${error.hint}` : error.message;
  if (error instanceof NetworkError || error instanceof ProtocolError) return error.message;
  // A bug, not an answer: keep the stack so it can be reported.
  return error instanceof Error ? (error.stack ?? error.message) : String(error);
}
