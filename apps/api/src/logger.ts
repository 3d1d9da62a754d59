import { type DestinationStream, type Logger, type LoggerOptions, pino } from "pino";

/**
 * Keys whose values never reach a log line, at the top and two levels down: the bearer
 * token, provider request bodies, passwords, tokens and decrypted secrets. Request logs
 * carry the token's name (`tokenName`), never the token.
 */
export const redactedPaths = ["authorization", "input", "password", "token", "secrets"].flatMap((key) => [
  key,
  `*.${key}`,
  `*.*.${key}`,
]);

/**
 * Stdout, handed to pino's writer (sonic-boom) once per turn of the event loop. sonic-boom
 * appends each line to one pending string and measures that string's byte length (which
 * flattens it) on every line written while a write is in flight: under load, a copy of
 * ~5.5 KB per `POST /v1/jobs` in the allocation profile, more than the rest of the request log.
 * A turn's lines go to it joined, as one append. Lines still pending when the process exits
 * are written synchronously then, so `process.exit()` right after a line loses nothing.
 */
function stdoutByTurn(): DestinationStream & { flush(): void } {
  const stdout = pino.destination({ dest: 1 });
  let pending: string[] = [];
  const handOver = () => {
    if (pending.length === 0) return;
    const lines = pending;
    pending = [];
    stdout.write(lines.length === 1 ? (lines[0] as string) : lines.join(""));
  };
  process.on("exit", () => {
    if (pending.length === 0) return;
    handOver();
    stdout.flushSync();
  });
  return {
    write(line: string) {
      if (pending.length === 0) setImmediate(handOver);
      pending.push(line);
    },
    // logger.flush(): what is pending now, not at the end of the turn.
    flush() {
      handOver();
      stdout.flush();
    },
  };
}

/** The API's logger: JSON lines with secrets redacted, on stdout unless `destination` is given. */
export function createLogger(options: LoggerOptions = {}, destination?: DestinationStream): Logger {
  const settings: LoggerOptions = { name: "api", ...options, redact: { paths: redactedPaths, censor: "[redacted]" } };
  return pino(settings, destination ?? stdoutByTurn());
}

/**
 * The request log's logger: the same destination and fields, without redaction. Its lines
 * carry only fields the request log sets itself (id, method, path, status, duration, the
 * token's name), never a body, a header or a secret, and redaction costs ~20 µs a line,
 * more than the rest of the line: a third of the API's time per request besides the queue.
 */
export const withoutRedaction = (logger: Logger): Logger => logger.child({}, { redact: [] });
