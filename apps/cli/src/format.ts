// Plain-text shapes shared by the commands: aligned pairs, tables, one attempt's error.
import type { AttemptError } from "./answers.ts";

/** `kind status code: message`, e.g. `invalid 400 BAD_REQUEST: name is taken`. */
export function formatAttemptError(error: Pick<AttemptError, "kind" | "status" | "code" | "message">): string {
  const label = [error.kind, error.status, error.code].filter((part) => part !== undefined).join(" ");
  return `${label}: ${error.message}`;
}

/** `label   value` lines with the values aligned; undefined values are left out. */
export function pairs(entries: readonly (readonly [string, string | number | undefined])[]): string {
  const shown = entries.filter((entry): entry is readonly [string, string | number] => entry[1] !== undefined);
  const width = Math.max(...shown.map(([label]) => label.length));
  return shown.map(([label, value]) => `${label.padEnd(width)}  ${value}`).join("\n");
}

/** Columns padded to their widest cell; the last one is not padded, so long messages just run on. */
export function table(headers: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = headers.map((header, i) => Math.max(header.length, ...rows.map((row) => (row[i] ?? "").length)));
  const line = (cells: readonly string[]) =>
    cells
      .map((cell, i) => (i === cells.length - 1 ? cell : cell.padEnd(widths[i] ?? 0)))
      .join("  ")
      .trimEnd();
  return [line(headers.map((header) => header.toUpperCase())), ...rows.map(line)].join("\n");
}

/** One line of a message that may hold newlines, cut to `max` characters. */
export function oneLine(text: string, max = 100): string {
  const flat = text.replace(/\s+/g, " ").trim();
  return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat;
}
