import type { JobStatus } from "@provisioner/api-contract";
import type { AttemptError } from "../answers.ts";
import type { ApiClient } from "../client.ts";
import { ApiError } from "../errors.ts";
import { mapConcurrent } from "../pool.ts";
import type { QueuedRow } from "./submit.ts";

export interface RowOutcome extends QueuedRow {
  /** `expired`: the job is past its retention and the API no longer knows it. */
  status: JobStatus | "expired";
  /** For a succeeded job: did the provider create it now, or did it already exist? */
  outcome: "created" | "deduplicated" | undefined;
  /** For a dead job: the error of its last attempt. */
  lastError: AttemptError | undefined;
}

/**
 * Reads each job once (rows with the same key share one), at most `concurrency` at a time:
 * the batch endpoint counts statuses, but only the job knows created from deduplicated.
 */
export async function fetchOutcomes(
  client: ApiClient,
  queued: readonly QueuedRow[],
  { concurrency = 16 } = {},
): Promise<RowOutcome[]> {
  const ids = [...new Set(queued.map((row) => row.id))];
  const views = await mapConcurrent(ids, concurrency, async (id) => {
    try {
      return await client.getJob(id);
    } catch (error) {
      if (error instanceof ApiError && error.status === 404) return undefined;
      throw error;
    }
  });
  const byId = new Map(ids.map((id, i) => [id, views[i]]));
  return queued.map((row) => {
    const view = byId.get(row.id);
    return {
      ...row,
      status: view?.status ?? "expired",
      outcome: view?.result?.outcome,
      lastError: view?.status === "dead" ? view.errors.at(-1) : undefined,
    };
  });
}
