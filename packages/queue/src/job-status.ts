import type { JobStatus } from "@provisioner/api-contract";
import type { Queue } from "bullmq";
import { batchStatusKeyCount, batchStatusLua, jobBatchStatusCall, setStatusArgs, settleAfter } from "./batches.ts";
import { type FinishOutcome, finishedCountCall } from "./finished-counts.ts";
import { type JobResult, readJobData } from "./job-data.ts";
import { indexMemberOf, placeMemberLua, placeMembersCall } from "./job-index.ts";
import { advanceLaneLua, laneClockCall, laneClockParts, laneKeyCount } from "./lanes.ts";
import type { QueueSet } from "./queues.ts";
import { luaCommand, type RedisCall, sendTogether } from "./redis.ts";

/** A job as BullMQ's worker and its events hand it over (its data is validated here). */
type EventJob = { id?: string | undefined; queueName: string; data: unknown };

// A batch's job starting, in one script call (a call's own cost in Redis is about that of its
// writes): its status in its batches (batches.ts), then its lane's clock (lanes.ts), which lists
// it as running. KEYS: the batch status script's (the batch's five, then the queue's job
// indexes from KEYS[6]), then the lane's. ARGV: the status script's six and one job's four,
// then the lane's three.
const batchStartArgCount = 10;
const startInBatchScript = `${placeMemberLua}${batchStatusLua}${advanceLaneLua}
local reply = recordStatuses(${batchStartArgCount})
advanceLane(
  {${Array.from({ length: laneKeyCount }, (_, i) => `KEYS[${batchStatusKeyCount + i + 1}]`).join(", ")}},
  6, ARGV[${batchStartArgCount + 1}], ARGV[${batchStartArgCount + 2}], ARGV[${batchStartArgCount + 3}])
return reply
`;
const startInBatchCommand = luaCommand<unknown>(
  "provisionerStartInBatch",
  startInBatchScript,
  batchStatusKeyCount + laneKeyCount,
);

/**
 * Records a job's start, as the worker's processor begins it, in one script call: its account's
 * lane clock moves (lanes.ts), the job is listed as `running`, and a batch's job is counted
 * running in its batches (batches.ts).
 */
export async function recordJobStart(
  queues: QueueSet,
  queue: Queue,
  job: EventJob & { priority: number },
): Promise<void> {
  const { data } = readJobData(job);
  const id = job.id as string;
  const started = { id, submittedAt: data.submittedAt };
  if (data.batchId === undefined) {
    await sendTogether(queues.connection, [laneClockCall(queues, queue, job.priority, { started })]);
    return;
  }
  const status = setStatusArgs(queues, job.queueName, data.batchId, [{ id, status: "running" }], true);
  const lane = laneClockParts(queues, queue, job.priority, { started });
  const reply = await startInBatchCommand.run(
    queues.connection,
    ...status.slice(0, batchStatusKeyCount),
    ...lane.keys,
    ...status.slice(batchStatusKeyCount),
    ...lane.args,
  );
  await settleAfter(queues, job.queueName, data.batchId, reply);
}

/**
 * Records a job's new status where listings and batches read it, as the worker's events
 * report it, in one write: its member moves to the status's index (job-index.ts), a batch's
 * job has its batch counts moved in the same script call, and a job's end (`finished`) is
 * counted for /metrics (finished-counts.ts). `listed: false` leaves the indexes alone, for a
 * move listed elsewhere. A success's `outcome` is counted in the job's batch (batches.ts).
 */
export async function recordJobStatus(
  queues: QueueSet,
  job: EventJob,
  status: JobStatus,
  {
    listed = true,
    outcome,
    finished,
  }: { listed?: boolean; outcome?: JobResult["outcome"] | undefined; finished?: FinishOutcome | undefined } = {},
): Promise<void> {
  const { data } = readJobData(job);
  const id = job.id as string;
  const member = listed ? indexMemberOf(data.submittedAt, id) : undefined;
  const calls: RedisCall[] = [];
  if (data.batchId !== undefined) {
    calls.push(jobBatchStatusCall(queues, job.queueName, data.batchId, id, status, { member, outcome }));
  } else if (member !== undefined) {
    calls.push(placeMembersCall(queues, job.queueName, [{ member, status }]));
  }
  if (finished !== undefined) calls.push(finishedCountCall(queues, job.queueName, finished));
  if (calls.length === 0) return;
  const [reply] = await sendTogether(queues.connection, calls);
  if (data.batchId !== undefined) await settleAfter(queues, job.queueName, data.batchId, reply);
}
