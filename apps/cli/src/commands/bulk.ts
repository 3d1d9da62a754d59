import { providerNames } from "@provisioner/provider-client";
import { summarizeRun } from "../bulk/outcomes.ts";
import { type BulkPlan, prepareFile } from "../bulk/prepare.ts";
import { createProgressReporter } from "../bulk/progress.ts";
import { checkReadable, formatOf } from "../bulk/rows.ts";
import { BulkState } from "../bulk/state.ts";
import { chunkRows, submitChunks } from "../bulk/submit.ts";
import { exitCodeOfSummary, formatRejected, formatSubmission, formatSummary } from "../bulk/summary.ts";
import { parseTemplate } from "../bulk/template.ts";
import { waitForBatches } from "../bulk/wait.ts";
import { exitCodes, UsageError } from "../errors.ts";
import { println } from "../io.ts";
import { type Command, type Context, parseCommandArgs, providerOption, required } from "./command.ts";

const path = ["bulk"] as const;

const usage = `Usage: provisioner bulk FILE --provider P --template JSON [options]

Queues one create-database job per row of FILE, waits until every job has ended
(a live progress bar on stderr), then prints what happened: created, deduplicated,
dead (with each dead row's error) and rejected rows.

FILE is .csv (the header row names the columns) or .jsonl (one JSON object a line).
A row number is the line of the file the row starts on (in a CSV, the header is row 1).

Options:
  --provider P       ${providerNames.join(", ")} (required)
  --account A        the provider account (default: the API's "default")
  --template JSON    the provider's create body; {{column}} is filled from each row
                     (a string that is exactly one placeholder keeps the row's value
                     as it is). @PATH reads it from a file. (required)
  --key-column COL   take each job's idempotency key from this column (default: a
                     hash of provider, account and the row's input, secrets left out)
  --no-wait          queue, print the batch ids and stop (the state file stays: running
                     the same file again waits for those batches)
  -h, --help         this help

The file is streamed (memory stays flat whatever its size) and sent in requests of up to
1,000 rows, two in flight. FILE.bulk-state.jsonl records each accepted request and each
finished batch: running the same file again after an interruption (Ctrl-C, a kill, a
network failure) sends only what was not accepted and waits only on batches not yet seen
finished. It is removed once the summary is printed. Even without it nothing is queued
twice: each row's key is the same, and the API answers with the job it already has.

Exit status: 0 when every row succeeded (or, with --no-wait, was queued); 1 when a row
was rejected or died, or the API failed; 2 when the command or the file is wrong.

Example:
  provisioner bulk tenants.csv --provider bridgeport \\
    --template '{"envId":"env_prod","name":"tenant-{{id}}","type":"postgres"}'`;

const options = {
  provider: { type: "string" },
  account: { type: "string" },
  template: { type: "string" },
  "key-column": { type: "string" },
  "no-wait": { type: "boolean", default: false },
} as const;

export const bulkCommand: Command = {
  path,
  summary: "queue one job per row of a .csv or .jsonl file and wait for them all",
  usage,
  prepare(argv) {
    const { values, positionals } = parseCommandArgs(path, argv, options, ["FILE"]);
    const file = required(positionals[0], "FILE", path);
    const provider = providerOption(values.provider);
    if (!provider) throw new UsageError("--provider is required", "see: provisioner bulk --help");
    if (values.template === undefined) throw new UsageError("--template is required", "see: provisioner bulk --help");
    if (values.account === "") throw new UsageError("--account must not be empty");
    const plan: BulkPlan = {
      provider,
      account: values.account,
      template: parseTemplate(values.template),
      keyColumn: values["key-column"],
    };
    formatOf(file);
    checkReadable(file);
    return (context) => run(context, { file, plan, wait: !values["no-wait"] });
  },
};

async function run(
  { io, client, signal }: Context,
  { file, plan, wait }: { file: string; plan: BulkPlan; wait: boolean },
): Promise<number> {
  const state = await BulkState.open(file, plan);
  if (state.resumed) {
    println(
      io.stderr,
      `resuming: ${state.chunks.size} request(s) were accepted by an earlier run of this file (${state.path})`,
    );
  }
  try {
    await submitChunks(client, chunkRows(prepareFile(file, plan)), state, {
      onChunk: ({ rows }) => println(io.stderr, `submitted ${rows} rows`),
    });
  } catch (error) {
    if (state.chunks.size > 0)
      println(io.stderr, `run the same file again to send the rest; accepted requests are kept in ${state.path}`);
    throw error;
  }
  const batchIds = state.batchIds();
  if (batchIds.length === 0) {
    const rejected = [...state.chunks.values()].flatMap((chunk) => chunk.rejected).sort((a, b) => a.row - b.row);
    state.remove();
    println(io.stdout, ["no row could be queued", ...formatRejected(rejected)].join("\n"));
    return exitCodes.failed;
  }
  if (!wait) {
    println(io.stdout, formatSubmission(state));
    const rejected = [...state.chunks.values()].some((chunk) => chunk.rejected.length > 0);
    return rejected ? exitCodes.failed : exitCodes.ok;
  }
  const jobs = [...state.chunks.values()].reduce((n, chunk) => n + chunk.jobs, 0);
  println(
    io.stderr,
    `queued ${jobs} rows in ${batchIds.length} batch(es); waiting for every job to end (Ctrl-C stops waiting, not the jobs)`,
  );
  const reporter = createProgressReporter(io);
  try {
    await waitForBatches(client, batchIds, {
      onProgress: (progress) => reporter.update(progress),
      signal,
      finished: state.finished,
      onFinished: (batch) =>
        state.recordFinished({
          batchId: batch.id,
          total: batch.total,
          counts: batch.counts,
          adopted: batch.adopted,
        }),
    });
  } catch (error) {
    reporter.stop();
    if (!signal.aborted) throw error;
    println(io.stderr, `run the same file again to wait for the rest (state in ${state.path})`);
    println(io.stderr, "stopped waiting; the jobs go on. Follow them with GET /v1/batches/ID:");
    for (const id of batchIds) if (!state.finished.has(id)) println(io.stderr, `  ${id}`);
    return exitCodes.interrupted;
  }
  reporter.stop();
  const summary = await summarizeRun(client, state);
  println(io.stdout, formatSummary(summary));
  state.remove();
  return exitCodeOfSummary(summary);
}
