import { describe, expect, it } from "vitest";
import {
  classifyHttpFailure,
  classifyJobFault,
  classifyMysqlFailure,
  classifyPostgresFailure,
  classifyTransportFailure,
  parseRetryAfter,
} from "./classify.ts";
import { ProviderConflictError, ProviderTransientError } from "./errors.ts";

const failure = (status: number, body: unknown = {}, headers: Record<string, string> = {}) =>
  classifyHttpFailure({ provider: "bridgeport", status, headers: new Headers(headers), body });

describe("classifyHttpFailure", () => {
  it.each([
    [400, "invalid", false],
    [401, "auth", false],
    [403, "auth", false],
    [404, "not_found", false],
    [408, "transient", true],
    [409, "conflict", false],
    [413, "invalid", false],
    [422, "invalid", false],
    [429, "rate_limited", true],
    [500, "transient", true],
    [502, "transient", true],
    [503, "transient", true],
    [302, "unknown", false],
  ] as const)("classifies %i as %s (retryable: %s)", (status, kind, retryable) => {
    const error = failure(status);
    expect(error.kind).toBe(kind);
    expect(error.retryable).toBe(retryable);
    expect(error.status).toBe(status);
  });

  it("treats BRIDGEPORT's in-progress Idempotency-Key 409 as transient, with its Retry-After", () => {
    const error = failure(
      409,
      { code: "CONFLICT", message: "still running", field: "Idempotency-Key" },
      { "retry-after": "1" },
    );
    expect(error).toBeInstanceOf(ProviderTransientError);
    expect(error.retryable).toBe(true);
    expect(error.retryAfterMs).toBe(1000);
  });

  it("treats IDEMPOTENCY_KEY_REUSED as invalid, not as a conflict to adopt", () => {
    const error = failure(409, { code: "IDEMPOTENCY_KEY_REUSED", message: "x", field: "Idempotency-Key" });
    expect(error.kind).toBe("invalid");
  });

  it("reads a name conflict as a ProviderConflictError with the provider's code and request id", () => {
    const error = failure(409, { code: "CONFLICT", message: "exists", field: "name", requestId: "req_1" });
    expect(error).toBeInstanceOf(ProviderConflictError);
    expect(error.code).toBe("CONFLICT");
    expect(error.field).toBe("name");
    expect(error.requestId).toBe("req_1");
  });

  it("reads Prisma's nested envelope and Artie's string envelope", () => {
    const prisma = classifyHttpFailure({
      provider: "prisma",
      status: 400,
      headers: new Headers({ "x-request-id": "r9" }),
      body: { error: { code: "invalid_request", message: "bad projectId" } },
    });
    expect(prisma.code).toBe("invalid_request");
    expect(prisma.message).toContain("bad projectId");
    expect(prisma.requestId).toBe("r9");
    const artie = classifyHttpFailure({
      provider: "artie",
      status: 400,
      headers: new Headers(),
      body: { error: "name is required" },
    });
    expect(artie.message).toContain("name is required");
  });

  it("takes the delay from a body field when there is no Retry-After header", () => {
    expect(failure(429, { code: "RATE_LIMITED", message: "slow", retryAfter: 3 }).retryAfterMs).toBe(3000);
  });

  it("gives a delay only to retryable errors", () => {
    expect(failure(400, {}, { "retry-after": "5" }).retryAfterMs).toBeUndefined();
  });
});

describe("parseRetryAfter", () => {
  it("reads delay-seconds", () => {
    expect(parseRetryAfter("2")).toBe(2000);
    expect(parseRetryAfter("0.5")).toBe(500);
  });
  it("reads an HTTP date relative to now", () => {
    const now = Date.parse("2026-01-01T00:00:00Z");
    expect(parseRetryAfter("Thu, 01 Jan 2026 00:00:03 GMT", now)).toBe(3000);
    expect(parseRetryAfter("Wed, 31 Dec 2025 23:59:00 GMT", now)).toBe(0);
  });
  it("ignores what it cannot read", () => {
    expect(parseRetryAfter("soon")).toBeUndefined();
    expect(parseRetryAfter(null)).toBeUndefined();
    expect(parseRetryAfter("")).toBeUndefined();
  });
});

describe("classifyTransportFailure", () => {
  const base = { provider: "artie" as const, timedOut: false, aborted: false };
  it("calls a timeout transient", () => {
    const error = classifyTransportFailure({ ...base, error: new Error("x"), timedOut: true });
    expect([error.kind, error.code, error.retryable]).toEqual(["transient", "TIMEOUT", true]);
  });
  it("calls a reset socket transient, by its code", () => {
    const cause = Object.assign(new Error("other side closed"), { code: "UND_ERR_SOCKET" });
    const error = classifyTransportFailure({ ...base, error: new TypeError("fetch failed", { cause }) });
    expect([error.kind, error.code]).toEqual(["transient", "UND_ERR_SOCKET"]);
  });
  it("calls a programming error unknown and not retryable", () => {
    const error = classifyTransportFailure({ ...base, error: new RangeError("bug") });
    expect([error.kind, error.retryable]).toEqual(["unknown", false]);
  });
});

describe("classifyPostgresFailure", () => {
  it.each([
    ["42P04", "conflict", false],
    ["28P01", "auth", false],
    ["42501", "auth", false],
    ["57P03", "transient", true],
    ["08006", "transient", true],
    ["42601", "invalid", false],
    ["XX000", "unknown", false],
  ] as const)("classifies SQLSTATE %s as %s", (code, kind, retryable) => {
    const error = classifyPostgresFailure(Object.assign(new Error("pg said no"), { code }), false);
    expect([error.kind, error.retryable, error.code]).toEqual([kind, retryable, code]);
  });
  it("calls a refused connection transient", () => {
    const error = classifyPostgresFailure(
      Object.assign(new Error("connect ECONNREFUSED"), { code: "ECONNREFUSED" }),
      false,
    );
    expect([error.kind, error.code]).toEqual(["transient", "ECONNREFUSED"]);
  });
  it("calls a cancelled call ABORTED and retryable, as it does an HTTP call, whatever the driver said", () => {
    for (const cause of [new Error("Connection terminated"), new DOMException("aborted", "AbortError"), undefined]) {
      const error = classifyPostgresFailure(cause, false, true);
      expect([error.kind, error.code, error.retryable]).toEqual(["transient", "ABORTED", true]);
    }
  });
});

describe("classifyMysqlFailure", () => {
  const refusal = (errno: number, code: string, message = "server said no") =>
    Object.assign(new Error(message), { errno, code, sqlState: "HY000", sqlMessage: message });
  it.each([
    [1007, "ER_DB_CREATE_EXISTS", "conflict", false],
    [1044, "ER_DBACCESS_DENIED_ERROR", "auth", false],
    [1045, "ER_ACCESS_DENIED_ERROR", "auth", false],
    [1040, "ER_CON_COUNT_ERROR", "transient", true],
    [1053, "ER_SERVER_SHUTDOWN", "transient", true],
    [1205, "ER_LOCK_WAIT_TIMEOUT", "transient", true],
    [1115, "ER_UNKNOWN_CHARACTER_SET", "invalid", false],
    [1273, "ER_UNKNOWN_COLLATION", "invalid", false],
    [1253, "ER_COLLATION_CHARSET_MISMATCH", "invalid", false],
    [1102, "ER_WRONG_DB_NAME", "invalid", false],
    [1105, "ER_UNKNOWN_ERROR", "unknown", false],
  ] as const)("classifies error %i (%s) as %s", (errno, code, kind, retryable) => {
    const error = classifyMysqlFailure(refusal(errno, code), false, false, []);
    expect([error.kind, error.retryable, error.code]).toEqual([kind, retryable, String(errno)]);
  });
  it.each(["PROTOCOL_CONNECTION_LOST", "ECONNREFUSED", "ECONNRESET", "ETIMEDOUT"])(
    "calls a lost or refused connection (%s) transient",
    (code) => {
      const error = classifyMysqlFailure(Object.assign(new Error("gone"), { code, errno: -1 }), false, false, []);
      expect([error.kind, error.retryable, error.code]).toEqual(["transient", true, code]);
    },
  );
  it("calls a cancelled or timed-out call ABORTED or TIMEOUT, whatever the driver said", () => {
    const lost = Object.assign(new Error("Connection lost"), { code: "PROTOCOL_CONNECTION_LOST" });
    expect(classifyMysqlFailure(lost, false, true, []).code).toBe("ABORTED");
    expect(classifyMysqlFailure(lost, true, false, []).code).toBe("TIMEOUT");
  });
  it("cuts the password out of the message and the cause, and keeps no driver error", () => {
    const password = "canary-pw/42";
    for (const error of [
      classifyMysqlFailure(refusal(1045, "ER_ACCESS_DENIED_ERROR", `denied for ${password}`), false, false, [password]),
      classifyMysqlFailure(
        Object.assign(new Error(`connect to u:${encodeURIComponent(password)}@h failed`), { code: "ECONNRESET" }),
        false,
        false,
        [password, encodeURIComponent(password)],
      ),
    ]) {
      const cause = error.cause as Error | undefined;
      const text = [error.message, JSON.stringify(error), cause?.message, cause?.stack].join("\n");
      expect(text).not.toContain(password);
      expect(text).not.toContain(encodeURIComponent(password));
      expect(text).toContain("***");
    }
  });
});

describe("classifyJobFault", () => {
  it.each([
    [{ fault: "invalid-data", problem: "input: required" }, "invalid", "INVALID_JOB_DATA"],
    [{ fault: "undecryptable" }, "invalid", "UNDECRYPTABLE_INPUT"],
    [{ fault: "account-missing", account: "eu" }, "invalid", "ACCOUNT_NOT_CONFIGURED"],
    [{ fault: "expired", maxAgeMs: 1_000 }, "expired", "MAX_AGE_EXCEEDED"],
    [{ fault: "provisioning-failed", name: "db" }, "unknown", "PROVISIONING_FAILED"],
    [{ fault: "stalled", failedReason: "job stalled more than allowable limit" }, "unknown", "STALLED"],
    [{ fault: "unexplained", failedReason: "boom" }, "unknown", "FAILED"],
  ] as const)("classifies %o as %s, never retryable", (fault, kind, code) => {
    const error = classifyJobFault("prisma", fault);
    expect(error).toMatchObject({ provider: "prisma", kind, code, retryable: false });
  });
});
