// What happens to the processes during the rough part: a worker SIGKILLed every few
// seconds, one drained with SIGTERM, Redis restarted once.
import type { Timeline } from "./options.ts";
import type { PrivateRedis } from "./redis.ts";
import { seconds, sleepUntil } from "./time.ts";
import type { DrainOutcome, WorkerPool } from "./workers.ts";

export interface DisruptionLog {
  kills: number;
  drains: DrainOutcome[];
  /** How long each Redis restart kept Redis down. */
  redisDownMs: number[];
}

export interface DisruptionDeps {
  timeline: Timeline;
  pool: WorkerPool;
  redis: PrivateRedis;
  /** `performance.now()` when the rough part began. */
  startedAt: number;
  signal: AbortSignal;
  log: (line: string) => void;
}

/** Runs until the rough part is over; the pool's operations never overlap one another. */
export async function runDisruptions(deps: DisruptionDeps): Promise<DisruptionLog> {
  const record: DisruptionLog = { kills: 0, drains: [], redisDownMs: [] };
  await Promise.all([workerDisruptions(deps, record), redisRestart(deps, record)]);
  return record;
}

async function workerDisruptions(deps: DisruptionDeps, record: DisruptionLog): Promise<void> {
  const { timeline, pool, startedAt, signal, log } = deps;
  const events: { atMs: number; kind: "kill" | "drain" }[] = [{ atMs: timeline.drainAtMs, kind: "drain" }];
  for (let atMs = timeline.killEveryMs; atMs < timeline.chaosMs; atMs += timeline.killEveryMs) {
    events.push({ atMs, kind: "kill" });
  }
  events.sort((a, b) => a.atMs - b.atMs);
  const now = () => `[${seconds(performance.now() - startedAt)}]`;
  for (const event of events) {
    await sleepUntil(startedAt + event.atMs, signal);
    if (event.kind === "kill") {
      const victim = await pool.killOne();
      record.kills += 1;
      log(`${now()} SIGKILL ${victim}; replacement ready`);
      continue;
    }
    const drain = await pool.drainOne();
    record.drains.push(drain);
    log(
      `${now()} SIGTERM ${drain.worker}: exit ${drain.code ?? drain.signal} after ${drain.ms} ms` +
        ` (grace ${drain.graceMs} ms, ${drain.handedBack} handed back)${drain.clean ? "" : "  UNCLEAN"};` +
        " replacement ready",
    );
  }
}

async function redisRestart(deps: DisruptionDeps, record: DisruptionLog): Promise<void> {
  const { timeline, redis, startedAt, signal, log } = deps;
  await sleepUntil(startedAt + timeline.redisRestartAtMs, signal);
  log(`[${seconds(timeline.redisRestartAtMs)}] Redis: SHUTDOWN (AOF flushed), starting it again`);
  const downMs = await redis.restart();
  record.redisDownMs.push(downMs);
  log(`[${seconds(performance.now() - startedAt)}] Redis: back after ${Math.round(downMs)} ms`);
}
