// What the API and the worker share: the account queues and their job (its data read
// through `readJobData` only), enqueue, the job view, and the dead letters, which are the
// queues' failed jobs (failed-jobs.ts). Everything not exported here is internal.
// The shapes the API answers with (views, statuses, attempt errors) are the contract's,
// re-exported so the worker and the API read them from one place with the operations.
export {
  type AttemptError,
  attemptErrorSchema,
  type BatchView,
  type DeadLetterView,
  type JobStatus,
  type JobView,
  jobStatuses,
  type Lane,
} from "@provisioner/api-contract";
export {
  type BatchStatus,
  batchCallbackId,
  getBatch,
  reconcileBatches,
  recordBatch,
  recountBatch,
  setBatchStatuses,
  setJobBatchStatus,
} from "./batches.ts";
export { callbackUrlProblem, isPrivateAddress } from "./callback-address.ts";
export {
  getCallbackDelivery,
  listFailedCallbackDeliveries,
  NotFailedError,
  retryCallbackDelivery,
  shownUrl,
} from "./callback-deliveries.ts";
export {
  type BatchEvent,
  batchEventSchema,
  type CallbackEvent,
  type CallbackJob,
  callbackEventSchema,
  callbackJobSchema,
  callbackQueueName,
  type JobEnding,
} from "./callback-job.ts";
export { queueCallback } from "./callbacks.ts";
export {
  ConfigError,
  loadConfig,
  type ProviderSettings,
  type ProviderSettingsOverride,
  type ProvisionerConfig,
  settingsOf,
} from "./config.ts";
export { indexDeath } from "./dead-index.ts";
export { type SubmitOutcome, type SubmitRequest, submitJob, submitJobs, type UnvalidatedRequest } from "./enqueue.ts";
export {
  type DeadLetterFilter,
  deadLetterCounts,
  discardDeadLetter,
  getDeadLetter,
  listDeadLetters,
  NotDeadError,
  pruneDeadLetters,
  replayDeadLetter,
  replayDeadLetters,
} from "./failed-jobs.ts";
export {
  type FinishedCount,
  type FinishOutcome,
  finishOutcomes,
  readFinishedCounts,
} from "./finished-counts.ts";
export * from "./job-data.ts";
export { indexJobs } from "./job-index.ts";
export {
  type JobReturnValue,
  outcomeOfResult,
  readJobResult,
  storedJobResult,
} from "./job-result.ts";
export { recordJobStart, recordJobStatus } from "./job-status.ts";
export { advanceLaneClock } from "./lanes.ts";
export {
  type AccountQueue,
  backoffType,
  createDatabaseJob,
  finishedJobRetention,
  jobIdFor,
  jobOptionsFor,
  openQueues,
  providerQueues,
  type QueueSet,
  queueNameOf,
} from "./queues.ts";
export {
  createRedisConnection,
  deleteKeysWithPrefix,
  evictionPolicy,
  isRedisUnavailable,
  keyHolders,
  luaCommand,
  type RedisCall,
  type RedisConnection,
  type RedisTarget,
  redisAnswers,
  sendTogether,
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
  adoptUnlistedJobs,
  attemptErrorsOf,
  getJobSecrets,
  getJobView,
  InvalidCursorError,
  type ListJobsQuery,
  listJobs,
  statusOfJob,
  statusOfState,
} from "./status.ts";
export { renderTemplate, requestsForEvent, TemplateError } from "./triggers.ts";
