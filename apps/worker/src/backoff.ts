import type { ProviderSettings } from "@provisioner/queue";

/**
 * Exponential backoff with full jitter: a uniformly random delay between 0 and
 * min(cap, base * 2^(attempt-1)). Spreading retries over the whole window keeps a
 * recovering provider from being hit by every job at the same instant.
 */
export function fullJitterDelay(
  settings: ProviderSettings["backoff"],
  attemptsMade: number,
  random: () => number = Math.random,
): number {
  const ceiling = Math.min(settings.capMs, settings.baseMs * 2 ** Math.max(0, attemptsMade - 1));
  return Math.round(random() * ceiling);
}
