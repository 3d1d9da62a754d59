import { providerNames } from "@provisioner/provider-client";
import { z } from "zod";

const ms = z.coerce.number().int().min(1);

/** The worker process's own settings; provider settings come from `loadConfig`. */
export const workerEnvSchema = z.object({
  LOG_LEVEL: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).default("info"),
  /** How long SIGTERM waits for running jobs before it hands them back. */
  WORKER_SHUTDOWN_GRACE_MS: ms.default(30_000),
  WORKER_LOCK_DURATION_MS: ms.default(30_000),
  WORKER_STALLED_INTERVAL_MS: ms.default(30_000),
  /** How often open batches' counts are reconciled with their jobs' states. */
  WORKER_BATCH_RECONCILE_MS: ms.default(10_000),
  /** How long a killed worker's identity lock holds up other jobs for that database. */
  WORKER_IDENTITY_LEASE_MS: z.coerce.number().int().min(30).default(15_000),
  /** Comma-separated providers this process serves; default all that have an account. */
  WORKER_PROVIDERS: z
    .string()
    .transform((value) =>
      value
        .split(",")
        .map((p) => p.trim())
        .filter(Boolean),
    )
    .pipe(z.array(z.enum(providerNames)))
    .optional(),
  /** `whsec_<base64>`: signs job-end callbacks with Standard Webhooks headers. */
  CALLBACK_SIGNING_SECRET: z.preprocess(
    // docker compose passes an unset variable as an empty string: that means "not set".
    (value) => (value === "" ? undefined : value),
    z
      .string()
      .regex(/^whsec_[A-Za-z0-9+/=]+$/, "must be whsec_<base64>")
      .optional(),
  ),
  /** Serves `/metrics` on this port when set (0 picks a free one); off when unset. */
  METRICS_PORT: z.preprocess(
    (value) => (value === "" ? undefined : value),
    z.coerce.number().int().min(0).max(65_535).optional(),
  ),
  /** Where `/metrics` listens. */
  METRICS_HOST: z.string().min(1).default("127.0.0.1"),
  /** How often old dead letters are pruned. */
  DEAD_LETTER_PRUNE_INTERVAL_MS: ms.default(600_000),
});
export type WorkerEnv = z.output<typeof workerEnvSchema>;
