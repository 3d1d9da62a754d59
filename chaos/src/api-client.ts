// The few API calls the run makes, over real HTTP, answers checked with zod.
import { parseRetryAfter } from "@provisioner/provider-client";
import pRetry, { AbortError } from "p-retry";
import { z } from "zod";
import { sleep } from "./time.ts";

const bulkAnswerSchema = z.object({
  batchId: z.string(),
  accepted: z.number(),
  rejected: z.array(z.object({ index: z.number(), error: z.object({ code: z.string(), message: z.string() }) })),
  jobs: z.array(z.object({ index: z.number(), id: z.string(), deduplicated: z.boolean() })),
});
export type BulkAnswer = z.output<typeof bulkAnswerSchema>;

export const jobStatuses = ["queued", "running", "retrying", "succeeded", "dead"] as const;

const jobViewSchema = z.object({
  id: z.string(),
  provider: z.string(),
  status: z.enum(jobStatuses),
  attempts: z.number(),
  input: z.record(z.string(), z.unknown()),
  result: z
    .object({ outcome: z.enum(["created", "deduplicated"]), resource: z.record(z.string(), z.unknown()) })
    .nullable(),
  errors: z.array(z.object({ kind: z.string(), message: z.string(), status: z.number().optional() })),
});
export type JobView = z.output<typeof jobViewSchema>;

const batchSchema = z.object({
  total: z.number(),
  counts: z.object({
    queued: z.number(),
    running: z.number(),
    retrying: z.number(),
    succeeded: z.number(),
    dead: z.number(),
    expired: z.number(),
  }),
});
export type BatchCounts = z.output<typeof batchSchema>["counts"];

const errorBodySchema = z.object({ error: z.object({ code: z.string() }) });

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
      return bulkAnswerSchema.parse(await response.json());
    },
    getJob: (id) => read(`/v1/jobs/${encodeURIComponent(id)}`, (value) => jobViewSchema.parse(value), null),
    async getBatch(id) {
      const batch = await read(`/v1/batches/${encodeURIComponent(id)}`, (value) => batchSchema.parse(value), null);
      if (batch === null) throw new Error(`batch ${id} is unknown to the API`);
      return batch.counts;
    },
    hasDeadLetter: (id) => read(`/v1/dead-letters/${encodeURIComponent(id)}`, () => true, false),
  };
}
