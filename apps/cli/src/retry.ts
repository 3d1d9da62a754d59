import pRetry from "p-retry";
import { isApiError, isNetworkError } from "./errors.ts";

export interface RetryOptions {
  /** Retries after the first try. Default 5. */
  retries?: number;
  /** Delay before the first retry, doubling (with jitter) after. Default 250 ms. */
  minDelayMs?: number;
  /** Longest wait between tries, a `Retry-After` included. Default 30 s. */
  maxDelayMs?: number;
  /** Told before each wait, e.g. to say so on stderr. */
  onRetry?: ((notice: RetryNotice) => void) | undefined;
}

export interface RetryNotice {
  error: Error;
  attempt: number;
  retriesLeft: number;
  delayMs: number;
}

// Gateways answer 502/504 when the API behind them restarts; the API itself says 503 with
// Retry-After when Redis is away, and 429 if a proxy in front of it limits rates.
const retryableStatuses = new Set([429, 502, 503, 504]);

/** Whether a failed call is worth repeating: no answer, or an answer that says "later". */
export const isRetryable = (error: unknown): boolean =>
  isNetworkError(error) || (isApiError(error) && retryableStatuses.has(error.status));

/**
 * Runs a call that is safe to repeat (a read, or a write the API deduplicates), again on a
 * network error, 429 or 5xx-from-a-gateway, waiting at least as long as `Retry-After` asks.
 */
export function withRetry<T>(
  call: () => Promise<T>,
  { retries = 5, minDelayMs = 250, maxDelayMs = 30_000, onRetry }: RetryOptions = {},
  signal?: AbortSignal,
): Promise<T> {
  if (!Number.isInteger(retries) || retries < 0) throw new RangeError(`retries must be an integer ≥ 0, not ${retries}`);
  return pRetry(call, {
    retries,
    minTimeout: minDelayMs,
    maxTimeout: maxDelayMs,
    randomize: true,
    ...(signal ? { signal } : {}),
    shouldRetry: ({ error }) => isRetryable(error),
    // p-retry picks its own backoff; a Retry-After longer than that is waited out here, on top.
    onFailedAttempt: async ({ error, attemptNumber, retriesLeft, retryDelay }) => {
      if (!isRetryable(error) || retriesLeft === 0) return;
      const asked = isApiError(error) ? Math.min(error.retryAfterMs ?? 0, maxDelayMs) : 0;
      const extra = Math.max(0, asked - retryDelay);
      onRetry?.({ error, attempt: attemptNumber, retriesLeft, delayMs: retryDelay + extra });
      if (extra > 0) await sleep(extra, signal);
    },
  });
}

export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}
