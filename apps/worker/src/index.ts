// The worker as a library, for tests and for embedding; `main.ts` is the process. A job's
// path: runner.ts (BullMQ's terms) runs jobs/create-database/handler.ts (the job's work).
export { fullJitterDelay } from "./backoff.ts";
export { createLogger } from "./logger.ts";
export { portOf, serveMetrics } from "./metrics-server.ts";
export { createRunner, type RunnerDeps } from "./runner.ts";
export { type RunningWorkers, type StartWorkersOptions, startWorkers, type WorkerTuning } from "./workers.ts";
