// BRIDGEPORT's Idempotency-Key: one outcome per (environment, key), replayed for the
// same request, refused for a different one or while the first is still running.
import { canonicalJson } from "@provisioner/json";

/** An answer kept to be replayed byte for byte. */
interface StoredAnswer {
  status: number;
  body: string;
  headers: [string, string][];
}

type Entry = { fingerprint: string; answer: StoredAnswer | null };

export type Admission =
  | { kind: "new" }
  | { kind: "replay"; response: Response }
  | { kind: "reused" }
  | { kind: "in_progress" };

export interface IdempotencyLedger {
  /** Claims the key for this request, unless it is already taken. */
  begin(envId: string, key: string, body: unknown): Admission;
  /**
   * Stores the handler's answer for replay, or frees the key when a fault answered
   * instead (`handled` null) or the server failed, so a retry proceeds.
   */
  finish(envId: string, key: string, handled: Response | null): Promise<void>;
  reset(): void;
}

export function createIdempotencyLedger(): IdempotencyLedger {
  let entries = new Map<string, Entry>();
  const slot = (envId: string, key: string) => `${envId}\u0000${key}`;

  return {
    begin(envId, key, body) {
      const fingerprint = canonicalJson({ envId, body });
      const entry = entries.get(slot(envId, key));
      if (entry === undefined) {
        entries.set(slot(envId, key), { fingerprint, answer: null });
        return { kind: "new" };
      }
      if (entry.fingerprint !== fingerprint) return { kind: "reused" };
      if (entry.answer === null) return { kind: "in_progress" };
      return { kind: "replay", response: replay(entry.answer) };
    },
    async finish(envId, key, handled) {
      const entry = entries.get(slot(envId, key));
      if (entry === undefined) return;
      if (handled === null || handled.status >= 500) {
        entries.delete(slot(envId, key));
        return;
      }
      const copy = handled.clone();
      entry.answer = { status: copy.status, body: await copy.text(), headers: [...copy.headers] };
    },
    reset() {
      entries = new Map();
    },
  };
}

function replay(answer: StoredAnswer): Response {
  const headers = new Headers(answer.headers);
  headers.set("idempotent-replayed", "true");
  return new Response(answer.body === "" ? null : answer.body, { status: answer.status, headers });
}
