// The worker processes: a fixed number alive, one killed or drained at a time, each
// replaced as soon as it is gone.
import { readFile } from "node:fs/promises";
import type { Child, ProcessGroup } from "./processes.ts";
import { type StackEnv, startWorkerProcess } from "./services.ts";

/**
 * A drain must end within its grace period: the worker cancels what still runs early
 * enough to hand it back in time. This much more is allowed only for what the parent's
 * clock adds on a saturated 2-core machine (scheduling, signal delivery, process exit).
 */
export const drainSlackMs = 1_000;

export interface DrainOutcome {
  worker: string;
  code: number | null;
  signal: NodeJS.Signals | null;
  ms: number;
  graceMs: number;
  /** Jobs whose provider call the grace period cut short, handed back (from the worker's log). */
  handedBack: number;
  /** Exit code 0 within the grace period (plus `drainSlackMs`). */
  clean: boolean;
}

export interface WorkerPool {
  live(): readonly Child[];
  /** Starts workers until `size` are alive. */
  fill(): Promise<void>;
  /** SIGKILLs a random worker and starts its replacement; resolves with the victim's name. */
  killOne(): Promise<string>;
  /** SIGTERMs a random worker, times its exit, and starts its replacement. */
  drainOne(): Promise<DrainOutcome>;
}

export function createWorkerPool(group: ProcessGroup, env: StackEnv, size: number, graceMs: number): WorkerPool {
  let live: Child[] = [];
  let started = 0;

  const pick = (): Child => {
    const victim = live[Math.floor(Math.random() * live.length)];
    if (victim === undefined) throw new Error("no worker is alive");
    live = live.filter((child) => child !== victim);
    return victim;
  };
  const fill = async () => {
    while (live.length < size) live.push(await startWorkerProcess(group, env, `worker-${started++}`));
  };

  return {
    live: () => live,
    fill,
    async killOne() {
      const victim = pick();
      victim.kill("SIGKILL");
      await victim.exited;
      await fill();
      return victim.name;
    },
    async drainOne() {
      const victim = pick();
      const began = performance.now();
      victim.kill("SIGTERM");
      // A worker that never exits is killed eventually, and counts as unclean.
      const exit = await victim.stop({ signal: "SIGTERM", graceMs: graceMs + 30_000 });
      const ms = Math.round(performance.now() - began);
      await fill();
      const log = await readFile(victim.logFile, "utf8").catch(() => "");
      return {
        worker: victim.name,
        ...exit,
        ms,
        graceMs,
        handedBack: log.split("handing job back on shutdown").length - 1,
        clean: exit.code === 0 && ms <= graceMs + drainSlackMs,
      };
    },
  };
}
