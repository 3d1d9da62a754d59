// `npm run bench`: Provisioner's throughput beside bare BullMQ, measured in one run on one Redis,
// then fairness within one account (bench/fairness.ts) beside its targets.
// Options: --jobs N (worker bench, default 2000), --batches N (bulk requests of 1,000, default 10),
// --rounds N (measured rounds; the median is reported, default 3), --concurrency N (default 50).
import { parseArgs } from "node:util";
import { z } from "zod";
import { benchEnqueue } from "./enqueue.ts";
import { benchFairness } from "./fairness.ts";
import { format } from "./support.ts";
import { benchWorker } from "./worker.ts";

const { values } = parseArgs({
  options: {
    jobs: { type: "string", default: "2000" },
    batches: { type: "string", default: "10" },
    rounds: { type: "string", default: "3" },
    concurrency: { type: "string", default: "50" },
  },
});
const count = z.coerce.number().int().min(1);
const options = {
  jobs: count.parse(values.jobs),
  batches: count.parse(values.batches),
  rounds: count.parse(values.rounds),
  concurrency: count.parse(values.concurrency),
  redisUrl: z.string().default("redis://127.0.0.1:6379").parse(process.env.REDIS_URL),
};

console.log(`node ${process.version}, Redis ${options.redisUrl}, median of ${options.rounds} rounds after a warm-up`);
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
  ["enqueue: POST /v1/jobs/bulk (HTTP, 1,000 a request)", enqueue.ours, "bare BullMQ addBulk", enqueue.bare],
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
const verdict = (ok: boolean) => (ok ? "met" : "MISSED");
console.log("");
console.log("fairness: one account, sandbox latency 50 ms, concurrency 10");
console.log(
  `  interactive job behind 3,000 waiting bulk jobs: ${fairness.interactiveSeconds.toFixed(2)} s to success  (target <= 2 s: ${verdict(fairness.interactiveSeconds <= 2)})`,
);
console.log(
  `  second of two 1,000-job batches when the first finishes: ${(fairness.secondBatchDone * 100).toFixed(0)} % done  (target >= 40 %: ${verdict(fairness.secondBatchDone >= 0.4)})`,
);
process.exit(0);
