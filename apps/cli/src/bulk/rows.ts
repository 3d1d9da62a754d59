import { accessSync, constants, createReadStream } from "node:fs";
import { extname } from "node:path";
import { createInterface } from "node:readline";
import { type Readable, Transform } from "node:stream";
import { pipeline } from "node:stream/promises";
import { parse } from "csv-parse";
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

export interface ReadOptions {
  /** How the file is named in messages. */
  name?: string;
  /** Called with a CSV's header before its first row (JSONL rows may each have their own keys). */
  onHeader?: (columns: string[]) => void;
}

/** The file's format, from its extension; refuses anything but .csv and .jsonl. */
export function formatOf(path: string): "csv" | "jsonl" {
  const extension = extname(path).toLowerCase();
  if (extension === ".csv") return "csv";
  if (extension === ".jsonl" || extension === ".ndjson") return "jsonl";
  throw new UsageError(`${path}: expected a .csv or .jsonl file`);
}

/** Checks, before anything is sent, that the file can be read. */
export function checkReadable(path: string): void {
  try {
    accessSync(path, constants.R_OK);
  } catch (error) {
    throw new UsageError(`${path}: cannot read it (${(error as NodeJS.ErrnoException).code ?? error})`);
  }
}

/**
 * Streams a file's rows: only the rows in flight are in memory, whatever the file's size.
 * Refuses a file without a row once it has read it to the end.
 */
export async function* readRowFile(path: string, options: ReadOptions = {}): AsyncGenerator<Row> {
  const read = { name: path, ...options };
  const source = createReadStream(path);
  let count = 0;
  for await (const row of formatOf(path) === "csv" ? parseCsv(source, read) : parseJsonl(source, read)) {
    count += 1;
    yield row;
  }
  if (count === 0) throw new UsageError(`${path}: no rows`);
}

export async function* parseCsv(source: Readable, { name = "input", onHeader }: ReadOptions = {}): AsyncGenerator<Row> {
  const lines = new LineCounter();
  const parser = parse({
    info: true,
    skip_empty_lines: true,
    columns: (header: string[]) => {
      checkHeader(header, name);
      onHeader?.(header);
      return header;
    },
  });
  // The counter sees each chunk before the parser does, so it holds the bytes a record ends in.
  const feeding = pipeline(source, lines.tap(), parser).catch(() => {});
  try {
    for await (const { record, info } of parser as AsyncIterable<{
      record: Record<string, string>;
      info: { bytes: number };
    }>) {
      yield { row: lines.lineOf(info.bytes, record), values: record };
    }
  } catch (error) {
    if (error instanceof UsageError) throw error;
    // csv-parse's messages say which line and what it expected.
    throw new UsageError(`${name}: ${(error as Error).message}`);
  } finally {
    parser.destroy();
    await feeding;
  }
}

/**
 * The line a record starts on, from where it ends: the line of its last byte, less the line
 * breaks inside its quoted values. (csv-parse's own `info.lines` counts a CRLF inside quotes
 * twice.) Records come in order, so the count picks up where the last one stopped, and the
 * chunks it has counted past are dropped.
 */
class LineCounter {
  private chunks: Buffer[] = [];
  /** The file offset of `chunks[0]`'s first byte. */
  private offset = 0;
  private scanned = 0;
  private breaks = 0;
  private last = -1;

  tap(): Transform {
    let first = true;
    return new Transform({
      transform: (chunk: Buffer, _encoding, done) => {
        let bytes = chunk;
        // The BOM goes first, so the byte offsets count from the first real character.
        if (first && bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf) bytes = bytes.subarray(3);
        first = false;
        this.chunks.push(bytes);
        done(null, bytes);
      },
    });
  }

  lineOf(end: number, record: Record<string, string>): number {
    while (this.scanned < end) {
      const chunk = this.chunks[0] as Buffer;
      const at = this.scanned - this.offset;
      if (at >= chunk.length) {
        this.offset += chunk.length;
        this.chunks.shift();
        continue;
      }
      this.last = chunk[at] as number;
      if (this.last === 0x0a) this.breaks += 1;
      this.scanned += 1;
    }
    const endLine = this.last === 0x0a ? this.breaks : this.breaks + 1;
    const inside = Object.values(record).reduce((n, value) => n + (value.match(/\n/g)?.length ?? 0), 0);
    return endLine - inside;
  }
}

function checkHeader(header: string[], name: string): void {
  const seen = new Set<string>();
  header.forEach((column, i) => {
    if (column.trim() === "") throw new UsageError(`${name}: column ${i + 1} of the header has no name`);
    if (seen.has(column)) throw new UsageError(`${name}: the header names "${column}" twice`);
    seen.add(column);
  });
}

export async function* parseJsonl(source: Readable, { name = "input" }: ReadOptions = {}): AsyncGenerator<Row> {
  const lines = createInterface({ input: source, crlfDelay: Number.POSITIVE_INFINITY });
  let number = 0;
  try {
    for await (const text of lines) {
      number += 1;
      const line = number === 1 ? text.replace(/^\uFEFF/, "") : text;
      if (line.trim() === "") continue;
      let value: unknown;
      try {
        value = JSON.parse(line);
      } catch (error) {
        throw new UsageError(`${name}: line ${number} is not JSON (${(error as Error).message})`);
      }
      if (typeof value !== "object" || value === null || Array.isArray(value)) {
        throw new UsageError(`${name}: line ${number} is not a JSON object`);
      }
      yield { row: number, values: value as Record<string, unknown> };
    }
  } finally {
    lines.close();
    source.destroy();
  }
}
