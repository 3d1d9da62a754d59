// What the API and the worker share. Everything not exported here is internal.

export { type BatchView, getBatch, recordBatch } from "./batches.ts";
export { callbackUrlProblem, isPrivateAddress } from "./callback-address.ts";
export {
  type CallbackEvent,
  type CallbackJob,
  callbackEventSchema,
  callbackJobSchema,
  callbackQueueName,
  type JobEnding,
} from "./callback-job.ts";
export { queueCallback } from "./callbacks.ts";
export { ConfigError, loadConfig, type ProviderSettings, type ProvisionerConfig } from "./config.ts";
export {
  type DeadLetterFilter,
  type DeadLetterView,
  discardDeadLetter,
  getDeadLetter,
  isDeadLettered,
  listDeadLetters,
  NotDeadError,
  pruneDeadLetters,
  recordDeadLetter,
  replayDeadLetter,
  replayDeadLetters,
} from "./dead-letters.ts";
export { type SubmitOutcome, type SubmitRequest, submitJobs } from "./enqueue.ts";
export * from "./job-data.ts";
export {
  backoffType,
  createDatabaseJob,
  deadLetterQueueName,
  jobIdFor,
  jobOptionsFor,
  openQueues,
  providerOfJobId,
  type QueueSet,
} from "./queues.ts";
export {
  createRedisConnection,
  deleteKeysWithPrefix,
  evictionPolicy,
  isRedisUnavailable,
  redisAnswers,
  watchRedis,
} from "./redis.ts";
export {
  decryptFields,
  decryptValue,
  encryptFields,
  encryptValue,
  type Keyring,
  parseKeyring,
  redactFields,
} from "./secrets.ts";
export {
  attemptErrorsOf,
  getJobSecrets,
  getJobView,
  InvalidCursorError,
  type JobStatus,
  type JobView,
  jobStatuses,
  type ListJobsQuery,
  listJobs,
  statusOfState,
} from "./status.ts";
export { eventSchema, type ProvisionerEvent, renderTemplate, requestsForEvent, TemplateError } from "./triggers.ts";
