// `npm run bench`: Provisioner's throughput beside bare BullMQ, measured in one run on one Redis,
// then fairness within one account (bench/fairness.ts) beside its targets.
// Options: --jobs N (worker bench, default 2000), --batches N (bulk requests of 1,000, default 10),
// --rounds N (measured rounds; the median is reported, default 3), --concurrency N (default 50),
// --seconds N (each autocannon run of the HTTP bench, default 10), --http (the HTTP bench only),
// --cpu-prof DIR (write the API's CPU profile of the HTTP bench there), --e2e N (only the
// end-to-end run of N rows through the CLI, the API and one worker: bench/e2e.ts).
import { parseArgs } from "node:util";
import { z } from "zod";
import { benchE2e } from "./e2e.ts";
import { formatE2e } from "./e2e-report.ts";
import { benchEnqueue } from "./enqueue.ts";
import { benchFairness } from "./fairness.ts";
import { benchHttp } from "./http.ts";
import { format } from "./support.ts";
import { benchWorker } from "./worker.ts";

const { values } = parseArgs({
  options: {
    jobs: { type: "string", default: "2000" },
    batches: { type: "string", default: "10" },
    rounds: { type: "string", default: "3" },
    concurrency: { type: "string", default: "50" },
    seconds: { type: "string", default: "10" },
    http: { type: "boolean", default: false },
    "cpu-prof": { type: "string" },
    e2e: { type: "string" },
  },
});
const count = z.coerce.number().int().min(1);
const options = {
  jobs: count.parse(values.jobs),
  batches: count.parse(values.batches),
  rounds: count.parse(values.rounds),
  concurrency: count.parse(values.concurrency),
  seconds: count.parse(values.seconds),
  redisUrl: z.string().default("redis://127.0.0.1:6379").parse(process.env.REDIS_URL),
};

if (values.e2e !== undefined) {
  console.log(`node ${process.version}, Redis ${options.redisUrl}, ${new Date().toISOString()}`);
  const result = await benchE2e({
    rows: count.parse(values.e2e),
    redisUrl: options.redisUrl,
    cpuProfileDir: values["cpu-prof"],
  });
  for (const line of formatE2e(result)) console.log(line);
  process.exit(0);
}
console.log(`node ${process.version}, Redis ${options.redisUrl}, median of ${options.rounds} rounds after a warm-up`);
const verdict = (ok: boolean) => (ok ? "met" : "MISSED");

const http = await benchHttp({
  redisUrl: options.redisUrl,
  connections: options.concurrency,
  seconds: options.seconds,
  rounds: options.rounds,
  cpuProfileDir: values["cpu-prof"],
});
const rps = (result: { requestsPerSecond: number; p99Ms: number }) =>
  `${format(result.requestsPerSecond).padStart(7)} req/s, p99 ${String(result.p99Ms).padStart(4)} ms`;
const singleRatio = http.single.ours.requestsPerSecond / http.single.bare.requestsPerSecond;
console.log("");
console.log(`POST /v1/jobs, ${options.concurrency} connections, ${options.seconds} s a run (autocannon)`);
console.log(`  provisioner API            ${rps(http.single.ours)}`);
console.log(`  bare Hono + Queue.add      ${rps(http.single.bare)}`);
console.log(
  `  ratio ${singleRatio.toFixed(2)}x  (target >= 0.85x: ${verdict(singleRatio >= 0.85)});  p99 ${http.single.ours.p99Ms} ms  (target <= 25 ms: ${verdict(http.single.ours.p99Ms <= 25)})`,
);
console.log(
  `  every round, ours/bare req/s: ${http.single.all.ours.map((ours, i) => `${format(ours.requestsPerSecond)}/${format(http.single.all.bare[i]?.requestsPerSecond ?? 0)}`).join(", ")}`,
);
const cpuLine = ({ ours, bare }: { ours: number | undefined; bare: number | undefined }, per: string, scale = 1) => {
  if (ours === undefined || bare === undefined) return;
  const show = (micros: number) => `${format(micros / scale)} ${scale === 1 ? "µs" : "ms"}`;
  console.log(
    `  server CPU ${per} (median of rounds): ours ${show(ours)}, bare ${show(bare)}; bare/ours ${(bare / ours).toFixed(2)}x`,
  );
};
cpuLine(http.single.cpuMicros, "a request");
const bulkRatio = http.bulk.ours.requestsPerSecond / http.bulk.bare.requestsPerSecond;
console.log(`POST /v1/jobs/bulk, 1,000 jobs a request, 1 connection`);
console.log(`  provisioner API            ${format(http.bulk.ours.requestsPerSecond * 1_000).padStart(7)} jobs/s`);
console.log(`  bare Hono + addBulk        ${format(http.bulk.bare.requestsPerSecond * 1_000).padStart(7)} jobs/s`);
console.log(`  ratio ${bulkRatio.toFixed(2)}x  (target >= 0.85x: ${verdict(bulkRatio >= 0.85)})`);
cpuLine(http.bulk.cpuMicros, "a request of 1,000", 1_000);
const addBulkJobs = http.bulk.addBulk.jobsPerSecond;
console.log(
  `  bare addBulk, no HTTP      ${format(addBulkJobs).padStart(7)} jobs/s, ${format(http.bulk.addBulkCpuMicros / 1_000)} ms CPU a batch of 1,000 (this process)`,
);
console.log(
  `  ratio to it ${((http.bulk.ours.requestsPerSecond * 1_000) / addBulkJobs).toFixed(2)}x (bare Hono + addBulk: ${((http.bulk.bare.requestsPerSecond * 1_000) / addBulkJobs).toFixed(2)}x)`,
);
if (values.http) process.exit(0);
const enqueue = await benchEnqueue({
  batchSize: 1_000,
  batches: options.batches,
  rounds: options.rounds,
  redisUrl: options.redisUrl,
});
const worker = await benchWorker({
  jobs: options.jobs,
  concurrency: options.concurrency,
  rounds: options.rounds,
  redisUrl: options.redisUrl,
});

const rows = [
  ["enqueue: POST /v1/jobs/bulk (HTTP, 1,000 a request)", enqueue.ours, "bare addBulk, no HTTP", enqueue.bare],
  [
    `worker: BRIDGEPORT creates via sandbox (concurrency ${options.concurrency})`,
    worker.ours,
    "bare BullMQ worker + fetch",
    worker.bare,
  ],
] as const;
console.log("");
for (const [name, ours, baselineName, baseline] of rows) {
  console.log(name);
  console.log(
    `  provisioner ${format(ours.jobsPerSecond).padStart(8)} jobs/s  (${ours.jobs} jobs in ${ours.seconds.toFixed(2)} s)`,
  );
  console.log(
    `  ${baselineName.padEnd(11)} ${format(baseline.jobsPerSecond).padStart(8)} jobs/s  (${baseline.jobs} jobs in ${baseline.seconds.toFixed(2)} s)`,
  );
  console.log(`  ratio        ${(ours.jobsPerSecond / baseline.jobsPerSecond).toFixed(2)}x of bare BullMQ`);
}

const fairness = await benchFairness({ redisUrl: options.redisUrl });
console.log("");
console.log("fairness: one account, sandbox latency 50 ms, concurrency 10");
console.log(
  `  interactive job behind 3,000 waiting bulk jobs: ${fairness.interactiveSeconds.toFixed(2)} s to success  (target <= 2 s: ${verdict(fairness.interactiveSeconds <= 2)})`,
);
console.log(
  `  second of two 1,000-job batches when the first finishes: ${(fairness.secondBatchDone * 100).toFixed(0)} % done  (target >= 40 %: ${verdict(fairness.secondBatchDone >= 0.4)})`,
);
process.exit(0);
