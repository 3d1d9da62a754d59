import type { JobStatus } from "@provisioner/api-contract";
import { setJobBatchStatus } from "./batches.ts";
import { type JobResult, readJobData } from "./job-data.ts";
import { indexMemberOf, placeMembers } from "./job-index.ts";
import type { QueueSet } from "./queues.ts";

/**
 * Records a job's new status where listings and batches read it, as the worker's events
 * report it: its member moves to the status's index (job-index.ts), and a batch's job has its
 * batch counts moved in the same script call, so each event costs one script call either way.
 * `job` is BullMQ's job as an event hands it over (its data is validated here). `listed:
 * false` leaves the indexes alone, for a move already listed elsewhere (a job's start is,
 * by the runner's lane-clock script: lanes.ts), so only a batch's job costs a call then.
 * A success's `outcome` is counted in the job's batch (batches.ts).
 */
export async function recordJobStatus(
  queues: QueueSet,
  job: { id?: string | undefined; queueName: string; data: unknown },
  status: JobStatus,
  { listed = true, outcome }: { listed?: boolean; outcome?: JobResult["outcome"] | undefined } = {},
): Promise<void> {
  const { data } = readJobData(job);
  const id = job.id as string;
  const member = listed ? indexMemberOf(data.submittedAt, id) : undefined;
  if (data.batchId !== undefined) {
    await setJobBatchStatus(queues, job.queueName, data.batchId, id, status, { member, outcome });
  } else if (member !== undefined) await placeMembers(queues, job.queueName, [{ member, status }]);
}
