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

/** How long a log line may wait in the stdout buffer before it is written anyway. */
export const logFlushMs = 100;

/**
 * Stdout, written in blocks of up to 4 KiB (or every `logFlushMs`) rather than one write a
 * line: a write a request cost the API ~17 µs (its share of a `POST /v1/jobs` in the CPU
 * profile, before the write reaches a pipe). pino writes what is buffered on `exit` (an
 * exception included); a SIGKILL loses at most the last `logFlushMs` of lines.
 */
const bufferedStdout = () => pino.destination({ dest: 1, minLength: 4096, periodicFlush: logFlushMs });

/**
 * The API's logger: JSON lines with secrets redacted, on stdout (buffered: a line that must be
 * out at once, such as "listening", is followed by `logger.flush()`) unless `destination` is given.
 */
export function createLogger(options: LoggerOptions = {}, destination?: DestinationStream): Logger {
  const settings: LoggerOptions = { name: "api", ...options, redact: { paths: redactedPaths, censor: "[redacted]" } };
  return pino(settings, destination ?? bufferedStdout());
}

/**
 * The request log's logger: the same destination and fields, without redaction. Its lines
 * carry only fields the request log sets itself (id, method, path, status, duration, the
 * token's name), never a body, a header or a secret, and redaction costs ~20 µs a line,
 * more than the rest of the line: a third of the API's time per request besides the queue.
 */
export const withoutRedaction = (logger: Logger): Logger => logger.child({}, { redact: [] });
