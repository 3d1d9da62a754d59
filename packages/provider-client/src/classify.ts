import { type ErrorKind, type ProviderError, providerError } from "./errors.ts";
import type { ProviderName } from "./provider-names.ts";
import type { HeaderLookup } from "./transport.ts";

/** A provider's non-2xx answer, body already parsed as JSON where it was JSON. */
export interface HttpFailure {
  provider: ProviderName;
  status: number;
  headers: HeaderLookup;
  body: unknown;
}

/** What the three providers' error envelopes have in common, read leniently. */
interface Envelope {
  code?: string | undefined;
  message?: string | undefined;
  field?: string | undefined;
  hint?: string | undefined;
  requestId?: string | undefined;
  retryAfterSeconds?: number | undefined;
}

interface Verdict {
  kind: ErrorKind;
  retryable: boolean;
}

interface HttpRule extends Verdict {
  when: (status: number, envelope: Envelope) => boolean;
}

/**
 * The one ordered list that turns an HTTP outcome into a decision. First match wins;
 * nothing else in the product looks at a status code.
 */
const httpRules: readonly HttpRule[] = [
  // BRIDGEPORT: the first request with this Idempotency-Key is still running. Back off, ask again.
  {
    when: (s, e) => s === 409 && e.field === "Idempotency-Key" && e.code !== "IDEMPOTENCY_KEY_REUSED",
    kind: "transient",
    retryable: true,
  },
  // The same key was sent with a different body: retrying cannot help.
  {
    when: (s, e) => s === 409 && e.code === "IDEMPOTENCY_KEY_REUSED",
    kind: "invalid",
    retryable: false,
  },
  { when: (s) => s === 409, kind: "conflict", retryable: false },
  { when: (s) => s === 429, kind: "rate_limited", retryable: true },
  { when: (s) => s === 408 || (s >= 500 && s <= 599), kind: "transient", retryable: true },
  { when: (s) => s === 401 || s === 403, kind: "auth", retryable: false },
  { when: (s) => s === 404, kind: "not_found", retryable: false },
  { when: (s) => s >= 400 && s <= 499, kind: "invalid", retryable: false },
  // 1xx, 3xx, or anything stranger: we cannot tell what happened, so we do not guess.
  { when: () => true, kind: "unknown", retryable: false },
];

export function classifyHttpFailure(failure: HttpFailure): ProviderError {
  const envelope = readEnvelope(failure.body);
  const rule = httpRules.find((r) => r.when(failure.status, envelope)) as HttpRule;
  const retryAfterMs =
    parseRetryAfter(failure.headers.get("retry-after")) ??
    (envelope.retryAfterSeconds === undefined ? undefined : envelope.retryAfterSeconds * 1000);
  const text = envelope.message ?? (typeof failure.body === "string" ? failure.body.slice(0, 200) : "");
  return providerError({
    provider: failure.provider,
    kind: rule.kind,
    retryable: rule.retryable,
    status: failure.status,
    code: envelope.code,
    field: envelope.field,
    requestId: envelope.requestId ?? failure.headers.get("x-request-id") ?? undefined,
    retryAfterMs: rule.retryable ? retryAfterMs : undefined,
    message: `${failure.provider} answered ${failure.status}${envelope.code ? ` ${envelope.code}` : ""}${text ? `: ${text}` : ""}`,
  });
}

/** Why a request got no answer: our timeout, the caller's abort, or the network. */
export interface TransportFailure {
  provider: ProviderName;
  error: unknown;
  timedOut: boolean;
  aborted: boolean;
}

const networkCodes = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "EPIPE",
  "ETIMEDOUT",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "ENOTFOUND",
  "EAI_AGAIN",
  "UND_ERR_SOCKET",
  "UND_ERR_CONNECT_TIMEOUT",
  "UND_ERR_HEADERS_TIMEOUT",
  "UND_ERR_BODY_TIMEOUT",
  "UND_ERR_CLOSED",
  // mysql2: the server closed the socket, or stopped answering mid-conversation.
  "PROTOCOL_CONNECTION_LOST",
  "PROTOCOL_SEQUENCE_TIMEOUT",
]);

export function classifyTransportFailure(failure: TransportFailure): ProviderError {
  const { provider } = failure;
  if (failure.timedOut) {
    return providerError({
      provider,
      kind: "transient",
      retryable: true,
      code: "TIMEOUT",
      message: `${provider} did not answer in time`,
      cause: failure.error,
    });
  }
  if (failure.aborted) {
    return providerError({
      provider,
      kind: "transient",
      retryable: true,
      code: "ABORTED",
      message: `the call to ${provider} was cancelled`,
      cause: failure.error,
    });
  }
  const code = networkCode(failure.error);
  if (code !== undefined) {
    return providerError({
      provider,
      kind: "transient",
      retryable: true,
      code,
      message: `${provider} could not be reached (${code})`,
      cause: failure.error,
    });
  }
  return providerError({
    provider,
    kind: "unknown",
    retryable: false,
    code: "UNEXPECTED",
    message: `calling ${provider} failed unexpectedly`,
    cause: failure.error,
  });
}

/** A 2xx whose body does not parse or does not match the published schema. */
export function classifyMalformedResponse(
  provider: ProviderName,
  status: number,
  problem: string,
  cause?: unknown,
): ProviderError {
  // The provider said yes, so the database may exist: retryable, and the caller reconciles first.
  return providerError({
    provider,
    kind: "malformed",
    retryable: true,
    status,
    code: "MALFORMED_RESPONSE",
    message: `${provider} answered ${status} with an unexpected body: ${problem}`,
    cause,
  });
}

/** Input that fails the provider's schema before anything is sent. */
export function classifyInvalidInput(provider: ProviderName, field: string, problem: string): ProviderError {
  return providerError({
    provider,
    kind: "invalid",
    retryable: false,
    code: "INVALID_INPUT",
    field,
    message: `${field || "input"}: ${problem}`,
  });
}

/**
 * What can end a job other than a provider's answer. Every one is final: retrying the same
 * job cannot change it.
 * - `invalid-data`: the job's data in Redis fails its schema (`problem` names the field);
 * - `undecryptable`: a secret field of the input cannot be decrypted with the configured keys;
 * - `account-missing`: the job names an account this worker has no configuration for;
 * - `expired`: the job outlived its maximum age;
 * - `provisioning-failed`: the provider reports the database it made as failed;
 * - `stalled`: BullMQ failed the job itself, after it stalled more often than allowed;
 * - `unexplained`: BullMQ holds a final failure that no run recorded (an error outside the
 *   provider call on the last attempt), so only BullMQ's `failedReason` is left.
 */
export type JobFault =
  | { fault: "invalid-data"; problem: string }
  | { fault: "undecryptable" }
  | { fault: "account-missing"; account: string }
  | { fault: "expired"; maxAgeMs: number }
  | { fault: "provisioning-failed"; name: string }
  | { fault: "stalled"; failedReason: string }
  | { fault: "unexplained"; failedReason: string };

/** The verdict on a job fault, in the same terms as a provider's answer. */
export function classifyJobFault(provider: ProviderName, fault: JobFault): ProviderError {
  const dead = { provider, retryable: false };
  switch (fault.fault) {
    case "invalid-data":
      return providerError({
        ...dead,
        kind: "invalid",
        code: "INVALID_JOB_DATA",
        message: `job data ${fault.problem}`,
      });
    case "undecryptable":
      return providerError({
        ...dead,
        kind: "invalid",
        code: "UNDECRYPTABLE_INPUT",
        message: "job input cannot be decrypted with the configured keys",
      });
    case "account-missing":
      return providerError({
        ...dead,
        kind: "invalid",
        code: "ACCOUNT_NOT_CONFIGURED",
        message: `no ${provider} account named "${fault.account}" is configured on this worker`,
      });
    case "expired":
      return providerError({
        ...dead,
        kind: "expired",
        code: "MAX_AGE_EXCEEDED",
        message: `job is older than its maximum age of ${fault.maxAgeMs} ms`,
      });
    case "provisioning-failed":
      return providerError({
        ...dead,
        kind: "unknown",
        code: "PROVISIONING_FAILED",
        message: `${provider} reports that database ${fault.name} failed to provision`,
      });
    case "stalled":
      return providerError({ ...dead, kind: "unknown", code: "STALLED", message: fault.failedReason });
    case "unexplained":
      return providerError({ ...dead, kind: "unknown", code: "FAILED", message: fault.failedReason || "failed" });
  }
}

interface SqlRule extends Verdict {
  when: (sqlstate: string) => boolean;
}

/** PostgreSQL's SQLSTATE classes, in the same terms as the HTTP rules. */
const sqlRules: readonly SqlRule[] = [
  { when: (c) => c === "42P04", kind: "conflict", retryable: false }, // duplicate_database
  { when: (c) => c.startsWith("28") || c === "42501", kind: "auth", retryable: false },
  { when: (c) => c === "3D000", kind: "not_found", retryable: false },
  {
    when: (c) =>
      c.startsWith("08") || c.startsWith("53") || c.startsWith("57") || c === "40001" || c === "40P01" || c === "55006",
    kind: "transient",
    retryable: true,
  },
  { when: (c) => c.startsWith("42") || c.startsWith("22"), kind: "invalid", retryable: false },
  { when: () => true, kind: "unknown", retryable: false },
];

/**
 * A PostgreSQL call that failed: by its SQLSTATE when the server refused it, else as a
 * transport failure, so a cancelled call is `ABORTED` here just as an HTTP one is.
 */
export function classifyPostgresFailure(error: unknown, timedOut: boolean, aborted = false): ProviderError {
  const sqlstate = sqlStateOf(error);
  if (sqlstate === undefined || timedOut || aborted) {
    return classifyTransportFailure({ provider: "postgres", error, timedOut, aborted });
  }
  const rule = sqlRules.find((r) => r.when(sqlstate)) as SqlRule;
  const message = error instanceof Error ? error.message : String(error);
  return providerError({
    provider: "postgres",
    kind: rule.kind,
    retryable: rule.retryable,
    code: sqlstate,
    message: `postgres refused (${sqlstate}): ${message}`,
  });
}

interface MysqlRule extends Verdict {
  when: (errno: number) => boolean;
}

/** MySQL's and MariaDB's server error numbers, in the same terms as the HTTP rules. */
const mysqlRules: readonly MysqlRule[] = [
  { when: (n) => n === 1007, kind: "conflict", retryable: false }, // ER_DB_CREATE_EXISTS
  // ER_DBACCESS_DENIED_ERROR, ER_ACCESS_DENIED_ERROR, ER_SPECIFIC_ACCESS_DENIED_ERROR,
  // ER_TABLEACCESS_DENIED_ERROR, ER_ACCESS_DENIED_NO_PASSWORD_ERROR
  { when: (n) => [1044, 1045, 1227, 1142, 1698].includes(n), kind: "auth", retryable: false },
  {
    // ER_CON_COUNT_ERROR, ER_OUT_OF_RESOURCES, ER_HANDSHAKE_ERROR, ER_SERVER_SHUTDOWN, the
    // ER_NET_* read and write faults, ER_LOCK_WAIT_TIMEOUT, ER_TOO_MANY_USER_CONNECTIONS,
    // ER_LOCK_DEADLOCK, ER_USER_LIMIT_REACHED, ER_QUERY_INTERRUPTED, ER_STATEMENT_TIMEOUT
    // (MariaDB), ER_QUERY_TIMEOUT (MySQL), ER_OPTION_PREVENTS_STATEMENT (read-only replica
    // mid-failover)
    when: (n) =>
      [1040, 1041, 1043, 1053, 1152, 1153, 1154, 1155, 1156, 1157, 1158, 1159, 1160, 1161].includes(n) ||
      [1205, 1203, 1213, 1226, 1290, 1317, 1969, 3024].includes(n),
    kind: "transient",
    retryable: true,
  },
  // ER_UNKNOWN_CHARACTER_SET, ER_UNKNOWN_COLLATION, ER_COLLATION_CHARSET_MISMATCH,
  // ER_WRONG_DB_NAME, ER_TOO_LONG_IDENT, ER_PARSE_ERROR, ER_WRONG_VALUE_FOR_VAR: the
  // request itself is wrong, so a retry cannot help.
  { when: (n) => [1115, 1273, 1253, 1102, 1059, 1064, 1231].includes(n), kind: "invalid", retryable: false },
  { when: () => true, kind: "unknown", retryable: false },
];

/**
 * A MySQL or MariaDB call that failed: by the server's error number when it refused,
 * else as a transport failure (so a cancelled call is `ABORTED` as an HTTP one is).
 * `secrets` (the admin password) are cut out of every message, and the driver's own error
 * never travels on as the cause: it is rebuilt from its scrubbed message and code.
 */
export function classifyMysqlFailure(
  error: unknown,
  timedOut: boolean,
  aborted: boolean,
  secrets: readonly string[],
): ProviderError {
  const scrub = (text: string) =>
    secrets.reduce((clean, secret) => (secret ? clean.replaceAll(secret, "***") : clean), text);
  const record = isRecord(error) ? error : {};
  const code = stringOf(record.code);
  const text = scrub(error instanceof Error ? error.message : String(error));
  const errno = record.errno;
  const refused = typeof errno === "number" && errno > 0 && (code?.startsWith("ER_") || "sqlMessage" in record);
  if (!refused || timedOut || aborted) {
    const cause = Object.assign(new Error(text), code === undefined ? {} : { code });
    return classifyTransportFailure({ provider: "mysql", error: cause, timedOut, aborted });
  }
  const rule = mysqlRules.find((r) => r.when(errno)) as MysqlRule;
  return providerError({
    provider: "mysql",
    kind: rule.kind,
    retryable: rule.retryable,
    code: String(errno),
    message: `mysql refused (${errno}${code ? ` ${code}` : ""}): ${text}`,
  });
}

/** `Retry-After` as delay-seconds or an HTTP date, in milliseconds from now. */
export function parseRetryAfter(value: string | null | undefined, now: number = Date.now()): number | undefined {
  if (value === null || value === undefined || value.trim() === "") return undefined;
  const trimmed = value.trim();
  if (/^\d+(\.\d+)?$/.test(trimmed)) return Math.round(Number(trimmed) * 1000);
  const date = Date.parse(trimmed);
  if (Number.isNaN(date)) return undefined;
  return Math.max(0, date - now);
}

function readEnvelope(body: unknown): Envelope {
  if (!isRecord(body)) return {};
  // Prisma nests its envelope under `error`; Artie's `error` is the message itself.
  const inner = isRecord(body.error) ? body.error : body;
  return {
    code: stringOf(inner.code),
    message: stringOf(inner.message) ?? stringOf(body.error),
    field: stringOf(inner.field),
    hint: stringOf(inner.hint),
    requestId: stringOf(inner.requestId) ?? stringOf(body.requestId),
    retryAfterSeconds: numberOf(inner.retryAfter) ?? numberOf(body.retryAfter),
  };
}

function networkCode(error: unknown): string | undefined {
  for (let current = error, depth = 0; current !== undefined && depth < 4; depth++) {
    const code = isRecord(current) ? stringOf(current.code) : undefined;
    if (code !== undefined && networkCodes.has(code)) return code;
    current = isRecord(current) || current instanceof Error ? (current as { cause?: unknown }).cause : undefined;
  }
  // undici's bare "fetch failed" with no code still means the socket failed.
  if (error instanceof TypeError && error.message === "fetch failed") return "NETWORK";
  if (error instanceof Error && /Connection terminated|ECONNRESET|socket hang up/i.test(error.message))
    return "NETWORK";
  return undefined;
}

function sqlStateOf(error: unknown): string | undefined {
  const code = isRecord(error) ? stringOf(error.code) : undefined;
  return code !== undefined && /^[0-9A-Z]{5}$/.test(code) && !networkCodes.has(code) ? code : undefined;
}

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === "object" && value !== null && !Array.isArray(value);
const stringOf = (value: unknown): string | undefined => (typeof value === "string" ? value : undefined);
const numberOf = (value: unknown): number | undefined =>
  typeof value === "number" && Number.isFinite(value) && value >= 0 ? value : undefined;
