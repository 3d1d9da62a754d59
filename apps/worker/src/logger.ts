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

/** The worker's logger: JSON lines with secrets redacted, on stdout unless `destination` is given. */
export function createLogger(level: string, destination?: DestinationStream): Logger {
  const options = { name: "provisioner-worker", level, redact: { paths: redactedPaths, censor: "[redacted]" } };
  return destination ? pino(options, destination) : pino(options);
}
