import type { JobStatus } from "@provisioner/api-contract";
import type { AttemptError } from "../answers.ts";
import type { ApiClient } from "../client.ts";
import { ApiError } from "../errors.ts";
import { mapConcurrent } from "../pool.ts";
import type { BulkState, ChunkRecord } from "./state.ts";
import { type BulkSummary, emptySummary, summarize } from "./summary.ts";

export interface QueuedRow {
  row: number;
  id: string;
  /** The API already had a job for this key (an earlier run): nothing new was queued. */
  deduplicated: boolean;
}

export interface RowOutcome extends QueuedRow {
  /** `expired`: the job is past its retention and the API no longer knows it. */
  status: JobStatus | "expired";
  /** For a succeeded job: did the provider create it now, or did it already exist? */
  outcome: "created" | "deduplicated" | undefined;
  /** For a dead job: the error of its last attempt. */
  lastError: AttemptError | undefined;
}

/** A batch's dead job ids, paged with `deadCursor` (at most its own size). */
async function deadIdsOf(client: ApiClient, batchId: string): Promise<Set<string>> {
  const dead = new Set<string>();
  let deadCursor: string | undefined;
  do {
    const page = await client.getBatch(batchId, { deadCursor, deadLimit: 200 });
    for (const item of page.dead) dead.add(item.id);
    deadCursor = page.deadCursor ?? undefined;
  } while (deadCursor);
  return dead;
}

/**
 * Every row's outcome, chunk by chunk from the state file, so memory holds one chunk. The
 * batch's counts, its outcome counts and its dead pages (read only when it has dead jobs)
 * settle the rows of a batch whose jobs all succeeded or died: only its dead rows are read
 * (16 at a time), for their errors. A batch with jobs past their retention, or whose outcome
 * counts do not add up to its succeeded rows (a state file from before batches counted
 * outcomes), has its rows read instead.
 */
export async function summarizeRun(
  client: ApiClient,
  state: BulkState,
  { concurrency = 16 } = {},
): Promise<BulkSummary> {
  const summary = emptySummary();
  for await (const chunk of state.chunkRecords()) {
    const { rows, counted } = await chunkOutcomes(client, state, chunk, concurrency);
    summarize(rows, chunk.rejected, summary);
    summary.created += counted.created;
    summary.alreadyAtProvider += counted.deduplicated;
  }
  return summary;
}

async function chunkOutcomes(
  client: ApiClient,
  state: BulkState,
  chunk: ChunkRecord,
  concurrency: number,
): Promise<{ rows: RowOutcome[]; counted: { created: number; deduplicated: number } }> {
  const none = { created: 0, deduplicated: 0 };
  if (!chunk.batchId) return { rows: [], counted: none };
  const batch = state.finished.get(chunk.batchId);
  const dead = batch?.counts.dead === 0 ? new Set<string>() : await deadIdsOf(client, chunk.batchId);
  const settled = batch !== undefined && batch.counts.succeeded + batch.counts.dead === batch.total;
  const repeats = new Set(chunk.deduplicated);
  const rows = chunk.ids.map((id, i) => ({ row: chunk.rows[i] as number, id, deduplicated: repeats.has(i) }));
  // The rows this run queued that did not die succeeded; the batch counted how, so none is read.
  const ownSucceeded = rows.filter((row) => !row.deduplicated && !dead.has(row.id)).length;
  const counted =
    settled && batch.outcomes && batch.outcomes.created + batch.outcomes.deduplicated === ownSucceeded
      ? batch.outcomes
      : undefined;
  const toRead = [
    ...new Set(rows.filter((row) => dead.has(row.id) || !settled || (!row.deduplicated && !counted)).map((r) => r.id)),
  ];
  const views = await mapConcurrent(toRead, concurrency, async (id) => {
    try {
      return await client.getJob(id);
    } catch (error) {
      if (error instanceof ApiError && error.status === 404) return undefined;
      throw error;
    }
  });
  const byId = new Map(toRead.map((id, i) => [id, views[i]]));
  // Rows not read are repeats (already queued) or, when the batch counted them, its own successes.
  const read = rows.filter((row) => byId.has(row.id) || row.deduplicated);
  return {
    counted: counted ?? none,
    rows: read.map((row): RowOutcome => {
      if (!byId.has(row.id)) return { ...row, status: "succeeded", outcome: undefined, lastError: undefined };
      const view = byId.get(row.id);
      return {
        ...row,
        status: view?.status ?? "expired",
        outcome: view?.result?.outcome,
        lastError: view?.status === "dead" ? view.errors.at(-1) : undefined,
      };
    }),
  };
}
