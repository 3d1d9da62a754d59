// The few API calls the run makes, over real HTTP, answers checked with the contract's schemas
// (@provisioner/api-contract). A job or a batch is read for what the checks use and no more,
// so the verdicts cannot come to depend on the rest.
import {
  attemptErrorSchema,
  type BulkResponse,
  batchViewSchema,
  bulkResponseSchema,
  errorDetailSchema,
  jobViewSchema,
} from "@provisioner/api-contract";
import { parseRetryAfter } from "@provisioner/provider-client";
import pRetry, { AbortError } from "p-retry";
import { z } from "zod";
import { sleep } from "./time.ts";

export type BulkAnswer = BulkResponse;

const checkedJobSchema = jobViewSchema
  .pick({ id: true, provider: true, status: true, attempts: true, input: true, result: true })
  .extend({ errors: z.array(attemptErrorSchema.pick({ kind: true, message: true, status: true })) });
export type JobView = z.output<typeof checkedJobSchema>;

const batchCountsSchema = batchViewSchema.pick({ total: true, counts: true });
export type BatchCounts = z.output<typeof batchCountsSchema>["counts"];

// Only the code is reported; a body that is not the envelope is reported as UNKNOWN.
const errorBodySchema = z.object({ error: errorDetailSchema.pick({ code: true }) });

/** A non-2xx answer from the API. */
export class ApiAnswerError extends Error {
  override name = "ApiAnswerError";
  readonly status: number;
  readonly code: string;
  readonly retryAfterMs: number | undefined;
  constructor(status: number, code: string, retryAfterMs: number | undefined) {
    super(`API answered ${status} ${code}`);
    this.status = status;
    this.code = code;
    this.retryAfterMs = retryAfterMs;
  }
}

export interface ApiClient {
  /** One attempt; throws ApiAnswerError on a non-2xx, the fetch error when there is no answer. */
  submitBulk(items: readonly unknown[]): Promise<BulkAnswer>;
  /** null when the API answers 404. */
  getJob(id: string): Promise<JobView | null>;
  getBatch(id: string): Promise<BatchCounts>;
  /** Whether `GET /v1/dead-letters/{id}` finds it. */
  hasDeadLetter(id: string): Promise<boolean>;
}

export function createApiClient(baseUrl: string, token: string, signal: AbortSignal): ApiClient {
  const call = async (method: string, path: string, body?: unknown): Promise<Response> => {
    const json = body === undefined ? {} : { body: JSON.stringify(body) };
    return fetch(`${baseUrl}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${token}`,
        ...(body === undefined ? {} : { "content-type": "application/json" }),
      },
      ...json,
      signal,
    });
  };
  const answerError = async (response: Response): Promise<ApiAnswerError> => {
    const body = errorBodySchema.safeParse(await response.json().catch(() => null));
    const retryAfterMs = parseRetryAfter(response.headers.get("retry-after"));
    return new ApiAnswerError(response.status, body.success ? body.data.error.code : "UNKNOWN", retryAfterMs);
  };
  // Reads are safe to repeat: retried through a Redis blip or a busy moment, never past a 4xx.
  const read = <T>(path: string, parse: (value: unknown) => T, missing: T) =>
    pRetry(
      async () => {
        const response = await call("GET", path);
        if (response.status === 404) return missing;
        if (!response.ok) {
          const error = await answerError(response);
          throw error.status >= 500 ? error : new AbortError(error);
        }
        return parse(await response.json());
      },
      {
        retries: 20,
        minTimeout: 100,
        maxTimeout: 2_000,
        signal,
        onFailedAttempt: async ({ error }) => {
          if (error instanceof ApiAnswerError && error.retryAfterMs !== undefined)
            await sleep(error.retryAfterMs, signal);
        },
      },
    );

  return {
    async submitBulk(items) {
      const response = await call("POST", "/v1/jobs/bulk", { jobs: items });
      if (response.status !== 202) throw await answerError(response);
      return bulkResponseSchema.parse(await response.json());
    },
    getJob: (id) => read(`/v1/jobs/${encodeURIComponent(id)}`, (value) => checkedJobSchema.parse(value), null),
    async getBatch(id) {
      const batch = await read(
        `/v1/batches/${encodeURIComponent(id)}`,
        (value) => batchCountsSchema.parse(value),
        null,
      );
      if (batch === null) throw new Error(`batch ${id} is unknown to the API`);
      return batch.counts;
    },
    hasDeadLetter: (id) => read(`/v1/dead-letters/${encodeURIComponent(id)}`, () => true, false),
  };
}
