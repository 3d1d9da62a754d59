import {
  appendFileSync,
  closeSync,
  createReadStream,
  existsSync,
  fstatSync,
  openSync,
  readSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { resolve } from "node:path";
import { createInterface } from "node:readline";
import { canonicalJson, sha256 } from "@provisioner/json";
import type { BulkPlan, RowRejection } from "./prepare.ts";
import type { StatusCounts } from "./wait.ts";

/** A chunk the API accepted: enough to skip it on a re-run and to summarize its rows. */
export interface ChunkRecord {
  kind: "chunk";
  index: number;
  /** A digest of the chunk's rows and keys: a chunk is skipped only if the file still makes it. */
  digest: string;
  /** Null when no row of the chunk could be queued. */
  batchId: string | null;
  /** Queued rows: row numbers and job ids, side by side. */
  rows: number[];
  ids: string[];
  /** Positions in `ids` that the API already had (an earlier run, or earlier in the file). */
  deduplicated: number[];
  rejected: RowRejection[];
}

/** A batch seen finished: its counts, so a re-run does not wait on it again. */
export interface FinishedRecord {
  kind: "finished";
  batchId: string;
  total: number;
  counts: StatusCounts;
  /** Succeeded jobs that adopted an existing database; absent in state files written before it was kept. */
  adopted?: number | undefined;
}

interface Header {
  kind: "run";
  version: 1;
  plan: string;
}

/** What is kept in memory of a chunk: a few numbers, not its rows. */
export interface ChunkTally {
  digest: string;
  batchId: string | null;
  jobs: number;
  deduplicated: number;
  rejected: RowRejection[];
  /** The line of the state file it was read from: a chunk sent again is recorded again. */
  line: number;
}

/**
 * The state of a bulk run, in a file next to its input (`FILE.bulk-state.jsonl`, appended a
 * line at a time, so a killed process leaves at most a torn last line, which is ignored). It
 * records each accepted chunk and each finished batch; a re-run with the same file and
 * options skips the chunks and waits only on the batches not yet finished. Removed once the
 * summary is printed.
 */
export class BulkState {
  readonly path: string;
  readonly chunks = new Map<number, ChunkTally>();
  readonly finished = new Map<string, FinishedRecord>();
  private lines = 0;

  private constructor(path: string) {
    this.path = path;
  }

  /** Opens the state of an earlier run of the same file and plan, or starts a new one. */
  static async open(input: string, plan: BulkPlan): Promise<BulkState> {
    const state = new BulkState(`${input}.bulk-state.jsonl`);
    const header: Header = { kind: "run", version: 1, plan: sha256(canonicalJson({ input: resolve(input), plan })) };
    let same = false;
    if (existsSync(state.path)) {
      for await (const { line, record } of state.records()) {
        state.lines = line;
        if (record.kind === "run") same = record.plan === header.plan && record.version === header.version;
        if (!same) break;
        if (record.kind === "chunk") {
          const { index, digest, batchId, ids, deduplicated, rejected } = record;
          state.chunks.set(index, {
            digest,
            batchId,
            jobs: ids.length,
            deduplicated: deduplicated.length,
            rejected,
            line,
          });
        } else if (record.kind === "finished") state.finished.set(record.batchId, record);
      }
    }
    if (same && !readFileTail(state.path).endsWith("\n")) {
      // A line torn by a killed process: end it, so the next record starts on a line of its own.
      appendFileSync(state.path, "\n");
      state.lines += 1;
    }
    if (!same) {
      state.chunks.clear();
      state.finished.clear();
      writeFileSync(state.path, `${JSON.stringify(header)}\n`);
      state.lines = 1;
    }
    return state;
  }

  get resumed(): boolean {
    return this.chunks.size > 0;
  }

  accepted(index: number, digest: string): boolean {
    return this.chunks.get(index)?.digest === digest;
  }

  recordChunk(record: Omit<ChunkRecord, "kind">): void {
    this.append({ kind: "chunk", ...record });
    this.chunks.set(record.index, {
      digest: record.digest,
      batchId: record.batchId,
      jobs: record.ids.length,
      deduplicated: record.deduplicated.length,
      rejected: record.rejected,
      line: this.lines,
    });
  }

  recordFinished(record: Omit<FinishedRecord, "kind">): void {
    this.append({ kind: "finished", ...record });
    this.finished.set(record.batchId, { kind: "finished", ...record });
  }

  /** The batches to wait on, in chunk order. */
  batchIds(): string[] {
    return [...this.chunks].sort(([a], [b]) => a - b).flatMap(([, chunk]) => (chunk.batchId ? [chunk.batchId] : []));
  }

  /** Each chunk's full record (its latest), read back from the file one at a time. */
  async *chunkRecords(): AsyncGenerator<ChunkRecord> {
    const current = new Set([...this.chunks.values()].map((chunk) => chunk.line));
    for await (const { line, record } of this.records()) {
      if (record.kind === "chunk" && current.has(line)) yield record;
    }
  }

  remove(): void {
    rmSync(this.path, { force: true });
  }

  private append(record: ChunkRecord | FinishedRecord): void {
    appendFileSync(this.path, `${JSON.stringify(record)}\n`);
    this.lines += 1;
  }

  private async *records(): AsyncGenerator<{ line: number; record: Header | ChunkRecord | FinishedRecord }> {
    const lines = createInterface({ input: createReadStream(this.path), crlfDelay: Number.POSITIVE_INFINITY });
    let line = 0;
    try {
      for await (const text of lines) {
        line += 1;
        try {
          yield { line, record: JSON.parse(text) };
        } catch {
          // A line torn by a killed process: its chunk was not recorded, so it is sent again.
        }
      }
    } finally {
      lines.close();
    }
  }
}

function readFileTail(path: string): string {
  const fd = openSync(path, "r");
  try {
    const size = fstatSync(fd).size;
    const byte = Buffer.alloc(1);
    if (size > 0) readSync(fd, byte, 0, 1, size - 1);
    return size > 0 ? byte.toString("latin1") : "\n";
  } finally {
    closeSync(fd);
  }
}
