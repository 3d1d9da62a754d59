import { setTimeout as delay } from "node:timers/promises";

/** Waits `ms`; rejects with the signal's reason when it is aborted first. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return delay(Math.max(0, ms), undefined, signal === undefined ? {} : { signal });
}

/** Waits until `performance.now()` reaches `at`. */
export function sleepUntil(at: number, signal?: AbortSignal): Promise<void> {
  return sleep(at - performance.now(), signal);
}

/** `12.3s` */
export const seconds = (ms: number) => `${(ms / 1_000).toFixed(1)}s`;
