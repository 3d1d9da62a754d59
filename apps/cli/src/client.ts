import type { ListDeadLettersQuery, ReplayFilter } from "@provisioner/api-contract";
import { parseRetryAfter } from "@provisioner/provider-client";
import type { z } from "zod";
import {
  type BatchView,
  type BulkResponse,
  batchAnswer,
  bulkAnswer,
  callbackDeliveryListAnswer,
  callbackRetriedAnswer,
  type DeadLetterList,
  type DeadLetterView,
  deadLetterAnswer,
  deadLetterListAnswer,
  errorAnswer,
  type JobView,
  jobAnswer,
  type ReplayedMany,
  replayedAnswer,
  replayedManyAnswer,
} from "./answers.ts";
import type { BulkItem } from "./bulk/prepare.ts";
import { ApiError, NetworkError, ProtocolError } from "./errors.ts";
import { type RetryOptions, withRetry } from "./retry.ts";

export interface ApiClientOptions {
  /** The API's base URL, without `/v1`. */
  url: string;
  token: string;
  /** How long one HTTP call may take. Default 30 s. */
  timeoutMs?: number;
  retry?: RetryOptions;
  /** Cancels every call in flight and every wait between retries (Ctrl-C). */
  signal?: AbortSignal | undefined;
}

export type ApiClient = ReturnType<typeof createApiClient>;

type BatchQuery = {
  deadCursor?: string | undefined;
  deadLimit?: number | undefined;
};

interface Call<T> {
  method: "GET" | "POST" | "DELETE";
  path: string;
  body?: unknown;
  /** null: the answer has no body (204). */
  schema: z.ZodType<T> | null;
  /**
   * Safe to send twice: reads, deletes, and writes the API deduplicates by a key we chose.
   * Only these are retried; a plain create must never be.
   */
  repeatable: boolean;
}

/** The API's HTTP surface as the CLI uses it: one method per route, answers validated. */
export function createApiClient({ url, token, timeoutMs = 30_000, retry = {}, signal }: ApiClientOptions) {
  if (!/^https?:\/\//.test(url)) throw new RangeError("url must be an http(s) URL");
  if (!Number.isInteger(timeoutMs) || timeoutMs < 1) throw new RangeError("timeoutMs must be a positive integer");
  const base = url.replace(/\/+$/, "");

  async function once<T>(call: Call<T>): Promise<T> {
    const signals = [AbortSignal.timeout(timeoutMs), ...(signal ? [signal] : [])];
    let response: Response;
    try {
      response = await fetch(`${base}${call.path}`, {
        method: call.method,
        headers: {
          authorization: `Bearer ${token}`,
          accept: "application/json",
          ...(call.body === undefined ? {} : { "content-type": "application/json" }),
        },
        ...(call.body === undefined ? {} : { body: JSON.stringify(call.body) }),
        signal: AbortSignal.any(signals),
      });
    } catch (error) {
      if (signal?.aborted) throw signal.reason;
      throw networkError(base, error, timeoutMs);
    }
    if (!response.ok) throw await apiError(response);
    if (call.schema === null) return undefined as T;
    const text = await response.text();
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      throw new ProtocolError(`${call.method} ${call.path} answered ${response.status} with a body that is not JSON`);
    }
    const parsed = call.schema.safeParse(json);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      throw new ProtocolError(
        `${call.method} ${call.path} answered in a shape this CLI does not know (${issue?.path.join(".") || "body"}: ${issue?.message}); is the CLI as new as the API?`,
      );
    }
    return parsed.data;
  }

  const send = <T>(call: Call<T>): Promise<T> =>
    call.repeatable ? withRetry(() => once(call), retry, signal) : once(call);
  const id = encodeURIComponent;

  return {
    /** Every item carries its own idempotency key, so a resend after a lost answer queues nothing twice. */
    submitBulk: (jobs: readonly BulkItem[]): Promise<BulkResponse> =>
      send({ method: "POST", path: "/v1/jobs/bulk", body: { jobs }, schema: bulkAnswer, repeatable: true }),
    /** Counts and one page of the dead items (`deadCursor` for the next). */
    getBatch: (batchId: string, page: BatchQuery = {}): Promise<BatchView> =>
      send({
        method: "GET",
        path: `/v1/batches/${id(batchId)}${queryString(page)}`,
        schema: batchAnswer,
        repeatable: true,
      }),
    getJob: (jobId: string): Promise<JobView> =>
      send({ method: "GET", path: `/v1/jobs/${id(jobId)}`, schema: jobAnswer, repeatable: true }),
    listDeadLetters: (query: ListDeadLettersQuery = {}): Promise<DeadLetterList> =>
      send({
        method: "GET",
        path: `/v1/dead-letters${queryString(query)}`,
        schema: deadLetterListAnswer,
        repeatable: true,
      }),
    getDeadLetter: (jobId: string): Promise<DeadLetterView> =>
      send({ method: "GET", path: `/v1/dead-letters/${id(jobId)}`, schema: deadLetterAnswer, repeatable: true }),
    /** A resend after a lost answer finds the job queued again and answers 409 CONFLICT: nothing runs twice. */
    replayDeadLetter: (jobId: string, input?: Record<string, unknown>) =>
      send({
        method: "POST",
        path: `/v1/dead-letters/${id(jobId)}/replay`,
        body: input === undefined ? {} : { input },
        schema: replayedAnswer,
        repeatable: true,
      }),
    replayDeadLetters: (filter: ReplayFilter): Promise<ReplayedMany> =>
      send({
        method: "POST",
        path: "/v1/dead-letters/replay",
        body: filter,
        schema: replayedManyAnswer,
        repeatable: true,
      }),
    listFailedCallbacks: (query: { cursor?: string | undefined; limit: number }) =>
      send({
        method: "GET",
        path: `/v1/callback-deliveries${queryString({ status: "failed", ...query })}`,
        schema: callbackDeliveryListAnswer,
        repeatable: true,
      }),
    /** A resend after a lost answer finds the delivery pending again and answers 409 CONFLICT: it is sent once. */
    retryCallback: (deliveryId: string) =>
      send({
        method: "POST",
        path: `/v1/callback-deliveries/${id(deliveryId)}/retry`,
        schema: callbackRetriedAnswer,
        repeatable: true,
      }),
    /** False when it was already gone (a resend, or someone else discarded it). */
    async discardDeadLetter(jobId: string): Promise<boolean> {
      try {
        await send({ method: "DELETE", path: `/v1/dead-letters/${id(jobId)}`, schema: null, repeatable: true });
        return true;
      } catch (error) {
        if (error instanceof ApiError && error.status === 404) return false;
        throw error;
      }
    },
  };
}

function queryString(query: Record<string, string | number | undefined>): string {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) if (value !== undefined) params.set(key, String(value));
  const text = params.toString();
  return text ? `?${text}` : "";
}

function networkError(base: string, error: unknown, timeoutMs: number): NetworkError {
  if (error instanceof Error && error.name === "TimeoutError") {
    return new NetworkError(`the API at ${base} did not answer within ${timeoutMs / 1000} s`, { cause: error });
  }
  // undici hides the reason (ECONNREFUSED, ENOTFOUND…) in `cause`.
  const cause = error instanceof Error ? (error.cause as { code?: string; message?: string } | undefined) : undefined;
  const reason = cause?.code ?? cause?.message ?? (error instanceof Error ? error.message : String(error));
  return new NetworkError(`cannot reach the API at ${base} (${reason}); is PROVISIONER_API_URL right?`, {
    cause: error,
  });
}

async function apiError(response: Response): Promise<ApiError> {
  const text = await response.text().catch(() => "");
  const retryAfterMs = parseRetryAfter(response.headers.get("retry-after"));
  const requestId = response.headers.get("x-request-id") ?? undefined;
  let envelope: z.output<typeof errorAnswer> | undefined;
  try {
    const parsed = errorAnswer.safeParse(JSON.parse(text));
    if (parsed.success) envelope = parsed.data;
  } catch {}
  if (envelope) {
    const { code, message, field, hint } = envelope.error;
    return new ApiError({
      status: response.status,
      code,
      message,
      field,
      hint,
      requestId: envelope.error.requestId ?? requestId,
      retryAfterMs,
    });
  }
  // Not the API's envelope: a proxy or load balancer answered. Show a little of what it said.
  const snippet = text.replace(/\s+/g, " ").trim().slice(0, 200);
  return new ApiError({
    status: response.status,
    code: `HTTP_${response.status}`,
    message: snippet || response.statusText || "no body",
    requestId,
    retryAfterMs,
  });
}
