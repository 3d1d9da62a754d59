import { expect, it } from "vitest";
import { resolveChaosOptions } from "./options.ts";
import { hasRedisServer } from "./redis.ts";
import { runChaos } from "./run.ts";

// The same run as `npm run chaos`, compressed: 300 jobs in bulks of 50 over a 12 s rough
// part, a worker SIGKILLed every 2 s, one drained, Redis restarted once.
it.skipIf(!hasRedisServer() && process.env.CI === undefined)(
  "loses no job, creates no database twice and kills only what was designed to fail, under chaos",
  async () => {
    const lines: string[] = [];
    const report = await runChaos(
      resolveChaosOptions({
        jobs: 300,
        bulkSize: 50,
        chaosMs: 12_000,
        stretchMs: 3_000,
        killEveryMs: 2_000,
        graceMs: 1_000,
        settleMs: 30_000,
        progressEveryMs: 2_000,
      }),
      { log: (line) => lines.push(line) },
    );
    if (report.failures.length > 0) console.log([...lines, report.table, ...report.figures.evidence].join("\n"));
    expect(report.figures.accepted).toBe(300);
    expect(report.figures.deadDesigned).toBe(15);
    expect(report.failures).toEqual([]);
    expect(report.facts.disruptions.kills).toBeGreaterThan(0);
    expect(report.facts.disruptions.drains).toHaveLength(1);
    expect(report.facts.disruptions.redisDownMs).toHaveLength(1);
  },
  120_000,
);
