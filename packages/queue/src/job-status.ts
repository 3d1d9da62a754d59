import type { JobStatus } from "@provisioner/api-contract";
import type { Queue } from "bullmq";
import { jobBatchStatusCall, settleAfter } from "./batches.ts";
import { type FinishOutcome, finishedCountCall } from "./finished-counts.ts";
import { type JobResult, readJobData } from "./job-data.ts";
import { indexMemberOf, placeMembersCall } from "./job-index.ts";
import { laneClockCall } from "./lanes.ts";
import type { QueueSet } from "./queues.ts";
import { type RedisCall, sendTogether } from "./redis.ts";

/** A job as BullMQ's worker and its events hand it over (its data is validated here). */
type EventJob = { id?: string | undefined; queueName: string; data: unknown };

/**
 * Records a job's start, as the worker's processor begins it, in one write: its account's lane
 * clock moves (lanes.ts), the job is listed as `running` (in the same script) and a batch's job
 * is counted running in its batches (batches.ts).
 */
export async function recordJobStart(
  queues: QueueSet,
  queue: Queue,
  job: EventJob & { priority: number },
): Promise<void> {
  const { data } = readJobData(job);
  const id = job.id as string;
  const clock = laneClockCall(queues, queue, job.priority, { started: { id, submittedAt: data.submittedAt } });
  if (data.batchId === undefined) {
    await sendTogether(queues.connection, [clock]);
    return;
  }
  const batch = jobBatchStatusCall(queues, job.queueName, data.batchId, id, "running");
  const [, reply] = await sendTogether(queues.connection, [clock, batch]);
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
