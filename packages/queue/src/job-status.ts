import type { JobStatus } from "@provisioner/api-contract";
import { setJobBatchStatus } from "./batches.ts";
import { readJobData } from "./job-data.ts";
import { indexMemberOf, placeMembers } from "./job-index.ts";
import type { QueueSet } from "./queues.ts";

/**
 * Records a job's new status where listings and batches read it, as the worker's events
 * report it: its member moves to the status's index (job-index.ts), and a batch's job has its
 * batch counts moved in the same script call, so each event costs one script call either way.
 * `job` is BullMQ's job as an event hands it over (its data is validated here).
 */
export async function recordJobStatus(
  queues: QueueSet,
  job: { id?: string | undefined; queueName: string; data: unknown },
  status: JobStatus,
): Promise<void> {
  const { data } = readJobData(job);
  const id = job.id as string;
  const member = indexMemberOf(data.submittedAt, id);
  if (data.batchId === undefined) await placeMembers(queues, job.queueName, [{ member, status }]);
  else await setJobBatchStatus(queues, job.queueName, data.batchId, id, status, member);
}
