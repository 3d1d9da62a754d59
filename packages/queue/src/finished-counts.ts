import { type ProviderName, providerNames } from "@provisioner/provider-client";
import { z } from "zod";
import type { RedisConnection } from "./redis.ts";

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
 * Every worker's finished jobs, for the whole deployment: one hash, one field per
 * (provider, account, outcome), so a scrape reads it in one HGETALL whatever the number
 * of jobs. The key is hash-tagged, so on Redis Cluster anything updated with it stays in
 * one slot.
 */
export const finishedCountsKey = (prefix: string) => `{${prefix}:metrics}:jobs-finished`;

const fieldSchema = z.tuple([z.enum(providerNames), z.string(), z.enum(finishOutcomes)]);

/** Counts one job's terminal transition. */
export async function countFinishedJob(
  connection: RedisConnection,
  prefix: string,
  finished: Omit<FinishedCount, "count">,
): Promise<void> {
  await connection.hincrby(
    finishedCountsKey(prefix),
    JSON.stringify([finished.provider, finished.account, finished.outcome]),
    1,
  );
}

/** The deployment's counts; a field this version cannot read (a future outcome) is skipped. */
export async function readFinishedCounts(connection: RedisConnection, prefix: string): Promise<FinishedCount[]> {
  const fields = await connection.hgetall(finishedCountsKey(prefix));
  const counts: FinishedCount[] = [];
  for (const [field, value] of Object.entries(fields)) {
    let labels: unknown;
    try {
      labels = JSON.parse(field);
    } catch {
      continue;
    }
    const parsed = fieldSchema.safeParse(labels);
    if (!parsed.success) continue;
    const [provider, account, outcome] = parsed.data;
    counts.push({ provider, account, outcome, count: Number(value) });
  }
  return counts;
}
