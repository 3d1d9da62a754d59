import type { JobSecrets, JobStatus, JobView } from "@provisioner/api-contract";
import { type ProviderName, secretInputFields } from "@provisioner/provider-client";
import type { Job, JobState, Queue } from "bullmq";
import { type AttemptError, attemptErrorSchema, type JobData, jobProgressSchema, readJobData } from "./job-data.ts";
import {
  adoptedKeyOf,
  adoptMembers,
  legacyIndexKeyOf,
  type Placement,
  parseIndexMember,
  placeMembers,
  readIndex,
} from "./job-index.ts";
import { type JobReturnValue, readJobResult } from "./job-result.ts";
import type { QueueSet } from "./queues.ts";
import { decryptFields, decryptValue, redactFields } from "./secrets.ts";

/** BullMQ's states in the product's words. A delayed job is waiting out a backoff or a Retry-After. */
const statusByState: Record<JobState, JobStatus> = {
  waiting: "queued",
  "waiting-children": "queued",
  prioritized: "queued",
  active: "running",
  delayed: "retrying",
  completed: "succeeded",
  failed: "dead",
};
export const statusOfState = (state: JobState | "unknown"): JobStatus | undefined =>
  state === "unknown" ? undefined : statusByState[state];

/**
 * A job's status from its state and what its last run recorded: a job held back only
 * because the provider is still provisioning its database is running, not retrying.
 */
export function statusOfJob(
  state: JobState | "unknown",
  job: Pick<Job, "progress" | "attemptsStarted">,
): JobStatus | undefined {
  if (state !== "delayed") return statusOfState(state);
  const progress = jobProgressSchema.safeParse(job.progress);
  const provisioning = progress.success && progress.data.provisioningRun === job.attemptsStarted;
  return provisioning ? "running" : "retrying";
}

export async function getJobView(queues: QueueSet, id: string): Promise<JobView | undefined> {
  const queue = queues.queueOfJobId(id)?.queue;
  const job = await queue?.getJob(id);
  if (!queue || !job) return undefined;
  return toView(queues, queue, job);
}

/** The errors of every failed attempt, oldest first, from the job's log. */
export async function attemptErrorsOf(queue: Queue, id: string): Promise<AttemptError[]> {
  const { logs } = await queue.getJobLogs(id, 0, -1, true);
  return logs.flatMap((line) => {
    try {
      const parsed = attemptErrorSchema.safeParse(JSON.parse(line));
      return parsed.success ? [parsed.data] : [];
    } catch {
      return [];
    }
  });
}

/** `knownState`: the state a caller already read (and filtered on), so the view agrees with it. */
async function toView(
  queues: QueueSet,
  queue: Queue,
  read: Job<JobData, JobReturnValue>,
  knownState?: JobState | "unknown",
): Promise<JobView> {
  let job = read;
  const { data } = readJobData(job);
  const id = job.id as string;
  const [state, errors] = await Promise.all([knownState ?? job.getState(), attemptErrorsOf(queue, id)]);
  // The job may have finished between reading it and reading its state: read it again,
  // so a "succeeded" never comes without its result.
  if ((state === "completed" || state === "failed") && !job.finishedOn) {
    job = (await queue.getJob(id)) ?? job;
  }
  const status = statusOfJob(state, job) ?? "queued";
  // A delayed job, retrying or waiting for the provider, says when it is next taken.
  const nextAttemptAt = state === "delayed" ? await delayedUntil(queues, queue, id) : null;
  return {
    id,
    provider: data.provider,
    account: data.account,
    lane: data.lane,
    status,
    attempts: job.attemptsMade,
    maxAttempts: job.opts.attempts ?? 1,
    nextAttemptAt,
    createdAt: new Date(data.submittedAt).toISOString(),
    finishedAt: job.finishedOn ? new Date(job.finishedOn).toISOString() : null,
    idempotencyKey: data.idempotencyKey,
    batchId: data.batchId ?? null,
    metadata: data.metadata ?? null,
    input: redactFields(data.input, secretInputFields[data.provider]),
    result: status === "succeeded" ? resultView(job.returnvalue) : null,
    errors,
  };
}

function resultView(returnvalue: unknown): JobView["result"] {
  const result = readJobResult(returnvalue);
  return result ? { outcome: result.outcome, resource: result.resource } : null;
}

/** When a delayed job runs next. BullMQ scores the delayed set by `timestamp * 4096 + counter`. */
async function delayedUntil(queues: QueueSet, queue: Queue, id: string): Promise<string | null> {
  const score = await queues.connection.zscore(queue.toKey("delayed"), id);
  return score === null ? null : new Date(Math.floor(Number(score) / 0x1000)).toISOString();
}

export interface ListJobsQuery {
  status?: JobStatus | undefined;
  provider?: ProviderName | undefined;
  cursor?: string | undefined;
  /** Default 50, at most 200. */
  limit?: number | undefined;
}

/**
 * Newest first across providers and accounts, read from the account queues' job indexes,
 * merged (job-index.ts): every status's indexes, or with a `status` filter only that status's
 * (of the `provider`'s accounts when given), so a page costs O(statuses × accounts × (log n +
 * limit)) whatever the queues hold, and with a `status` O(accounts × (log n + limit)) whatever
 * the other statuses hold. The cursor is the index position of the last
 * job returned, so a walk over every page lists each job once however jobs change state
 * meanwhile; a full page always carries a cursor, and the walk ends at the first page
 * without one. A status index can lag behind BullMQ (job-index.ts): each candidate's real
 * status is checked, a job no longer of the status is left out and its member moved to its
 * real status's index, and a member whose job is gone is dropped, so the page is always
 * right and the index converges.
 */
export async function listJobs(
  queues: QueueSet,
  query: ListJobsQuery,
): Promise<{ jobs: JobView[]; nextCursor: string | null }> {
  const limit = Math.min(Math.max(query.limit ?? 50, 1), 200);
  const accounts = queues.accountsOf(query.provider);
  let after = decodeCursor(query.cursor);
  const jobs: JobView[] = [];
  for (;;) {
    const members = await readIndex(queues, accounts, query.status, after, limit);
    const candidates = await Promise.all(members.map((member) => readCandidate(queues, member)));
    const fixes = new Map<string, Placement[]>();
    const fix = (queue: Queue, placement: Placement) =>
      fixes.set(queue.name, [...(fixes.get(queue.name) ?? []), placement]);
    const repair = () =>
      Promise.all([...fixes].map(([queueName, placements]) => placeMembers(queues, queueName, placements)));
    for (const [index, candidate] of candidates.entries()) {
      const member = members[index] as string;
      if ("stale" in candidate) {
        if (candidate.stale) fix(candidate.stale, { member, status: undefined });
        continue;
      }
      const status = statusOfJob(candidate.state, candidate.job);
      if (query.status && status !== query.status) {
        // Moved only while still where this read found it, so an event that landed since wins.
        if (status) fix(candidate.queue, { member, status, from: query.status });
        continue;
      }
      jobs.push(await toView(queues, candidate.queue, candidate.job, candidate.state));
      if (jobs.length === limit) {
        await repair();
        return { jobs, nextCursor: encodeCursor(member) };
      }
    }
    await repair();
    if (members.length < limit) return { jobs, nextCursor: null };
    after = members.at(-1);
  }
}

/**
 * Lists, in its status's index, each job of one queue that only the all-jobs index of earlier
 * versions holds: the jobs retained from before the status indexes (job-index.ts), which no
 * event would move any more. Walks that index oldest first in chunks of `chunk`, reads each
 * job's real status, and drops a member whose job is gone; a member an event placed meanwhile
 * is left alone. Then marks the queue done and deletes the old index, which nothing reads any
 * more. O(jobs) once, and nothing for a queue that never had the old index; `stop()` answering
 * true ends the walk early (shutdown) without marking it, so the next start walks again.
 * Answers how many it listed.
 */
export async function adoptUnlistedJobs(
  queues: QueueSet,
  queue: Queue,
  { chunk = 500, stop = () => false }: { chunk?: number; stop?: () => boolean } = {},
): Promise<number> {
  const doneKey = adoptedKeyOf(queues, queue.name);
  const legacyKey = legacyIndexKeyOf(queues, queue.name);
  // An API of the previous version, still running during an upgrade, may have written it again.
  if (await queues.connection.exists(doneKey)) return queues.connection.del(legacyKey).then(() => 0);
  let adopted = 0;
  let min = "-";
  for (;;) {
    if (stop()) return adopted;
    const members = await queues.connection.zrangebylex(legacyKey, min, "+", "LIMIT", 0, chunk);
    const candidates = await Promise.all(members.map((member) => readCandidate(queues, member)));
    const listed: Placement[] = [];
    const gone: Placement[] = [];
    for (const [index, candidate] of candidates.entries()) {
      const member = members[index] as string;
      if (!("stale" in candidate)) listed.push({ member, status: statusOfJob(candidate.state, candidate.job) });
      else if (candidate.stale) gone.push({ member, status: undefined });
    }
    const [placed] = await Promise.all([
      adoptMembers(queues, queue.name, listed),
      placeMembers(queues, queue.name, gone),
    ]);
    adopted += placed;
    if (members.length < chunk) break;
    min = `(${members.at(-1)}`;
  }
  // One slot (the queue's hash tag), so one MULTI.
  await queues.connection.multi().set(doneKey, "1").del(legacyKey).exec();
  return adopted;
}

type Candidate =
  | { job: Job<JobData, JobReturnValue>; state: JobState | "unknown"; queue: Queue }
  /** The member names no life of a job that still exists: `false` for a member that is not ours. */
  | { stale: Queue | false };

async function readCandidate(queues: QueueSet, member: string): Promise<Candidate> {
  const parsed = parseIndexMember(member);
  const queue = parsed && queues.queueOfJobId(parsed.id)?.queue;
  if (!parsed || !queue) return { stale: false };
  const job = (await queue.getJob(parsed.id)) as Job<JobData, JobReturnValue> | undefined;
  if (!job) return { stale: queue };
  const { data, valid } = readJobData(job);
  // A member of an earlier life of a replayed job (should a replay have stopped half-way).
  if (valid && data.submittedAt !== parsed.submittedAt) return { stale: queue };
  const state = await job.getState();
  return state === "unknown" ? { stale: queue } : { job, state, queue };
}

const encodeCursor = (after: string) => Buffer.from(JSON.stringify({ after })).toString("base64url");
function decodeCursor(cursor: string | undefined): string | undefined {
  if (!cursor) return undefined;
  try {
    const { after } = JSON.parse(Buffer.from(cursor, "base64url").toString("utf8")) as { after: unknown };
    if (typeof after === "string" && parseIndexMember(after)) return after;
  } catch {}
  throw new InvalidCursorError();
}

export class InvalidCursorError extends Error {
  override name = "InvalidCursorError";
  constructor() {
    super("cursor is not one this API returned");
  }
}

/** The job's secret input fields and result secrets, decrypted: for `secrets:read` only. */
export async function getJobSecrets(queues: QueueSet, id: string): Promise<JobSecrets | undefined> {
  const owner = queues.queueOfJobId(id);
  if (!owner) return undefined;
  const job = (await owner.queue.getJob(id)) as Job<JobData, JobReturnValue> | undefined;
  if (!job) return undefined;
  const fields = secretInputFields[owner.provider];
  const decrypted = decryptFields(queues.keyring, readJobData(job).data.input, fields);
  const input: Record<string, unknown> = {};
  for (const path of fields) {
    const value = path.reduce<unknown>((node, key) => (node as Record<string, unknown> | undefined)?.[key], decrypted);
    if (value !== undefined) input[path.join(".")] = value;
  }
  const sealed = readJobResult(job.returnvalue)?.secrets;
  const result = sealed ? (decryptValue(queues.keyring, sealed) as Record<string, string>) : {};
  return { input, result };
}
