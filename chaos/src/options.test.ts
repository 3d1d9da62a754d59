import { describe, expect, it } from "vitest";
import { DOOMED_PREFIX, faultPhases } from "./faults.ts";
import { DOOMED_CHARACTER_SET, planJobs } from "./jobs.ts";
import { resolveChaosOptions, timelineOf } from "./options.ts";

const sizes = [
  resolveChaosOptions({}),
  resolveChaosOptions({ jobs: 20_000 }),
  resolveChaosOptions({ jobs: 300, bulkSize: 50, chaosMs: 12_000, stretchMs: 3_000, killEveryMs: 2_000 }),
];

describe("the timeline", () => {
  it.each(sizes)(
    "ends every stretch before the rough part ends, and drains a worker inside the prisma hang (%#)",
    (options) => {
      const timeline = timelineOf(options);
      expect(timeline.bridgeportOutage.toMs).toBeLessThanOrEqual(timeline.chaosMs);
      expect(timeline.prismaHang.toMs).toBeLessThanOrEqual(timeline.bridgeportOutage.fromMs);
      expect(timeline.drainAtMs).toBeGreaterThanOrEqual(timeline.prismaHang.fromMs);
      expect(timeline.drainAtMs).toBeLessThan(timeline.prismaHang.toMs);
      expect(timeline.redisRestartAtMs).toBeLessThan(timeline.bulkEveryMs * Math.ceil(options.jobs / options.bulkSize));
    },
  );

  it("scales the rough part with the job count unless told", () => {
    expect(resolveChaosOptions({}).chaosMs).toBe(40_000);
    expect(resolveChaosOptions({ jobs: 20_000 }).chaosMs).toBe(160_000);
    expect(resolveChaosOptions({ jobs: 100 }).chaosMs).toBe(20_000);
    expect(resolveChaosOptions({ jobs: 100, chaosMs: 9_000 }).chaosMs).toBe(9_000);
  });
});

describe("the fault plan", () => {
  it("puts the designed failure first in every phase and ends with it alone", () => {
    const phases = faultPhases(timelineOf(sizes[0] as (typeof sizes)[number]));
    for (const phase of phases) expect(phase.rules[0]).toMatchObject({ status: 400, namePrefix: DOOMED_PREFIX });
    expect(phases.at(-1)?.rules).toHaveLength(1);
  });
});

describe("the jobs", () => {
  it("dooms the asked share, spread evenly, with unique names and keys", () => {
    const jobs = planJobs("abc", 1_000, 0.05);
    expect(jobs.filter((job) => job.doomed)).toHaveLength(50);
    expect(jobs.filter((job) => job.doomed && job.name.startsWith(DOOMED_PREFIX))).toHaveLength(50);
    expect(new Set(jobs.map((job) => job.name)).size).toBe(1_000);
    expect(new Set(jobs.map((job) => job.idempotencyKey)).size).toBe(1_000);
    expect(jobs.slice(0, 20).filter((job) => job.doomed)).toHaveLength(1);
  });

  it("makes every fourth job a mysql one with a plain identifier when a MySQL server is configured", () => {
    const jobs = planJobs("abc", 400, 0.05, true);
    const mysql = jobs.filter((job) => job.provider === "mysql");
    expect(mysql).toHaveLength(100);
    for (const job of mysql) expect(job.request.input.name).toMatch(/^[A-Za-z_][A-Za-z0-9_]{0,63}$/);
    const doomed = mysql.filter((job) => job.doomed);
    expect(doomed.length).toBeGreaterThan(0);
    expect(new Set(jobs.filter((job) => job.doomed).map((job) => job.provider)).size).toBe(4);
    for (const job of doomed) expect(job.request.input.characterSet).toBe(DOOMED_CHARACTER_SET);
    expect(planJobs("abc", 400, 0.05).some((job) => job.provider === "mysql")).toBe(false);
  });
});
