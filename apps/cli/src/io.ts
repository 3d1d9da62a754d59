import { createInterface } from "node:readline/promises";

/** Where a command writes and what it may ask; tests pass their own. */
export interface Io {
  stdout: { write(text: string): unknown };
  stderr: { write(text: string): unknown };
  /** stderr when it is a terminal: only then is a live progress bar drawn. */
  stderrTty: NodeJS.WriteStream | undefined;
  /** Whether a person can answer a question on stdin. */
  stdinIsTty: boolean;
  /** Asks on stderr, reads one line from stdin. */
  ask(question: string): Promise<string>;
}

export function processIo(): Io {
  return {
    stdout: process.stdout,
    stderr: process.stderr,
    stderrTty: process.stderr.isTTY ? process.stderr : undefined,
    stdinIsTty: process.stdin.isTTY === true,
    async ask(question) {
      const prompt = createInterface({ input: process.stdin, output: process.stderr });
      try {
        return await prompt.question(question);
      } finally {
        prompt.close();
      }
    },
  };
}

/** Writes a line (or several) to a stream of the Io. */
export const println = (stream: { write(text: string): unknown }, text = "") => void stream.write(`${text}\n`);
