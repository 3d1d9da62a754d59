// Where the run stands, from the API's batch counts: a line every few seconds, and the wait
// for every accepted job to end.
import type { ApiClient, BatchCounts } from "./api-client.ts";
import { seconds, sleep } from "./time.ts";

export interface Totals {
  accepted: number;
  succeeded: number;
  dead: number;
  /** Queued, running or retrying. */
  open: number;
  /** Gone from Redis before its retention: lost. */
  expired: number;
}

export async function totalsOf(client: ApiClient, batchIds: readonly string[]): Promise<Totals> {
  const totals: Totals = { accepted: 0, succeeded: 0, dead: 0, open: 0, expired: 0 };
  const all: BatchCounts[] = await Promise.all(batchIds.map((id) => client.getBatch(id)));
  for (const counts of all) {
    totals.succeeded += counts.succeeded;
    totals.dead += counts.dead;
    totals.open += counts.queued + counts.running + counts.retrying;
    totals.expired += counts.expired;
  }
  totals.accepted = totals.succeeded + totals.dead + totals.open + totals.expired;
  return totals;
}

export interface ProgressDeps {
  client: ApiClient;
  /** Grows while bulks are accepted. */
  batchIds: readonly string[];
  planned: number;
  startedAt: number;
  everyMs: number;
  /** What else to say: the fault phase, live workers. */
  describe: () => string;
  log: (line: string) => void;
  signal: AbortSignal;
}

/** Prints a line every `everyMs` until stopped. A failed poll (Redis restarting) is said, not fatal. */
export function reportProgress(deps: ProgressDeps): { stop(): Promise<void> } {
  const stop = new AbortController();
  const signal = AbortSignal.any([deps.signal, stop.signal]);
  const loop = (async () => {
    while (!signal.aborted) {
      await sleep(deps.everyMs, signal).catch(() => {});
      if (signal.aborted) break;
      const at = `[${seconds(performance.now() - deps.startedAt)}]`;
      try {
        const t = await totalsOf(deps.client, deps.batchIds);
        deps.log(
          `${at} accepted ${t.accepted}/${deps.planned} · succeeded ${t.succeeded} · dead ${t.dead} · open ${t.open}` +
            `${t.expired > 0 ? ` · EXPIRED ${t.expired}` : ""} · ${deps.describe()}`,
        );
      } catch (error) {
        if (!signal.aborted) deps.log(`${at} (no counts: ${(error as Error).message}) · ${deps.describe()}`);
      }
    }
  })();
  return {
    async stop() {
      stop.abort();
      await loop;
    },
  };
}

/** Resolves true once no accepted job is open any more, false when `deadline` (a `performance.now()`) passes. */
export async function waitUntilSettled(
  client: ApiClient,
  batchIds: readonly string[],
  deadline: number,
  signal: AbortSignal,
): Promise<boolean> {
  for (;;) {
    const totals = await totalsOf(client, batchIds).catch(() => undefined);
    if (totals !== undefined && totals.open === 0) return true;
    if (performance.now() > deadline) return false;
    await sleep(500, signal);
  }
}
