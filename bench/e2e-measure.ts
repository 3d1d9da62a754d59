// What bench/e2e.ts measures beside the run: processes' resident memory against the run's
// progress, and what the run's keys hold in Redis.
import { readFileSync } from "node:fs";
import type { Redis } from "ioredis";

/** A process's resident set in MB (VmRSS), or undefined once it has exited. */
export function rssMb(pid: number): number | undefined {
  try {
    const match = /^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
    return match ? Number(match[1]) / 1024 : undefined;
  } catch {
    return undefined;
  }
}

/** CPU seconds (user + system) a process has used so far, or undefined once it has exited. */
export function cpuSeconds(pid: number): number | undefined {
  try {
    // Fields after the command name (which may hold spaces): state is 3rd, utime 14th, stime 15th.
    const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]?.split(" ") ?? [];
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return undefined;
  }
}

export interface Sample {
  /** Milliseconds since the sampler started. */
  at: number;
  /** Jobs finished (completed or failed) when the sample was taken. */
  finished: number;
  rss: Record<string, number | undefined>;
  cpu: Record<string, number | undefined>;
}

export interface Sampler {
  /** Resolves once `finished` has reached `count` (or rejects at the deadline). */
  reached(count: number, deadlineMs: number): Promise<void>;
  /** Takes a last sample and stops. */
  stop(): Promise<Sample[]>;
}

/** Every `everyMs`, the RSS of each named process and the run's progress (one cheap Redis call). */
export function sampleProcesses(
  pids: () => Record<string, number>,
  progress: () => Promise<number>,
  everyMs = 500,
): Sampler {
  const samples: Sample[] = [];
  let latest = 0;
  let failure: Error | undefined;
  let busy = false;
  const started = performance.now();
  const tick = async () => {
    if (busy) return;
    busy = true;
    try {
      latest = await progress();
      const rss: Record<string, number | undefined> = {};
      const cpu: Record<string, number | undefined> = {};
      for (const [name, pid] of Object.entries(pids())) {
        rss[name] = rssMb(pid);
        cpu[name] = cpuSeconds(pid);
      }
      samples.push({ at: performance.now() - started, finished: latest, rss, cpu });
    } catch (error) {
      failure = error as Error;
    } finally {
      busy = false;
    }
  };
  const timer = setInterval(() => void tick(), everyMs);
  void tick();
  return {
    async reached(count, deadlineMs) {
      const deadline = Date.now() + deadlineMs;
      while (latest < count) {
        if (failure) throw failure;
        if (Date.now() > deadline) throw new Error(`only ${latest} of ${count} jobs finished in time`);
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    },
    async stop() {
      clearInterval(timer);
      while (busy) await new Promise((resolve) => setTimeout(resolve, 10));
      // One last look, so a run that ends between two ticks still has its 100 % sample.
      await tick();
      return samples;
    },
  };
}

export interface MemoryProfile {
  /** RSS in MB at the first sample at or past 25, 50, 75 and 100 % of the jobs finished. */
  at: [number, number, number, number];
  peak: number;
  /** RSS at 100 % over RSS at 25 %. */
  growth: number;
  /** CPU seconds used by the last sample that saw the process. */
  cpuSeconds: number;
}

/** One process's RSS along the run; at 100 % the last reading while it lived, if it exited first. */
export function memoryProfile(samples: readonly Sample[], name: string, total: number): MemoryProfile {
  const readings = samples.flatMap((sample) => {
    const rss = sample.rss[name];
    return rss === undefined ? [] : [{ finished: sample.finished, rss }];
  });
  const last = readings.at(-1);
  if (!last) throw new Error(`no memory reading of ${name}`);
  const at = [0.25, 0.5, 0.75, 1].map(
    (fraction) => readings.find((reading) => reading.finished >= total * fraction)?.rss ?? last.rss,
  ) as [number, number, number, number];
  const cpu = samples.flatMap((sample) => sample.cpu[name] ?? []).at(-1) ?? Number.NaN;
  return { at, peak: Math.max(...readings.map((reading) => reading.rss)), growth: at[3] / at[0], cpuSeconds: cpu };
}

export interface RedisFootprint {
  keys: number;
  /** `MEMORY USAGE … SAMPLES 0` summed over every key of the prefix. */
  bytes: number;
  /** The same, by the key's shape (ids replaced by `<id>`), largest first: where the bytes go. */
  shapes: { shape: string; keys: number; bytes: number }[];
  /** One job hash's fields and their value lengths (HSTRLEN), largest first. */
  jobFields: { field: string; length: number }[];
}

/** A key's name with its prefix, job ids, batch ids and BullMQ's numeric ids replaced. */
export function keyShape(prefix: string, key: string): string {
  return key
    .slice(prefix.length + 1)
    .replace(/[a-z]+-[A-Za-z0-9_]+-[0-9a-f]{32}/g, "<job>")
    .replace(/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/g, "<uuid>")
    .replace(/:\d+(?=$|:)/g, ":<n>");
}

/** What the keys under `prefix` take in Redis (a SCAN; fine in a benchmark, never in the product). */
export async function redisFootprint(connection: Redis, prefix: string): Promise<RedisFootprint> {
  let keys = 0;
  let bytes = 0;
  const shapes = new Map<string, { keys: number; bytes: number }>();
  let aJob: string | undefined;
  let cursor = "0";
  do {
    const [next, batch] = await connection.scan(cursor, "MATCH", `${prefix}:*`, "COUNT", 1000);
    if (batch.length > 0) {
      const pipeline = connection.pipeline();
      for (const key of batch) pipeline.call("MEMORY", "USAGE", key, "SAMPLES", "0");
      for (const [index, [error, size]] of ((await pipeline.exec()) ?? []).entries()) {
        if (error) throw error;
        const key = batch[index] as string;
        const shape = keyShape(prefix, key);
        const entry = shapes.get(shape) ?? { keys: 0, bytes: 0 };
        entry.keys += 1;
        entry.bytes += Number(size ?? 0);
        shapes.set(shape, entry);
        if (aJob === undefined && /^\{[^}]*\}:(<job>|<n>)$|^[^:{}]+:(<job>|<n>)$/.test(shape)) aJob = key;
        bytes += Number(size ?? 0);
      }
      keys += batch.length;
    }
    cursor = next;
  } while (cursor !== "0");
  const jobFields: { field: string; length: number }[] = [];
  if (aJob !== undefined) {
    for (const field of await connection.hkeys(aJob)) {
      jobFields.push({ field, length: await connection.hstrlen(aJob, field) });
    }
  }
  return {
    keys,
    bytes,
    shapes: [...shapes].map(([shape, entry]) => ({ shape, ...entry })).sort((a, b) => b.bytes - a.bytes),
    jobFields: jobFields.sort((a, b) => b.length - a.length),
  };
}

/** Seconds from the start until the first sample that saw every job finished. */
export const allFinishedAt = (samples: readonly Sample[], total: number): number =>
  (samples.find((sample) => sample.finished >= total)?.at ?? Number.NaN) / 1000;

/** Redis's `used_memory`, in bytes. */
export async function usedMemory(connection: Redis): Promise<number> {
  const info = await connection.info("memory");
  return Number(/^used_memory:(\d+)/m.exec(info)?.[1] ?? Number.NaN);
}
