import { type ProviderName, providerNames } from "@provisioner/provider-client";
import { z } from "zod";
import type { QueueSet } from "./queues.ts";
import type { RedisCall } from "./redis.ts";

/** How a job's life ended, as `provisioner_jobs_finished_total` labels it. */
export const finishOutcomes = ["created", "deduplicated", "dead"] as const;
export type FinishOutcome = (typeof finishOutcomes)[number];

export interface FinishedCount {
  provider: ProviderName;
  account: string;
  outcome: FinishOutcome;
  count: number;
}

/**
 * Every worker's finished jobs, for the whole deployment: one hash per account queue, one
 * field per outcome, named with the queue's hash tag so the worker counts a job's end in the
 * same pipeline as its status (job-status.ts). A scrape reads one HGETALL per account,
 * whatever the number of jobs.
 */
export const finishedCountsKeyOf = (queues: QueueSet, queueName: string) =>
  `${queues.config.prefix}:jobs-finished:${queueName}`;

/**
 * The one deployment-wide hash (a field per provider, account and outcome) that versions
 * before the per-queue counts wrote. Still read and added in, so no counter goes back when
 * a deployment upgrades; nothing writes it any more.
 */
export const legacyFinishedCountsKey = (prefix: string) => `{${prefix}:metrics}:jobs-finished`;

/** Counts one job's terminal transition in its queue: a call to send with the job's status write. */
export const finishedCountCall = (queues: QueueSet, queueName: string, outcome: FinishOutcome): RedisCall => ({
  command: "hincrby",
  args: [finishedCountsKeyOf(queues, queueName), outcome, 1],
});

const legacyFieldSchema = z.tuple([z.enum(providerNames), z.string(), z.enum(finishOutcomes)]);
const outcomeSchema = z.enum(finishOutcomes);

/** The deployment's counts; a field this version cannot read (a future outcome) is skipped. */
export async function readFinishedCounts(queues: QueueSet): Promise<FinishedCount[]> {
  const { connection } = queues;
  const [legacy, ...perQueue] = await Promise.all([
    connection.hgetall(legacyFinishedCountsKey(queues.config.prefix)),
    ...queues.accounts.map(({ queue }) => connection.hgetall(finishedCountsKeyOf(queues, queue.name))),
  ]);
  const totals = new Map<string, FinishedCount>();
  const add = (provider: ProviderName, account: string, outcome: FinishOutcome, count: number) => {
    const key = JSON.stringify([provider, account, outcome]);
    const total = totals.get(key) ?? { provider, account, outcome, count: 0 };
    total.count += count;
    totals.set(key, total);
  };
  for (const [field, value] of Object.entries(legacy ?? {})) {
    let labels: unknown;
    try {
      labels = JSON.parse(field);
    } catch {
      continue;
    }
    const parsed = legacyFieldSchema.safeParse(labels);
    if (parsed.success) add(...parsed.data, Number(value));
  }
  queues.accounts.forEach(({ provider, account }, i) => {
    for (const [field, value] of Object.entries(perQueue[i] ?? {})) {
      const outcome = outcomeSchema.safeParse(field);
      if (outcome.success) add(provider, account, outcome.data, Number(value));
    }
  });
  return [...totals.values()];
}
