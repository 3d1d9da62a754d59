import { readFileSync } from "node:fs";
import { extname } from "node:path";
import { parse } from "csv-parse/sync";
import { UsageError } from "../errors.ts";

/** One row of the input file. */
export interface Row {
  /**
   * Where a person finds it: the line of the file it starts on. In an ordinary CSV that is
   * also the spreadsheet's row number (the header is row 1).
   */
  row: number;
  values: Record<string, unknown>;
}

export interface RowFile {
  format: "csv" | "jsonl";
  /** The CSV header; JSONL rows may each have their own keys. */
  columns: string[] | undefined;
  rows: Row[];
}

export function readRowFile(path: string): RowFile {
  const extension = extname(path).toLowerCase();
  const format = extension === ".csv" ? "csv" : extension === ".jsonl" || extension === ".ndjson" ? "jsonl" : undefined;
  if (!format) throw new UsageError(`${path}: expected a .csv or .jsonl file`);
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new UsageError(`${path}: cannot read it (${code ?? (error as Error).message})`);
  }
  const file = format === "csv" ? parseCsv(text, path) : parseJsonl(text, path);
  if (file.rows.length === 0) throw new UsageError(`${path}: no rows`);
  return file;
}

export function parseCsv(text: string, name = "input"): RowFile {
  // The BOM goes first, so the byte offsets below count from the first real character.
  const bytes = Buffer.from(text.replace(/^\uFEFF/, ""), "utf8");
  const lineOf = lineCounter(bytes);
  let columns: string[] | undefined;
  try {
    const records = parse(bytes, {
      info: true,
      skip_empty_lines: true,
      columns: (header: string[]) => {
        checkHeader(header, name);
        columns = header;
        return header;
      },
    }) as unknown as { record: Record<string, string>; info: { bytes: number } }[];
    return {
      format: "csv",
      columns,
      rows: records.map(({ record, info }) => ({ row: lineOf(info.bytes, record), values: record })),
    };
  } catch (error) {
    if (error instanceof UsageError) throw error;
    // csv-parse's messages say which line and what it expected.
    throw new UsageError(`${name}: ${(error as Error).message}`);
  }
}

/**
 * The line a record starts on, from where it ends: the line of its last byte, less the line
 * breaks inside its quoted values. (csv-parse's own `info.lines` counts a CRLF inside quotes
 * twice.) Records come in order, so the count picks up where the last one stopped.
 */
function lineCounter(bytes: Buffer) {
  let scanned = 0;
  let breaks = 0;
  return (end: number, record: Record<string, string>): number => {
    for (; scanned < end; scanned++) if (bytes[scanned] === 0x0a) breaks += 1;
    const endLine = bytes[end - 1] === 0x0a ? breaks : breaks + 1;
    const inside = Object.values(record).reduce((n, value) => n + (value.match(/\n/g)?.length ?? 0), 0);
    return endLine - inside;
  };
}

function checkHeader(header: string[], name: string): void {
  const seen = new Set<string>();
  header.forEach((column, i) => {
    if (column.trim() === "") throw new UsageError(`${name}: column ${i + 1} of the header has no name`);
    if (seen.has(column)) throw new UsageError(`${name}: the header names "${column}" twice`);
    seen.add(column);
  });
}

export function parseJsonl(text: string, name = "input"): RowFile {
  const rows: Row[] = [];
  const lines = text.replace(/^\uFEFF/, "").split(/\r?\n/);
  lines.forEach((line, i) => {
    if (line.trim() === "") return;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch (error) {
      throw new UsageError(`${name}: line ${i + 1} is not JSON (${(error as Error).message})`);
    }
    if (typeof value !== "object" || value === null || Array.isArray(value)) {
      throw new UsageError(`${name}: line ${i + 1} is not a JSON object`);
    }
    rows.push({ row: i + 1, values: value as Record<string, unknown> });
  });
  return { format: "jsonl", columns: undefined, rows };
}
