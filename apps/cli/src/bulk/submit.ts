import { sha256 } from "@provisioner/json";
import type { ApiClient } from "../client.ts";
import type { PreparedRow, RowRejection } from "./prepare.ts";
import type { BulkState } from "./state.ts";

/** Rows in file order, cut into requests; rows rejected here travel with the next request. */
export interface Chunk {
  index: number;
  rows: PreparedRow[];
  rejected: RowRejection[];
}

export interface ChunkLimits {
  /** Items per request; the API takes at most 1,000. */
  maxJobs?: number;
  /** Bytes of JSON per request, well under the API's 2 MiB default body limit. */
  maxBytes?: number;
}

const isRejection = (row: PreparedRow | RowRejection): row is RowRejection => "code" in row;

/**
 * Cuts rows into requests of at most `maxJobs` items and about `maxBytes` of JSON, holding
 * one request's rows at a time. The same file and options cut the same chunks.
 */
export async function* chunkRows(
  rows: AsyncIterable<PreparedRow | RowRejection>,
  { maxJobs = 1000, maxBytes = 1_000_000 }: ChunkLimits = {},
): AsyncGenerator<Chunk> {
  let index = 0;
  let current: Chunk = { index, rows: [], rejected: [] };
  let bytes = 0;
  for await (const row of rows) {
    if (isRejection(row)) {
      current.rejected.push(row);
      continue;
    }
    const size = Buffer.byteLength(JSON.stringify(row.item)) + 1;
    if (current.rows.length > 0 && (current.rows.length >= maxJobs || bytes + size > maxBytes)) {
      yield current;
      index += 1;
      current = { index, rows: [], rejected: [] };
      bytes = 0;
    }
    current.rows.push(row);
    bytes += size;
  }
  if (current.rows.length > 0 || current.rejected.length > 0) yield current;
}

const digestOf = (chunk: Chunk) =>
  sha256(
    JSON.stringify([chunk.rows.map((row) => [row.row, row.item.idempotencyKey]), chunk.rejected.map((r) => r.row)]),
  );

export interface SubmitOptions {
  /** Requests in flight at once. Default 2. */
  inFlight?: number;
  onChunk?: (progress: { sent: number; skipped: number; rows: number }) => void;
}

/**
 * Sends the chunks the state has not recorded as accepted, at most `inFlight` at a time, and
 * records each answer (indexes mapped back to row numbers) as it comes. A failed request
 * stops the run once the others in flight have ended; every row carries its key, so running
 * the file again sends only what was not recorded, and a chunk sent twice queues nothing twice.
 */
export async function submitChunks(
  client: ApiClient,
  chunks: AsyncIterable<Chunk>,
  state: BulkState,
  { inFlight = 2, onChunk }: SubmitOptions = {},
): Promise<{ sent: number; skipped: number }> {
  const progress = { sent: 0, skipped: 0, rows: 0 };
  const pending = new Set<Promise<void>>();
  let failure: { error: unknown } | undefined;
  const send = async (chunk: Chunk, digest: string) => {
    const answer = chunk.rows.length > 0 ? await client.submitBulk(chunk.rows.map((row) => row.item)) : undefined;
    const rowAt = (index: number) => (chunk.rows[index] as PreparedRow).row;
    const jobs = answer?.jobs ?? [];
    state.recordChunk({
      index: chunk.index,
      digest,
      batchId: jobs.length > 0 && answer ? answer.batchId : null,
      rows: jobs.map((job) => rowAt(job.index)),
      ids: jobs.map((job) => job.id),
      deduplicated: jobs.flatMap((job, i) => (job.deduplicated ? [i] : [])),
      rejected: [
        ...chunk.rejected,
        ...(answer?.rejected ?? []).map(({ index, error }) => ({
          row: rowAt(index),
          code: error.code,
          message: error.message,
          field: error.field,
        })),
      ],
    });
    progress.sent += 1;
    progress.rows += chunk.rows.length + chunk.rejected.length;
    onChunk?.(progress);
  };
  try {
    for await (const chunk of chunks) {
      const digest = digestOf(chunk);
      if (state.accepted(chunk.index, digest)) {
        progress.skipped += 1;
        progress.rows += chunk.rows.length + chunk.rejected.length;
        continue;
      }
      const request = send(chunk, digest).catch((error: unknown) => {
        failure ??= { error };
      });
      pending.add(request);
      void request.finally(() => pending.delete(request));
      if (pending.size >= inFlight) await Promise.race(pending);
      if (failure) break;
    }
  } finally {
    // Also when the file turns out malformed halfway: the requests in flight are recorded first.
    await Promise.all(pending);
  }
  if (failure) throw failure.error;
  return { sent: progress.sent, skipped: progress.skipped };
}
