/*
 * The worker's Prometheus metrics, served at `/metrics` on METRICS_PORT (metrics-server.ts):
 *
 *   provisioner_jobs_finished_total{provider, account, outcome}   created | deduplicated | dead
 *   provisioner_job_attempts_total{provider, kind}                 failed attempts, by error kind
 *   provisioner_provider_request_duration_seconds{provider, operation}   create | find | mint_credentials
 *   provisioner_rate_limit_pauses_total{provider, account}         429s that paused a queue
 *   provisioner_callback_deliveries_total{outcome}                 delivered | retrying | failed
 *   provisioner_process_*, provisioner_nodejs_*                    prom-client's process metrics
 *
 * This process's own counts. Labels are provider names, configured account names and
 * fixed enums: never an id, a database name or an input.
 */
import type { ProviderCallObserver } from "@provisioner/provider-client";
import { Counter, collectDefaultMetrics, Histogram, Registry } from "prom-client";

const prefix = "provisioner_";

/** Process metrics describe the process: one registry for them, whatever the number of worker sets. */
let processRegistry: Registry | undefined;
function processMetrics(): Registry {
  if (!processRegistry) {
    processRegistry = new Registry();
    collectDefaultMetrics({ register: processRegistry, prefix });
  }
  return processRegistry;
}

export type WorkerMetrics = ReturnType<typeof createWorkerMetrics>;

/** A private registry per set of workers, so tests can run several in one process. */
export function createWorkerMetrics() {
  const own = new Registry();
  const registers = [own];
  const jobsFinished = new Counter({
    name: `${prefix}jobs_finished_total`,
    help: "Jobs that ended in this process, by provider, account and outcome (created, deduplicated, dead).",
    labelNames: ["provider", "account", "outcome"] as const,
    registers,
  });
  const jobAttempts = new Counter({
    name: `${prefix}job_attempts_total`,
    help: "Failed attempts of create-database jobs, by provider and error kind.",
    labelNames: ["provider", "kind"] as const,
    registers,
  });
  const providerRequests = new Histogram({
    name: `${prefix}provider_request_duration_seconds`,
    help: "Time of each call to a provider, by provider and operation (create, find, mint_credentials).",
    labelNames: ["provider", "operation"] as const,
    buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 15, 30],
    registers,
  });
  const rateLimitPauses = new Counter({
    name: `${prefix}rate_limit_pauses_total`,
    help: "Times a provider's 429 paused its queue, by provider and account.",
    labelNames: ["provider", "account"] as const,
    registers,
  });
  const callbackDeliveries = new Counter({
    name: `${prefix}callback_deliveries_total`,
    help: "Callback delivery tries, by outcome (delivered, retrying, failed: out of tries or refused).",
    labelNames: ["outcome"] as const,
    registers,
  });
  const observeCall: ProviderCallObserver = ({ provider, operation, seconds }) =>
    providerRequests.observe({ provider, operation }, seconds);
  return {
    registry: Registry.merge([processMetrics(), own]),
    jobsFinished,
    jobAttempts,
    rateLimitPauses,
    callbackDeliveries,
    observeCall,
  };
}
