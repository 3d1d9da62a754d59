import { type DestinationStream, type Logger, pino } from "pino";

/**
 * Keys whose values never reach a log line, at the top and two levels down. The worker
 * logs job id, provider, attempt and error code, never `job.data`; redaction is the net
 * under that rule.
 */
export const redactedPaths = ["authorization", "data", "input", "password", "token", "secrets"].flatMap((key) => [
  key,
  `*.${key}`,
  `*.*.${key}`,
]);

/**
 * Stdout, written in blocks: a line a job (`database ready`) written on its own costs a
 * system call each, a measurable share of a busy worker's CPU. Lines wait at most
 * `flushMs` (or until 4 KB gather); pino writes what waits when the process exits, however
 * it exits short of SIGKILL, which loses at most that last moment's lines.
 */
const bufferedStdout = (flushMs = 250) =>
  pino.destination({ dest: 1, sync: false, minLength: 4_096, periodicFlush: flushMs });

/**
 * The worker's logger: JSON lines with secrets redacted, on stdout (buffered) unless
 * `destination` is given. A line others wait for (`worker ready`) is followed by `flush()`.
 */
export function createLogger(level: string, destination?: DestinationStream): Logger {
  const options = { name: "provisioner-worker", level, redact: { paths: redactedPaths, censor: "[redacted]" } };
  return pino(options, destination ?? bufferedStdout());
}
