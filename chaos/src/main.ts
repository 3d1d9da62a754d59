// `npm run chaos [-- --jobs 20000]`: one chaos run at the given size; prints progress, then
// the table; exits 1 when a must-be-zero figure is not zero. With MYSQL_ADMIN_URL set, a
// quarter of the jobs are `mysql` ones on that server.
import { parseArgs } from "node:util";
import { z } from "zod";
import { resolveChaosOptions } from "./options.ts";
import { hasRedisServer } from "./redis.ts";
import { runChaos } from "./run.ts";

const usage = `usage: npm run chaos -- [--jobs N] [--bulk-size N] [--doomed-share F] [--chaos-seconds S]
                        [--kill-every-seconds S] [--settle-seconds S] [--cluster] [--keep]`;

const flagsSchema = z
  .object({
    jobs: z.coerce.number().optional(),
    "bulk-size": z.coerce.number().optional(),
    "doomed-share": z.coerce.number().optional(),
    "chaos-seconds": z.coerce.number().optional(),
    "kill-every-seconds": z.coerce.number().optional(),
    "settle-seconds": z.coerce.number().optional(),
    cluster: z.boolean().optional(),
    keep: z.boolean().optional(),
  })
  .transform((flags) => {
    const ms = (value: number | undefined) => (value === undefined ? {} : { value: Math.round(value * 1_000) });
    const chaos = ms(flags["chaos-seconds"]);
    const killEvery = ms(flags["kill-every-seconds"]);
    const settle = ms(flags["settle-seconds"]);
    return {
      ...(flags.jobs === undefined ? {} : { jobs: flags.jobs }),
      ...(flags["bulk-size"] === undefined ? {} : { bulkSize: flags["bulk-size"] }),
      ...(flags["doomed-share"] === undefined ? {} : { doomedShare: flags["doomed-share"] }),
      ...("value" in chaos ? { chaosMs: chaos.value } : {}),
      ...("value" in killEvery ? { killEveryMs: killEvery.value } : {}),
      ...("value" in settle ? { settleMs: settle.value } : {}),
      ...(flags.cluster === undefined ? {} : { cluster: flags.cluster }),
      ...(flags.keep === undefined ? {} : { keep: flags.keep }),
    };
  });

function parseOptions() {
  try {
    const { values } = parseArgs({
      options: {
        jobs: { type: "string" },
        "bulk-size": { type: "string" },
        "doomed-share": { type: "string" },
        "chaos-seconds": { type: "string" },
        "kill-every-seconds": { type: "string" },
        "settle-seconds": { type: "string" },
        cluster: { type: "boolean" },
        keep: { type: "boolean" },
      },
      strict: true,
    });
    const mysql = process.env.MYSQL_ADMIN_URL ? { mysqlAdminUrl: process.env.MYSQL_ADMIN_URL } : {};
    return resolveChaosOptions({ ...flagsSchema.parse(values), ...mysql });
  } catch (error) {
    const detail = error instanceof z.ZodError ? z.prettifyError(error) : (error as Error).message;
    console.error(`chaos: ${detail}\n${usage}`);
    process.exit(2);
  }
}

const options = parseOptions();
if (!hasRedisServer()) {
  console.error("chaos: it runs its own Redis, and no redis-server is on the PATH (apt install redis-server).");
  process.exit(1);
}

// Ctrl-C or a SIGTERM stops the run; its finally stops every process it started.
const interrupted = new AbortController();
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.once(signal, () => {
    console.error(`chaos: ${signal}, stopping everything it started`);
    interrupted.abort(new Error(`interrupted by ${signal}`));
  });
}

try {
  const report = await runChaos(options, { signal: interrupted.signal });
  console.log(`\n${report.table}\n`);
  for (const line of report.figures.evidence) console.log(`  ${line}`);
  if (report.figures.duplicates.length > 0) console.log(`  duplicates: ${report.figures.duplicates.join(", ")}`);
  if (report.failures.length > 0) {
    console.log(`FAIL: ${report.failures.join("; ")}`);
    if (!options.keep) console.log("(run again with --keep to keep every process's log)");
    process.exit(1);
  }
  console.log("PASS: every must-be-zero figure is zero");
} catch (error) {
  if (interrupted.signal.aborted) {
    console.error("chaos: interrupted; every process it started is stopped");
    process.exit(130);
  }
  console.error(`chaos: the run did not finish: ${(error as Error).stack ?? error}`);
  process.exit(1);
}
