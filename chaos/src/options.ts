import { z } from "zod";

/** How big and how rough one chaos run is. `resolveChaosOptions` fills the defaults. */
export const chaosOptionsSchema = z
  .strictObject({
    /** Jobs to submit, across artie, bridgeport and prisma (and mysql, given `mysqlAdminUrl`). Default 5,000. */
    jobs: z.number().int().min(30).max(200_000).default(5_000),
    /** Jobs per `POST /v1/jobs/bulk`. Default 1,000 (the API's maximum). */
    bulkSize: z.number().int().min(1).max(1_000).default(1_000),
    /** Share of jobs whose provider answers 400, so they must end dead. Default 0.05. */
    doomedShare: z.number().min(0).max(0.5).default(0.05),
    /** Length of the rough part: faults, kills, the Redis restart. Default 8 ms per job, at least 20 s. */
    chaosMs: z.number().int().min(5_000).optional(),
    /** Length of the prisma hang and of the bridgeport outage. Default 8 s (capped at 35% of `chaosMs`). */
    stretchMs: z.number().int().min(500).default(8_000),
    /** A worker is SIGKILLed this often. Default 4 s. */
    killEveryMs: z.number().int().min(500).default(4_000),
    /**
     * The workers' `WORKER_SHUTDOWN_GRACE_MS`. Default 1 s: half the 2 s provider timeout, so
     * a drain during the prisma hang must hand calls back, not only wait them out.
     */
    graceMs: z.number().int().min(100).default(1_000),
    /** After the rough part, how long jobs get to end before the rest count as stuck. Default 3 minutes. */
    settleMs: z.number().int().min(1_000).default(180_000),
    /** A progress line this often. Default 3 s. */
    progressEveryMs: z.number().int().min(100).default(3_000),
    /** Run on a three-master Redis Cluster it starts itself; the Redis restart restarts one master. Default false. */
    cluster: z.boolean().default(false),
    /** Keep the run's directory (logs, Redis files) instead of deleting it. Default false. */
    keep: z.boolean().default(false),
    /**
     * The MySQL/MariaDB server (`MYSQL_ADMIN_URL`) that `mysql` jobs, a quarter of the run, go
     * to; without one the run has none. Its databases are dropped at the end.
     */
    mysqlAdminUrl: z.string().optional(),
  })
  .transform((options) => ({ ...options, chaosMs: options.chaosMs ?? Math.max(20_000, options.jobs * 8) }));

export type ChaosOptionsInput = z.input<typeof chaosOptionsSchema>;
export type ChaosOptions = z.output<typeof chaosOptionsSchema>;

/** Throws a ZodError naming the bad option. */
export function resolveChaosOptions(input: ChaosOptionsInput = {}): ChaosOptions {
  return chaosOptionsSchema.parse(input);
}

/** When each part of the run happens, in ms from the first submission. */
export interface Timeline {
  chaosMs: number;
  /** Bulk request `k` is sent at `k * bulkEveryMs`. */
  bulkEveryMs: number;
  prismaHang: { fromMs: number; toMs: number };
  bridgeportOutage: { fromMs: number; toMs: number };
  /**
   * A worker gets SIGTERM here: inside the prisma hang, half a second after a bulk arrived,
   * so that it holds fresh hung calls that its grace period must cut short.
   */
  drainAtMs: number;
  /** Redis restarts here: just before a bulk request is due, so that one meets it. */
  redisRestartAtMs: number;
  killEveryMs: number;
}

export function timelineOf(options: ChaosOptions): Timeline {
  const { chaosMs } = options;
  const stretch = Math.min(options.stretchMs, Math.round(chaosMs * 0.35));
  const hangFrom = Math.round(chaosMs * 0.1);
  const outageFrom = Math.round(chaosMs * 0.45);
  // Bulks arrive over the first 60% of the window, so every fault and kill meets work in
  // flight (the workers clear a bulk of 1,000 in a few seconds).
  const bulks = Math.ceil(options.jobs / options.bulkSize);
  const bulkEveryMs = bulks > 1 ? (chaosMs * 0.6) / (bulks - 1) : 0;
  const restartBefore = Math.min(Math.max(Math.round((chaosMs * 0.3) / (bulkEveryMs || 1)), 1), bulks - 1);
  return {
    chaosMs,
    bulkEveryMs,
    prismaHang: { fromMs: hangFrom, toMs: hangFrom + stretch },
    bridgeportOutage: { fromMs: outageFrom, toMs: outageFrom + stretch },
    drainAtMs: drainAt(hangFrom, hangFrom + stretch, bulkEveryMs, bulks),
    redisRestartAtMs: Math.max(0, Math.round(restartBefore * bulkEveryMs) - 50),
    killEveryMs: options.killEveryMs,
  };
}

function drainAt(hangFromMs: number, hangToMs: number, bulkEveryMs: number, bulks: number): number {
  const afterArrival = 500;
  const bulk = bulkEveryMs > 0 ? Math.ceil(hangFromMs / bulkEveryMs) : 0;
  const at = bulk * bulkEveryMs + afterArrival;
  return bulk < bulks && at >= hangFromMs && at < hangToMs ? Math.round(at) : Math.round((hangFromMs + hangToMs) / 2);
}
