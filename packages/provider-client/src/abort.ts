/**
 * Makes `controller` abort when `signal` does (with its reason); answers the function that
 * undoes the link, to call once the work the controller guards has ended. What
 * `AbortSignal.any([signal, controller.signal])` gives, without its cost: `any` keeps weak
 * references and a finalization registry per composite signal, and at a job's pace (a lock
 * and a deadline each, a job a millisecond) that cost more than the HTTP call it guarded.
 */
export function abortWhen(signal: AbortSignal | undefined, controller: AbortController): () => void {
  if (signal === undefined) return unlinked;
  if (signal.aborted) {
    controller.abort(signal.reason);
    return unlinked;
  }
  const follow = () => controller.abort(signal.reason);
  signal.addEventListener("abort", follow, { once: true });
  return () => signal.removeEventListener("abort", follow);
}

const unlinked = () => {};
