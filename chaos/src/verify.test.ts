import type { SandboxStats } from "@provisioner/sandbox";
import { describe, expect, it } from "vitest";
import type { ApiClient, JobView } from "./api-client.ts";
import { planJobs } from "./jobs.ts";
import { collectFigures, mustBeZero } from "./verify.ts";
import { drainSlackMs } from "./workers.ts";

const jobs = planJobs("t", 6, 0.2); // artie, bridgeport, prisma, artie, bridgeport(doomed), prisma
const view = (id: string, status: JobView["status"], extra: Partial<JobView> = {}): JobView => ({
  id,
  provider: "artie",
  status,
  attempts: 1,
  input: {},
  result: status === "succeeded" ? { outcome: "created", resource: { logicalId: "lid" } } : null,
  errors: status === "dead" ? [{ kind: "transient", message: "out of attempts" }] : [],
  ...extra,
});

describe("the checks", () => {
  it("count lost, stuck, undesigned dead, missing dead letters, duplicates and phantom successes", async () => {
    const views: Record<string, JobView | null> = {
      j0: view("j0", "succeeded"),
      j1: view("j1", "dead"),
      j2: view("j2", "succeeded", { result: { outcome: "created", resource: { logicalId: "elsewhere" } } }),
      j3: null,
      j4: view("j4", "dead"),
      j5: view("j5", "running"),
    };
    const client: ApiClient = {
      submitBulk: () => Promise.reject(new Error("unused")),
      getBatch: () => Promise.reject(new Error("unused")),
      getJob: (id) => Promise.resolve(views[id] ?? null),
      hasDeadLetter: () => Promise.resolve(false),
    };
    const stats: SandboxStats = {
      creations: {
        artie: { [`chaos-conn-0/${jobs[0]?.name}`]: 2 },
        bridgeport: {},
        prisma: { "proj_chaos/lid": 1 },
      },
      requests: {
        artie: { create: 0, find: 0 },
        bridgeport: { create: 0, find: 0 },
        prisma: { create: 0, find: 0 },
      },
      duplicates: [],
    };
    const figures = await collectFigures({
      client,
      stats,
      prismaNames: ["a", "b", "a"],
      mysqlNames: new Set(),
      jobs,
      submission: {
        ids: new Map(jobs.map((job) => [job.index, `j${job.index}`])),
        rejected: [],
        repeats: [],
        resubmittedAsNew: 0,
      },
      disruptions: { kills: 0, drains: [], redisDownMs: [] },
    });
    expect(Object.fromEntries(mustBeZero(figures))).toEqual({
      "jobs not accepted by the API": 0,
      "a bulk sent twice: items not answered as the same job": 0,
      "jobs lost (accepted, absent from Redis)": 1,
      "stuck non-terminal jobs": 1,
      "databases created more than once": 2,
      "dead jobs not designed to fail": 1,
      "designed failures not in the dead letters": 1,
      "succeeded jobs with no database at the provider": 1,
      [`unclean drains (SIGTERM: exit 0 within grace + ${drainSlackMs / 1_000} s)`]: 0,
    });
    expect(figures.evidence).toHaveLength(5);
  });
});
