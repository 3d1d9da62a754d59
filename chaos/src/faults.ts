// The sandbox's fault rules over the run, and the loop that puts them in force.
import type { FaultRule } from "@provisioner/sandbox";
import type { Timeline } from "./options.ts";
import { sleepUntil } from "./time.ts";

/** Databases whose name starts with this are answered 400 at every provider: designed to fail. */
export const DOOMED_PREFIX = "doomed-";

// First in every rule set: a rule decides a request when it is the first to fire, so no
// other fault (a lost response, say) can create a database that was designed to fail.
const designedFailure: FaultRule = {
  provider: "*",
  fault: "error",
  status: 400,
  namePrefix: DOOMED_PREFIX,
};

// Rates apply in order, each to what the rules before it let through.
const background: FaultRule[] = [
  { provider: "*", operation: "*", fault: "latency", latencyMs: 40, rate: 0.1 },
  { provider: "*", fault: "error", status: 500, rate: 0.04 },
  { provider: "*", fault: "error", status: 502, rate: 0.03 },
  { provider: "*", fault: "error", status: 503, rate: 0.03 },
  { provider: "*", fault: "rate_limit", retryAfter: "1", rate: 0.05 },
  { provider: "*", fault: "drop", rate: 0.03 },
  // Created, then the connection closes: the retry must find it, not create it again.
  { provider: "*", fault: "lost_response", rate: 0.03 },
  // The look-ups a retry makes fail too, now and then.
  { provider: "*", operation: "find", fault: "error", status: 503, rate: 0.03 },
  { provider: "*", operation: "find", fault: "drop", rate: 0.02 },
];

// No Retry-After: the outage spends attempts, so the run's attempt budget must cover it.
const bridgeportDown: FaultRule = { provider: "bridgeport", operation: "*", fault: "error", status: 503 };
const prismaHangs: FaultRule = { provider: "prisma", fault: "hang" };

export interface FaultPhase {
  atMs: number;
  label: string;
  rules: FaultRule[];
}

/** What is in force when; the last phase (designed failures only) starts when the rough part ends. */
export function faultPhases(timeline: Timeline): FaultPhase[] {
  const { prismaHang, bridgeportOutage } = timeline;
  const phases: FaultPhase[] = [
    { atMs: 0, label: "background faults", rules: [designedFailure, ...background] },
    { atMs: prismaHang.fromMs, label: "prisma hangs", rules: [designedFailure, prismaHangs, ...background] },
    { atMs: prismaHang.toMs, label: "background faults", rules: [designedFailure, ...background] },
    {
      atMs: bridgeportOutage.fromMs,
      label: "bridgeport down",
      rules: [designedFailure, bridgeportDown, ...background],
    },
    { atMs: bridgeportOutage.toMs, label: "background faults", rules: [designedFailure, ...background] },
    { atMs: timeline.chaosMs, label: "calm (designed failures only)", rules: [designedFailure] },
  ];
  return phases.sort((a, b) => a.atMs - b.atMs);
}

export interface FaultLoop {
  /** The label of the phase in force. */
  current(): string;
  /** Resolves once the last phase is in force. */
  done: Promise<void>;
}

/** Posts each phase's rules to the sandbox at its time (`startedAt` is a `performance.now()`). */
export function runFaultPhases(
  sandboxUrl: string,
  phases: readonly FaultPhase[],
  startedAt: number,
  signal: AbortSignal,
): FaultLoop {
  let label = "none";
  const done = (async () => {
    for (const phase of phases) {
      await sleepUntil(startedAt + phase.atMs, signal);
      await setFaults(sandboxUrl, phase.rules);
      label = phase.label;
    }
  })();
  return { current: () => label, done };
}

export async function setFaults(sandboxUrl: string, rules: readonly FaultRule[]): Promise<void> {
  const response = await fetch(`${sandboxUrl}/__sandbox/faults`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ rules }),
  });
  if (!response.ok) throw new Error(`the sandbox refused the fault rules: ${response.status} ${await response.text()}`);
}
