import type { ApiClient } from "../client.ts";
import type { PreparedRow, RowRejection } from "./prepare.ts";

export interface QueuedRow {
  row: number;
  id: string;
  /** The API already had a job for this key (an earlier run): nothing new was queued. */
  deduplicated: boolean;
}

export interface Submission {
  queued: QueuedRow[];
  rejected: RowRejection[];
  /** Batches that hold at least one job (the API keeps no batch without one). */
  batches: { id: string; jobs: number }[];
}

export interface ChunkLimits {
  /** Items per request; the API takes at most 1,000. */
  maxJobs?: number;
  /** Bytes of JSON per request, well under the API's 2 MiB default body limit. */
  maxBytes?: number;
}

/** Splits rows into requests of at most `maxJobs` items and about `maxBytes` of JSON. */
export function chunkRows(
  rows: readonly PreparedRow[],
  { maxJobs = 1000, maxBytes = 1_000_000 }: ChunkLimits = {},
): PreparedRow[][] {
  const chunks: PreparedRow[][] = [];
  let current: PreparedRow[] = [];
  let bytes = 0;
  for (const row of rows) {
    const size = Buffer.byteLength(JSON.stringify(row.item)) + 1;
    if (current.length > 0 && (current.length >= maxJobs || bytes + size > maxBytes)) {
      chunks.push(current);
      current = [];
      bytes = 0;
    }
    current.push(row);
    bytes += size;
  }
  if (current.length > 0) chunks.push(current);
  return chunks;
}

/**
 * Sends the rows chunk by chunk and maps the API's item indexes back to row numbers. A
 * failed request stops here; every row carries its key, so running the file again picks up
 * where this stopped without queueing anything twice.
 */
export async function submitRows(
  client: ApiClient,
  rows: readonly PreparedRow[],
  options: ChunkLimits & { onChunk?: (done: number, total: number) => void } = {},
): Promise<Submission> {
  const submission: Submission = { queued: [], rejected: [], batches: [] };
  let done = 0;
  for (const chunk of chunkRows(rows, options)) {
    const answer = await client.submitBulk(chunk.map((row) => row.item));
    const rowAt = (index: number) => (chunk[index] as PreparedRow).row;
    for (const job of answer.jobs) {
      submission.queued.push({ row: rowAt(job.index), id: job.id, deduplicated: job.deduplicated });
    }
    for (const { index, error } of answer.rejected) {
      submission.rejected.push({ row: rowAt(index), code: error.code, message: error.message, field: error.field });
    }
    if (answer.jobs.length > 0) submission.batches.push({ id: answer.batchId, jobs: answer.jobs.length });
    done += chunk.length;
    options.onChunk?.(done, rows.length);
  }
  return submission;
}
