// The create-database job: its name, data schema and options. They live in packages/queue
// because the API enqueues with them and must not import the worker; this file is the one
// place the worker reads them from.
export {
  createDatabaseJob as jobName,
  type JobData,
  type JobProgress,
  type JobResult,
  type JobReturnValue,
  jobDataSchema,
  jobOptionsFor,
  jobProgressSchema,
  outcomeOfResult,
  readJobData,
  storedJobResult,
} from "@provisioner/queue";

/** How often a database that the provider is still provisioning is asked about again. */
export const provisioningPollMs = 1_000;
