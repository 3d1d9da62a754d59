// One chaos run, start to finish: its own Redis, the sandbox, the API and two workers; jobs
// submitted over HTTP while faults, kills, a drain and a Redis restart happen; then the
// checks. Everything it starts it stops, and its directory goes, whatever happens.
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { SandboxStats } from "@provisioner/sandbox";
import { createApiClient } from "./api-client.ts";
import { type DisruptionLog, runDisruptions } from "./disruptions.ts";
import { faultPhases, runFaultPhases } from "./faults.ts";
import { planJobs, prismaProject } from "./jobs.ts";
import { dropMysqlDatabases, listMysqlNames } from "./mysql.ts";
import { type ChaosOptions, timelineOf } from "./options.ts";
import { createProcessGroup } from "./processes.ts";
import { reportProgress, waitUntilSettled } from "./progress.ts";
import { type PrivateRedis, startClusterRedis, startPrivateRedis } from "./redis.ts";
import { startStack } from "./stack.ts";
import { submitAll } from "./submit.ts";
import { seconds } from "./time.ts";
import { collectFigures, type Figures, listPrismaNames, mustBeZero, type RunFacts, renderTable } from "./verify.ts";

export interface ChaosReport {
  figures: Figures;
  facts: RunFacts;
  /** The must-be-zero figures that are not, by label; empty when the run passed. */
  failures: string[];
  table: string;
}

export async function runChaos(
  options: ChaosOptions,
  {
    log = console.log,
    signal = new AbortController().signal,
  }: { log?: (line: string) => void; signal?: AbortSignal } = {},
): Promise<ChaosReport> {
  const wallStart = performance.now();
  const runId = randomBytes(3).toString("hex");
  const runDir = mkdtempSync(join(tmpdir(), `provisioner-chaos-${runId}-`));
  const group = createProcessGroup(runDir);
  // Any task failing stops the others: the run is over either way.
  const abort = new AbortController();
  const stop = AbortSignal.any([signal, abort.signal]);
  const guard = <T>(task: Promise<T>): Promise<T> =>
    task.catch((error: unknown) => {
      abort.abort(error);
      throw error;
    });

  let redis: PrivateRedis | undefined;
  try {
    const timeline = timelineOf(options);
    log(`chaos ${runId}: ${options.jobs} jobs, ${seconds(options.chaosMs)} of faults; logs in ${runDir}`);
    redis = options.cluster ? await startClusterRedis() : await startPrivateRedis(group, runDir);
    const { sandbox, api, env, pool } = await startStack(group, runDir, options.graceMs, redis, options.mysqlAdminUrl);
    log(`started redis ${redis.describe}, sandbox ${sandbox.url}, api ${api.url}, ${pool.live().length} workers`);
    if (options.mysqlAdminUrl) log(`mysql jobs go to ${new URL(options.mysqlAdminUrl).host}`);

    const client = createApiClient(api.url, env.apiToken, stop);
    const jobs = planJobs(runId, options.jobs, options.doomedShare, options.mysqlAdminUrl !== undefined);
    const startedAt = performance.now();
    const faults = runFaultPhases(sandbox.url, faultPhases(timeline), startedAt, stop);
    const batchIds: string[] = [];
    const progress = reportProgress({
      client,
      batchIds,
      planned: jobs.length,
      startedAt,
      everyMs: options.progressEveryMs,
      describe: () => `faults: ${faults.current()} · workers ${pool.live().length}`,
      log,
      signal: stop,
    });

    let disruptions: DisruptionLog;
    let submission: Awaited<ReturnType<typeof submitAll>>;
    try {
      [submission, disruptions] = await Promise.all([
        guard(
          submitAll({
            client,
            jobs,
            bulkSize: options.bulkSize,
            bulkEveryMs: timeline.bulkEveryMs,
            startedAt,
            onBatch: (id) => batchIds.push(id),
            signal: stop,
            log,
          }),
        ),
        guard(runDisruptions({ timeline, pool, redis, startedAt, signal: stop, log })),
        guard(faults.done),
      ]);
      log(
        `[${seconds(performance.now() - startedAt)}] faults off (but designed failures); waiting for every job to end`,
      );
      const settled = await waitUntilSettled(client, batchIds, performance.now() + options.settleMs, stop);
      if (!settled) log(`jobs still open after ${seconds(options.settleMs)}: they count as stuck`);
    } finally {
      await progress.stop();
    }

    const stats = (await (await fetch(`${sandbox.url}/__sandbox/stats`, { signal: stop })).json()) as SandboxStats;
    const prismaNames = await listPrismaNames(sandbox.url, prismaProject, stop);
    const mysqlNames = options.mysqlAdminUrl ? await listMysqlNames(options.mysqlAdminUrl, runId) : new Set<string>();
    const figures = await collectFigures({ client, stats, prismaNames, mysqlNames, jobs, submission, disruptions });
    const wallMs = performance.now() - wallStart;
    const facts: RunFacts = { runId, wallMs, chaosMs: options.chaosMs, disruptions, submission, stats };
    const failures = mustBeZero(figures)
      .filter(([, value]) => value !== 0)
      .map(([label, value]) => `${label}: ${value}`);
    return { figures, facts, failures, table: renderTable(figures, facts) };
  } finally {
    // Workers may die at once; the API and the sandbox get a SIGTERM, Redis its graceful stop.
    await group.stopAll({ kill: (child) => child.name.startsWith("worker-") });
    await redis?.stop();
    if (options.mysqlAdminUrl) await dropMysqlDatabases(options.mysqlAdminUrl, runId);
    if (options.keep) log(`kept ${runDir}`);
    else rmSync(runDir, { recursive: true, force: true });
  }
}
