// The job's shape lives with the queue package, which the API shares; this file names it for the worker.
export {
  type JobData,
  type JobProgress,
  type JobResult,
  jobDataSchema,
  jobProgressSchema,
} from "@provisioner/queue";

/** How often a database that the provider is still provisioning is asked about again. */
export const provisioningPollMs = 1_000;
