import { exitCodes } from "../errors.ts";
import { formatAttemptError, pairs } from "../format.ts";
import type { RowOutcome } from "./outcomes.ts";
import type { RowRejection } from "./prepare.ts";
import type { BulkState } from "./state.ts";

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

export const emptySummary = (): BulkSummary => ({
  created: 0,
  alreadyQueued: 0,
  alreadyAtProvider: 0,
  dead: [],
  rejected: [],
  unknown: [],
});

/** Every row lands in exactly one bucket; adds to `summary` (a run is summarized a chunk at a time). */
export function summarize(
  outcomes: readonly RowOutcome[],
  rejected: readonly RowRejection[],
  summary: BulkSummary = emptySummary(),
): BulkSummary {
  summary.rejected.push(...rejected);
  for (const row of outcomes) {
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

const byRow = (a: { row: number }, b: { row: number }) => a.row - b.row;

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
    for (const row of [...summary.dead].sort(byRow)) {
      lines.push(
        `  row ${row.row}: ${row.id}: ${row.lastError ? formatAttemptError(row.lastError) : "no error recorded"}`,
      );
    }
  }
  lines.push(...formatRejected([...summary.rejected].sort(byRow)));
  return lines.join("\n");
}

/** `--no-wait`: what was handed to the API, in this run and any earlier one it resumed. */
export function formatSubmission(state: BulkState): string {
  const chunks = [...state.chunks].sort(([a], [b]) => a - b).map(([, chunk]) => chunk);
  const sum = (of: (chunk: (typeof chunks)[number]) => number) => chunks.reduce((n, chunk) => n + of(chunk), 0);
  const deduplicated = sum((chunk) => chunk.deduplicated);
  const rejected = chunks.flatMap((chunk) => chunk.rejected).sort(byRow);
  return [
    pairs([
      ["queued", sum((chunk) => chunk.jobs) - deduplicated],
      ["deduplicated", deduplicated],
      ["rejected", rejected.length],
    ]),
    ...(chunks.some((chunk) => chunk.batchId)
      ? [
          "",
          "batches (GET /v1/batches/ID):",
          ...chunks.flatMap((chunk) => (chunk.batchId ? [`  ${chunk.batchId} (${chunk.jobs} jobs)`] : [])),
        ]
      : []),
    ...formatRejected(rejected),
  ].join("\n");
}
