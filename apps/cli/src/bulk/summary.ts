import { exitCodes } from "../errors.ts";
import { formatAttemptError, pairs } from "../format.ts";
import type { RowOutcome } from "./outcomes.ts";
import type { RowRejection } from "./prepare.ts";
import type { Submission } from "./submit.ts";

export interface BulkSummary {
  created: number;
  /** Already queued (an earlier run, or the same row earlier in this file). */
  alreadyQueued: number;
  /** The provider already had the database; the job adopted it. */
  alreadyAtProvider: number;
  dead: RowOutcome[];
  rejected: RowRejection[];
  /** Jobs that did not end (or ended too long ago to tell): none in a normal run. */
  unknown: RowOutcome[];
}

/** Every row lands in exactly one bucket. */
export function summarize(outcomes: readonly RowOutcome[], rejected: readonly RowRejection[]): BulkSummary {
  const summary: BulkSummary = {
    created: 0,
    alreadyQueued: 0,
    alreadyAtProvider: 0,
    dead: [],
    rejected: [...rejected].sort((a, b) => a.row - b.row),
    unknown: [],
  };
  for (const row of [...outcomes].sort((a, b) => a.row - b.row)) {
    if (row.status === "dead") summary.dead.push(row);
    else if (row.status !== "succeeded") summary.unknown.push(row);
    else if (row.deduplicated) summary.alreadyQueued += 1;
    else if (row.outcome === "deduplicated") summary.alreadyAtProvider += 1;
    else summary.created += 1;
  }
  return summary;
}

export const exitCodeOfSummary = (summary: BulkSummary) =>
  summary.dead.length > 0 || summary.rejected.length > 0 || summary.unknown.length > 0
    ? exitCodes.failed
    : exitCodes.ok;

export function formatRejected(rejected: readonly RowRejection[]): string[] {
  if (rejected.length === 0) return [];
  return [
    "",
    "rejected rows (not queued):",
    ...rejected.map(
      (r) => `  row ${r.row}: ${r.code}: ${r.message}${r.field === undefined ? "" : ` (field: ${r.field})`}`,
    ),
  ];
}

export function formatSummary(summary: BulkSummary): string {
  const deduplicated = summary.alreadyQueued + summary.alreadyAtProvider;
  const lines = [
    pairs([
      ["created", summary.created],
      [
        "deduplicated",
        `${deduplicated} (${summary.alreadyQueued} already queued, ${summary.alreadyAtProvider} already at the provider)`,
      ],
      ["dead", summary.dead.length],
      ["rejected", summary.rejected.length],
      ["unknown", summary.unknown.length > 0 ? `${summary.unknown.length} (past retention)` : undefined],
    ]),
  ];
  if (summary.dead.length > 0) {
    lines.push("", "dead rows (see `provisioner dlq show ID`, replay with `provisioner dlq replay ID`):");
    for (const row of summary.dead) {
      lines.push(
        `  row ${row.row}: ${row.id}: ${row.lastError ? formatAttemptError(row.lastError) : "no error recorded"}`,
      );
    }
  }
  lines.push(...formatRejected(summary.rejected));
  return lines.join("\n");
}

/** `--no-wait`: what was handed to the API. */
export function formatSubmission(submission: Submission): string {
  const deduplicated = submission.queued.filter((row) => row.deduplicated).length;
  return [
    pairs([
      ["queued", submission.queued.length - deduplicated],
      ["deduplicated", deduplicated],
      ["rejected", submission.rejected.length],
    ]),
    ...(submission.batches.length > 0
      ? ["", "batches (GET /v1/batches/ID):", ...submission.batches.map((b) => `  ${b.id} (${b.jobs} jobs)`)]
      : []),
    ...formatRejected([...submission.rejected].sort((a, b) => a.row - b.row)),
  ].join("\n");
}
