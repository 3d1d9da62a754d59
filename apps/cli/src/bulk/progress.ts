import { Presets, SingleBar } from "cli-progress";
import type { Io } from "../io.ts";
import type { BatchProgress } from "./wait.ts";

export interface ProgressReporter {
  update(progress: BatchProgress): void;
  stop(): void;
}

const describe = ({ counts }: BatchProgress) =>
  `succeeded ${counts.succeeded}, dead ${counts.dead}, retrying ${counts.retrying}, running ${counts.running}, queued ${counts.queued}`;

/**
 * A live bar when stderr is a terminal; otherwise (CI, a pipe, a log file) a plain line at
 * most every `intervalMs` and only when something moved, so logs stay readable.
 */
export function createProgressReporter(io: Io, { intervalMs = 5_000 } = {}): ProgressReporter {
  const tty = io.stderrTty;
  if (tty) {
    const bar = new SingleBar(
      {
        stream: tty,
        format: "{bar} {percentage}% | {value}/{total} done | {detail}",
        hideCursor: true,
        clearOnComplete: false,
        fps: 5,
      },
      Presets.shades_classic,
    );
    let started = false;
    return {
      update(progress) {
        const payload = { detail: describe(progress) };
        if (!started) {
          bar.start(progress.total, progress.done, payload);
          started = true;
        } else {
          bar.setTotal(progress.total);
          bar.update(progress.done, payload);
        }
      },
      stop: () => {
        if (started) bar.stop();
      },
    };
  }
  let lastAt = 0;
  let lastLine = "";
  let pending: BatchProgress | undefined;
  const print = (progress: BatchProgress) => {
    const line = `waiting: ${progress.done}/${progress.total} done (${describe(progress)})`;
    if (line === lastLine) return;
    io.stderr.write(`${line}\n`);
    lastLine = line;
    lastAt = Date.now();
    pending = undefined;
  };
  return {
    update(progress) {
      if (Date.now() - lastAt >= intervalMs || progress.done === progress.total) print(progress);
      else pending = progress;
    },
    stop: () => {
      if (pending) print(pending);
    },
  };
}
