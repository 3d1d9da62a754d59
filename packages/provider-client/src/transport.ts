import pRetry from "p-retry";
import { request as undiciRequest } from "undici";
import type { z } from "zod";
import { abortWhen } from "./abort.ts";
import { classifyHttpFailure, classifyMalformedResponse, classifyTransportFailure } from "./classify.ts";
import { isProviderError } from "./errors.ts";
import type { ProviderName } from "./provider-names.ts";

/** A provider's answer, read whole. */
export interface HttpAnswer {
  status: number;
  headers: HeaderLookup;
  text: string;
}

/** Reads an answer's headers by name (case-insensitive): fetch's `Headers` is one. */
export interface HeaderLookup {
  get(name: string): string | null;
}

/** undici's header object (lower-case names; a repeated header as a list) as a `HeaderLookup`. */
const headerLookupOf = (headers: Record<string, string | string[] | undefined>): HeaderLookup => ({
  get(name) {
    const value = headers[name.toLowerCase()];
    return Array.isArray(value) ? value.join(", ") : (value ?? null);
  },
});

/**
 * Runs `call` under the account's timeout and the caller's signal, and turns anything
 * thrown that is not already a ProviderError into one. Both the plain HTTP clients and
 * the Prisma SDK go through here, so a timeout means the same thing everywhere.
 */
export async function withDeadline<T>(
  provider: ProviderName,
  timeoutMs: number,
  signal: AbortSignal | undefined,
  call: (signal: AbortSignal) => Promise<T>,
): Promise<T> {
  // Not AbortSignal.timeout(): its timer (and the signals that follow it, with whatever they
  // hold) lives for the whole timeout after the call has ended; at hundreds of calls a second
  // that kept 15 s of calls' state alive in the worker. This one is cleared when the call ends.
  const deadline = new AbortController();
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    deadline.abort(new DOMException("The operation was aborted due to timeout", "TimeoutError"));
  }, timeoutMs);
  const unlink = abortWhen(signal, deadline);
  try {
    return await call(deadline.signal);
  } catch (error) {
    if (isProviderError(error)) throw error;
    throw classifyTransportFailure({ provider, error, timedOut, aborted: signal?.aborted ?? false });
  } finally {
    clearTimeout(timer);
    unlink();
  }
}

export interface HttpRequest {
  provider: ProviderName;
  method: "GET" | "POST";
  url: string;
  token: string;
  body?: unknown;
  headers?: Record<string, string>;
  timeoutMs: number;
  signal?: AbortSignal | undefined;
}

/**
 * One HTTP exchange, made once. Non-2xx answers throw the classified ProviderError. Sent with
 * undici's `request`, not `fetch`: fetch wraps every exchange in WHATWG Request, Response and
 * stream objects, and at one call a job its cost was a tenth of a busy worker's CPU. Like any
 * API client here, it follows no redirect.
 */
export function sendHttp(request: HttpRequest): Promise<HttpAnswer> {
  return withDeadline(request.provider, request.timeoutMs, request.signal, async (signal) => {
    const headers: Record<string, string> = {
      accept: "application/json",
      authorization: `Bearer ${request.token}`,
      ...request.headers,
    };
    if (request.body !== undefined) headers["content-type"] = "application/json";
    const response = await undiciRequest(request.url, {
      method: request.method,
      headers,
      body: request.body === undefined ? null : JSON.stringify(request.body),
      signal,
    });
    const answer = {
      status: response.statusCode,
      headers: headerLookupOf(response.headers),
      text: await response.body.text(),
    };
    if (answer.status < 200 || answer.status > 299) {
      throw classifyHttpFailure({
        provider: request.provider,
        status: answer.status,
        headers: answer.headers,
        body: parseLeniently(answer.text),
      });
    }
    return answer;
  });
}

/** Parses a 2xx body against the provider's published response schema. */
export function parseAnswer<S extends z.ZodType>(provider: ProviderName, answer: HttpAnswer, schema: S): z.output<S> {
  let json: unknown;
  try {
    json = JSON.parse(answer.text);
  } catch (error) {
    throw classifyMalformedResponse(provider, answer.status, "not JSON", error);
  }
  const parsed = schema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw classifyMalformedResponse(
      provider,
      answer.status,
      `${issue?.path.join(".") || "body"}: ${issue?.message ?? "invalid"}`,
    );
  }
  return parsed.data;
}

export function parseLeniently(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/**
 * Look-ups are safe to repeat, so a short network blip is retried here, quickly and
 * a few times. Create calls never come through this: BullMQ owns their retries.
 */
export function retryLookup<T>(lookup: () => Promise<T>, signal?: AbortSignal): Promise<T> {
  return pRetry(lookup, {
    retries: 2,
    minTimeout: 100,
    maxTimeout: 500,
    signal,
    shouldRetry: ({ error }) =>
      isProviderError(error) && error.kind === "transient" && error.code !== "TIMEOUT" && error.code !== "ABORTED",
  });
}
