import { expect, it } from "vitest";
import type { RowOutcome } from "./outcomes.ts";
import { exitCodeOfSummary, formatSummary, summarize } from "./summary.ts";

const outcome = (row: number, fields: Partial<RowOutcome>): RowOutcome => ({
  row,
  id: `bridgeport-${row}`,
  deduplicated: false,
  status: "succeeded",
  outcome: "created",
  lastError: undefined,
  ...fields,
});

it("puts every row in one bucket and exits 1 when any died or was rejected", () => {
  const summary = summarize(
    [
      outcome(5, { status: "dead", lastError: { at: "t", attempt: 1, kind: "invalid", status: 400, message: "no" } }),
      outcome(2, {}),
      outcome(3, { deduplicated: true }),
      outcome(4, { outcome: "deduplicated" }),
    ],
    [{ row: 6, code: "VALIDATION_ERROR", message: "too short", field: "input.name" }],
  );
  expect(summary).toMatchObject({ created: 1, alreadyQueued: 1, alreadyAtProvider: 1 });
  expect(exitCodeOfSummary(summary)).toBe(1);
  expect(formatSummary(summary)).toBe(
    [
      "created       1",
      "deduplicated  2 (1 already queued, 1 already at the provider)",
      "dead          1",
      "rejected      1",
      "",
      "dead rows (see `provisioner dlq show ID`, replay with `provisioner dlq replay ID`):",
      "  row 5: bridgeport-5: invalid 400: no",
      "",
      "rejected rows (not queued):",
      "  row 6: VALIDATION_ERROR: too short (field: input.name)",
    ].join("\n"),
  );
});

it("exits 0 when every row succeeded", () => {
  expect(exitCodeOfSummary(summarize([outcome(2, {}), outcome(3, { deduplicated: true })], []))).toBe(0);
});
