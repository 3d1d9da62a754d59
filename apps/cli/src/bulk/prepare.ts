import type { JobRequestBody } from "@provisioner/api-contract";
import type { ProviderName } from "@provisioner/provider-client";
import { UsageError } from "../errors.ts";
import { idempotencyKeyFor } from "./keys.ts";
import { type Row, readRowFile } from "./rows.ts";
import { MissingValueError, placeholdersOf, renderTemplate, rowValue } from "./template.ts";

export interface BulkPlan {
  provider: ProviderName;
  /** Absent: the API's `default` account. */
  account: string | undefined;
  template: Record<string, unknown>;
  /** A column whose value is the idempotency key, instead of a hash of the row. */
  keyColumn: string | undefined;
}

/**
 * One item of `POST /v1/jobs/bulk` as the CLI sends it: a job request whose input is rendered
 * from the template (the API checks it against the provider's schema), always with its own
 * key, so a resend is safe.
 */
export type BulkItem = Pick<JobRequestBody, "provider" | "account"> & {
  input: Record<string, unknown>;
  idempotencyKey: string;
};

export interface PreparedRow {
  row: number;
  item: BulkItem;
}

/** A row that was not queued: refused here (a missing value) or by the API (`index` mapped back). */
export interface RowRejection {
  row: number;
  code: string;
  message: string;
  field?: string | undefined;
}

/** Renders a row into a job request with its key, or rejects it here when it cannot be rendered. */
export function prepareRow({ row, values }: Row, plan: BulkPlan): PreparedRow | RowRejection {
  try {
    const input = renderTemplate(plan.template, values) as Record<string, unknown>;
    const idempotencyKey = plan.keyColumn
      ? keyFromColumn(values, plan.keyColumn)
      : idempotencyKeyFor(plan.provider, plan.account ?? "default", input);
    const item: BulkItem = { provider: plan.provider, input, idempotencyKey };
    if (plan.account !== undefined) item.account = plan.account;
    return { row, item };
  } catch (error) {
    if (!(error instanceof MissingValueError)) throw error;
    return { row, code: "MISSING_VALUE", message: error.message, field: error.field };
  }
}

/** Streams a file's rows, each prepared or rejected, after checking a CSV's header against the plan. */
export async function* prepareFile(path: string, plan: BulkPlan): AsyncGenerator<PreparedRow | RowRejection> {
  for await (const row of readRowFile(path, { onHeader: (columns) => checkColumns(columns, plan) })) {
    yield prepareRow(row, plan);
  }
}

// Every CSV row has every column, so a placeholder the header lacks would fail every row: say it once.
export function checkColumns(columns: string[], plan: BulkPlan): void {
  const known = new Set(columns);
  const missing = placeholdersOf(plan.template).filter((column) => !known.has(column));
  if (plan.keyColumn !== undefined && !known.has(plan.keyColumn)) missing.push(plan.keyColumn);
  if (missing.length > 0) {
    throw new UsageError(
      `the file has no column ${missing.map((c) => `"${c}"`).join(", ")}`,
      `its header is: ${columns.join(", ")}`,
    );
  }
}

function keyFromColumn(values: Record<string, unknown>, column: string): string {
  const value = rowValue(values, column);
  if ((typeof value !== "string" && typeof value !== "number") || String(value).trim() === "") {
    throw new MissingValueError(column, "idempotencyKey");
  }
  return String(value);
}
