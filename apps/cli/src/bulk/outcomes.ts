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
 * batch's counts and dead pages (read only when it has dead jobs) settle most rows; a job is
 * read (16 at a time) only where the batch cannot tell: a dead row's error, and created vs.
 * already at the provider for a row this run queued when the batch says some of its
 * successes adopted (`adopted` > 0). A row the API already had, or any row of a batch whose
 * jobs all succeeded or died and none adopted, is not read at all: a 100,000-row run with
 * nothing dead reads no job.
 */
export async function summarizeRun(
  client: ApiClient,
  state: BulkState,
  { concurrency = 16 } = {},
): Promise<BulkSummary> {
  const summary = emptySummary();
  for await (const chunk of state.chunkRecords()) {
    summarize(await chunkOutcomes(client, state, chunk, concurrency), chunk.rejected, summary);
  }
  return summary;
}

async function chunkOutcomes(
  client: ApiClient,
  state: BulkState,
  chunk: ChunkRecord,
  concurrency: number,
): Promise<RowOutcome[]> {
  if (!chunk.batchId) return [];
  const batch = state.finished.get(chunk.batchId);
  const dead = batch?.counts.dead === 0 ? new Set<string>() : await deadIdsOf(client, chunk.batchId);
  const settled = batch !== undefined && batch.counts.succeeded + batch.counts.dead === batch.total;
  // Every success of the batch created its database: a row this run queued that did not die was created.
  const allCreated = settled && batch.adopted === 0;
  const repeats = new Set(chunk.deduplicated);
  const rows = chunk.ids.map((id, i) => ({ row: chunk.rows[i] as number, id, deduplicated: repeats.has(i) }));
  const known = (row: QueuedRow) => settled && (row.deduplicated || allCreated);
  const toRead = [...new Set(rows.filter((row) => dead.has(row.id) || !known(row)).map((r) => r.id))];
  const views = await mapConcurrent(toRead, concurrency, async (id) => {
    try {
      return await client.getJob(id);
    } catch (error) {
      if (error instanceof ApiError && error.status === 404) return undefined;
      throw error;
    }
  });
  const byId = new Map(toRead.map((id, i) => [id, views[i]]));
  return rows.map((row): RowOutcome => {
    if (!byId.has(row.id)) {
      const outcome = row.deduplicated ? undefined : "created";
      return { ...row, status: "succeeded", outcome, lastError: undefined };
    }
    const view = byId.get(row.id);
    return {
      ...row,
      status: view?.status ?? "expired",
      outcome: view?.result?.outcome,
      lastError: view?.status === "dead" ? view.errors.at(-1) : undefined,
    };
  });
}
