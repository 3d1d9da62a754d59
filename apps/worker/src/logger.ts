import { pino } from "pino";

/** Structured logs; job data, inputs and secrets are never logged, and redaction catches mistakes. */
export function createLogger(level: string) {
  return pino({
    name: "provisioner-worker",
    level,
    redact: {
      paths: [
        "input",
        "*.input",
        "data",
        "*.data",
        "password",
        "*.password",
        "token",
        "*.token",
        "secrets",
        "*.secrets",
      ],
      censor: "[redacted]",
    },
  });
}
