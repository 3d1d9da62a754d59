// The checks at the end of a run, from the API (every accepted job, every designed failure's
// dead letter) and the sandbox (creations per database), and the table that shows them.
import { logicalIdFor } from "@provisioner/provider-client";
import type { SandboxStats } from "@provisioner/sandbox";
import { z } from "zod";
import type { ApiClient, JobView } from "./api-client.ts";
import type { DisruptionLog } from "./disruptions.ts";
import type { PlannedJob } from "./jobs.ts";
import type { Submission } from "./submit.ts";
import { seconds } from "./time.ts";
import { drainSlackMs } from "./workers.ts";

export interface Figures {
  planned: number;
  /** Of the planned jobs, those on the real MySQL server. */
  plannedMysql: number;
  accepted: number;
  succeeded: number;
  created: number;
  deduplicated: number;
  dead: number;
  deadDesigned: number;
  /** Must be 0: planned jobs the API did not accept. */
  notAccepted: number;
  /** Must be 0: items of a bulk sent a second time that did not come back as their first job. */
  resubmittedAsNew: number;
  /** Must be 0: accepted, yet `GET /v1/jobs/{id}` answers 404. */
  lost: number;
  /** Must be 0: still queued, running or retrying when the run gave up waiting. */
  stuck: number;
  /** Must be 0: sandbox databases created more than once (`"<provider>:<scope>/<name>"`). */
  duplicates: string[];
  /** Must be 0. */
  deadNotDesigned: number;
  /** Must be 0: designed failures that are not dead, or have no dead letter. */
  designedNotDeadLettered: number;
  /** Must be 0: succeeded, but the sandbox holds no such database. */
  succeededWithoutDatabase: number;
  /** Must be 0: SIGTERMed workers that did not exit 0 within their grace period. */
  uncleanDrains: number;
  /** One line per offending job, for the report. */
  evidence: string[];
}

export interface VerifyDeps {
  client: ApiClient;
  /** The sandbox's `GET /__sandbox/stats`, taken once every job has ended. */
  stats: SandboxStats;
  /** Every Prisma database's name, as the sandbox lists them. */
  prismaNames: readonly string[];
  /** The run's databases on the MySQL server (which cannot hold a name twice); empty without one. */
  mysqlNames: ReadonlySet<string>;
  jobs: readonly PlannedJob[];
  submission: Submission;
  disruptions: DisruptionLog;
}

export async function collectFigures(deps: VerifyDeps): Promise<Figures> {
  const { client, stats, jobs, submission } = deps;
  const figures: Figures = {
    planned: jobs.length,
    plannedMysql: jobs.filter((job) => job.provider === "mysql").length,
    accepted: submission.ids.size,
    succeeded: 0,
    created: 0,
    deduplicated: 0,
    dead: 0,
    deadDesigned: 0,
    notAccepted: jobs.length - submission.ids.size,
    resubmittedAsNew: submission.resubmittedAsNew,
    lost: 0,
    stuck: 0,
    duplicates: [...duplicatesIn(stats), ...repeatedNames(deps.prismaNames)],
    deadNotDesigned: 0,
    designedNotDeadLettered: 0,
    succeededWithoutDatabase: 0,
    uncleanDrains: deps.disruptions.drains.filter((drain) => !drain.clean).length,
    evidence: [],
  };
  const note = (job: PlannedJob, id: string, what: string) => {
    if (figures.evidence.length < 50) figures.evidence.push(`${id} (${job.name}): ${what}`);
  };

  await forEachLimited(jobs, 16, async (job) => {
    const id = submission.ids.get(job.index);
    if (id === undefined) return;
    const view = await client.getJob(id);
    if (view === null) {
      figures.lost += 1;
      return note(job, id, "accepted, but the API answers 404");
    }
    switch (view.status) {
      case "succeeded": {
        figures.succeeded += 1;
        if (view.result?.outcome === "deduplicated") figures.deduplicated += 1;
        else figures.created += 1;
        if (job.doomed) {
          figures.designedNotDeadLettered += 1;
          note(job, id, "designed to fail, yet succeeded");
        }
        if (!hasDatabase(deps, job, view)) {
          figures.succeededWithoutDatabase += 1;
          note(job, id, "succeeded, but the sandbox holds no such database");
        }
        return;
      }
      case "dead": {
        figures.dead += 1;
        if (!job.doomed) {
          figures.deadNotDesigned += 1;
          const last = view.errors.at(-1);
          return note(job, id, `dead after ${view.attempts} attempts: ${last ? `${last.kind}: ${last.message}` : "?"}`);
        }
        figures.deadDesigned += 1;
        if (!(await client.hasDeadLetter(id))) {
          figures.designedNotDeadLettered += 1;
          note(job, id, "dead, but not in the dead letters");
        }
        return;
      }
      default:
        figures.stuck += 1;
        if (job.doomed) figures.designedNotDeadLettered += 1;
        return note(job, id, `still ${view.status} after ${view.attempts} attempts`);
    }
  });
  return figures;
}

/** Every key the sandbox counted more than once. */
function duplicatesIn(stats: SandboxStats): string[] {
  const counted = Object.entries(stats.creations).flatMap(([provider, keys]) =>
    Object.entries(keys)
      .filter(([, count]) => count > 1)
      .map(([key, count]) => `${provider}:${key} ×${count}`),
  );
  return counted.length >= stats.duplicates.length ? counted : stats.duplicates;
}

// The sandbox counts Prisma creations by logicalId; a retry that sent another logicalId would
// make a second database under the same name, which only the names show.
function repeatedNames(names: readonly string[]): string[] {
  const counts = new Map<string, number>();
  for (const name of names) counts.set(name, (counts.get(name) ?? 0) + 1);
  return [...counts].filter(([, count]) => count > 1).map(([name, count]) => `prisma:name ${name} ×${count}`);
}

/** Every database name in the sandbox's Prisma project, page by page. */
export async function listPrismaNames(sandboxUrl: string, projectId: string, signal: AbortSignal): Promise<string[]> {
  const names: string[] = [];
  for (let cursor: string | null = null; ; ) {
    const query = new URLSearchParams({ projectId, limit: "1000", ...(cursor === null ? {} : { cursor }) });
    const response = await fetch(`${sandboxUrl}/prisma/v1/databases?${query}`, {
      headers: { authorization: "Bearer prisma-sandbox-token" },
      signal,
    });
    const page = prismaPageSchema.parse(await response.json());
    names.push(...page.data.map((database) => database.name));
    if (!page.pagination.hasMore) return names;
    cursor = page.pagination.nextCursor;
  }
}

const prismaPageSchema = z.object({
  data: z.array(z.object({ name: z.string() })),
  pagination: z.object({ nextCursor: z.string().nullable(), hasMore: z.boolean() }),
});

/** Whether the job's database exists: the sandbox's key (scope and name; Prisma: project and logicalId), or the MySQL server's list. */
function hasDatabase({ stats, mysqlNames }: VerifyDeps, job: PlannedJob, view: JobView): boolean {
  const input = job.request.input;
  switch (job.provider) {
    case "artie": {
      const connector = input.connector as { uuid: string };
      return (stats.creations.artie[`${connector.uuid}/${job.name}`] ?? 0) > 0;
    }
    case "bridgeport":
      return (stats.creations.bridgeport[`${String(input.envId)}/${job.name}`] ?? 0) > 0;
    case "prisma": {
      const logicalId = view.result?.resource.logicalId;
      const key = typeof logicalId === "string" ? logicalId : logicalIdFor(view.id);
      return (stats.creations.prisma[`${String(input.projectId)}/${key}`] ?? 0) > 0;
    }
    case "mysql":
      return mysqlNames.has(String(input.name));
  }
}

async function forEachLimited<T>(items: readonly T[], limit: number, work: (item: T) => Promise<void>) {
  let next = 0;
  const lane = async () => {
    while (next < items.length) {
      const item = items[next++] as T;
      await work(item);
    }
  };
  await Promise.all(Array.from({ length: limit }, lane));
}

/** The figures that must be zero, by label; a run passes when every one is. */
export function mustBeZero(figures: Figures): [string, number][] {
  return [
    ["jobs not accepted by the API", figures.notAccepted],
    ["a bulk sent twice: items not answered as the same job", figures.resubmittedAsNew],
    ["jobs lost (accepted, absent from Redis)", figures.lost],
    ["stuck non-terminal jobs", figures.stuck],
    ["databases created more than once", figures.duplicates.length],
    ["dead jobs not designed to fail", figures.deadNotDesigned],
    ["designed failures not in the dead letters", figures.designedNotDeadLettered],
    ["succeeded jobs with no database at the provider", figures.succeededWithoutDatabase],
    [`unclean drains (SIGTERM: exit 0 within grace + ${drainSlackMs / 1_000} s)`, figures.uncleanDrains],
  ];
}

export interface RunFacts {
  runId: string;
  wallMs: number;
  chaosMs: number;
  disruptions: DisruptionLog;
  submission: Submission;
  stats: SandboxStats;
}

export function renderTable(figures: Figures, facts: RunFacts): string {
  const n = (value: number) => value.toLocaleString("en-US");
  const rows: [string, string, string][] = [
    ["jobs submitted", n(figures.planned), ""],
    ...(figures.plannedMysql > 0
      ? [["  mysql jobs (a real MariaDB/MySQL server)", n(figures.plannedMysql), ""] as [string, string, string]]
      : []),
    ["jobs accepted", n(figures.accepted), ""],
    ["succeeded", n(figures.succeeded), ""],
    ["  created", n(figures.created), ""],
    ["  deduplicated (adopted after a lost answer)", n(figures.deduplicated), ""],
    ["dead", n(figures.dead), ""],
    ["  designed to fail (400; mysql: unknown charset)", n(figures.deadDesigned), ""],
    ...mustBeZero(figures).map(([label, value]): [string, string, string] => [
      label,
      n(value),
      value === 0 ? "ok" : "FAIL",
    ]),
    ["workers SIGKILLed", n(facts.disruptions.kills), ""],
    [
      "workers drained (SIGTERM)",
      facts.disruptions.drains
        .map((d) => `exit ${d.code ?? d.signal} in ${n(d.ms)} ms, ${d.handedBack} handed back`)
        .join(", ") || "none",
      "",
    ],
    [
      "Redis restarts (SHUTDOWN, AOF)",
      facts.disruptions.redisDownMs.map((ms) => `down ${n(Math.round(ms))} ms`).join(", ") || "none",
      "",
    ],
    ["bulk requests repeated", repeatsOf(facts.submission.repeats), ""],
    ["provider calls (create / find)", callsOf(facts.stats, n), ""],
    ["chaos window", seconds(facts.chaosMs), ""],
    ["wall time", seconds(facts.wallMs), ""],
  ];
  const width = Math.max(...rows.map(([label]) => label.length));
  const valueWidth = Math.max(...rows.map(([, value]) => value.length));
  const rule = "─".repeat(width + valueWidth + 12);
  const lines = rows.map(([label, value, check]) =>
    `  ${label.padEnd(width)}  ${value.padStart(valueWidth)}  ${check}`.trimEnd(),
  );
  return [`  chaos run ${facts.runId}`, `  ${rule}`, ...lines, `  ${rule}`].join("\n");
}

function repeatsOf(repeats: readonly string[]): string {
  if (repeats.length === 0) return "0";
  const counts = new Map<string, number>();
  for (const why of repeats) counts.set(why, (counts.get(why) ?? 0) + 1);
  return [...counts].map(([why, count]) => `${count} × ${why}`).join(", ");
}

function callsOf(stats: SandboxStats, n: (value: number) => string): string {
  const calls = Object.values(stats.requests);
  const create = calls.reduce((sum, r) => sum + r.create, 0);
  const find = calls.reduce((sum, r) => sum + r.find, 0);
  return `${n(create)} / ${n(find)}`;
}
