// The HTTP API's request and response shapes, each declared once in plain zod (names,
// descriptions and examples in `.meta()`, which the OpenAPI generator reads). The API builds
// its routes and /openapi.json from these; the CLI and the chaos harness parse answers with
// them. Everything not exported here is internal.
export {
  type AttemptError,
  attemptErrorSchema,
  type FailureKind,
  failureKindSchema,
  failureKinds,
} from "./attempts.ts";
export {
  type BatchView,
  type BulkResponse,
  batchQuerySchema,
  batchViewSchema,
  bulkRequestSchema,
  bulkResponseSchema,
  maxBulkJobs,
} from "./batches.ts";
export {
  type CallbackDeliveryList,
  type CallbackDeliveryView,
  type CallbackRetried,
  callbackDeliveryListSchema,
  callbackDeliveryViewSchema,
  callbackRetriedSchema,
  type ListCallbackDeliveriesQuery,
  listCallbackDeliveriesQuerySchema,
} from "./callback-deliveries.ts";
export {
  type DeadLetterList,
  type DeadLetterView,
  deadLetterListSchema,
  deadLetterViewSchema,
  type ListDeadLettersQuery,
  listDeadLettersQuerySchema,
  type Replayed,
  type ReplayedMany,
  type ReplayFilter,
  replayedManySchema,
  replayedSchema,
  replayManySchema,
  replayOneSchema,
} from "./dead-letters.ts";
export {
  type ErrorCode,
  type ErrorDetail,
  type ErrorEnvelope,
  errorCodeSchema,
  errorCodes,
  errorDetailSchema,
  errorEnvelopeSchema,
} from "./errors.ts";
export { type EventAccepted, eventAcceptedSchema, eventSchema, type ProvisionerEvent } from "./events.ts";
export { okSchema } from "./health.ts";
export {
  idempotencyKeySchema,
  type JobList,
  type JobRequest,
  type JobRequestBody,
  type JobSecrets,
  type JobStatus,
  type JobView,
  jobListSchema,
  jobRequestSchema,
  jobSecretsSchema,
  jobStatuses,
  jobStatusSchema,
  jobViewSchema,
  type Lane,
  type ListJobsQuery,
  laneSchema,
  lanes,
  listJobsQuerySchema,
  maxMetadataKeys,
  providerSchema,
  type Submitted,
  submittedSchema,
} from "./jobs.ts";
