import { providerNames } from "@provisioner/provider-client";
import { fetchOutcomes } from "../bulk/outcomes.ts";
import { type BulkPlan, type PreparedRow, prepareRows, type RowRejection } from "../bulk/prepare.ts";
import { createProgressReporter } from "../bulk/progress.ts";
import { readRowFile } from "../bulk/rows.ts";
import { type Submission, submitRows } from "../bulk/submit.ts";
import { exitCodeOfSummary, formatRejected, formatSubmission, formatSummary, summarize } from "../bulk/summary.ts";
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
  --no-wait          queue, print the batch ids and stop
  -h, --help         this help

Running the same file again queues nothing new: each row's key is the same, and the
API answers with the job it already has.

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
    const rows = readRowFile(file);
    const { prepared, rejected } = prepareRows(rows, plan);
    return (context) => run(context, { prepared, rejected, wait: !values["no-wait"] });
  },
};

async function run(
  { io, client, signal }: Context,
  { prepared, rejected, wait }: { prepared: PreparedRow[]; rejected: RowRejection[]; wait: boolean },
): Promise<number> {
  if (prepared.length === 0) {
    println(io.stdout, ["no row could be queued", ...formatRejected(rejected)].join("\n"));
    return exitCodes.failed;
  }
  let sent = 0;
  let submitted: Submission;
  try {
    submitted = await submitRows(client, prepared, {
      onChunk: (done, total) => {
        sent = done;
        if (total > 1000) println(io.stderr, `submitted ${done}/${total} rows`);
      },
    });
  } catch (error) {
    // Earlier chunks are in; their keys make a re-run skip them rather than queue them twice.
    if (sent > 0)
      println(
        io.stderr,
        `${sent} of ${prepared.length} rows were queued before this; run the same file again to queue the rest`,
      );
    throw error;
  }
  const submission: Submission = { ...submitted, rejected: [...rejected, ...submitted.rejected] };

  if (!wait) {
    println(io.stdout, formatSubmission(submission));
    return submission.rejected.length > 0 ? exitCodes.failed : exitCodes.ok;
  }
  if (submission.batches.length > 0) {
    println(
      io.stderr,
      `queued ${submission.queued.length} rows in ${submission.batches.length} batch(es); waiting for every job to end (Ctrl-C stops waiting, not the jobs)`,
    );
    const reporter = createProgressReporter(io);
    const ids = submission.batches.map((batch) => batch.id);
    try {
      await waitForBatches(client, ids, { onProgress: (progress) => reporter.update(progress), signal });
    } catch (error) {
      reporter.stop();
      if (!signal.aborted) throw error;
      println(io.stderr, "stopped waiting; the jobs go on. Follow them with GET /v1/batches/ID:");
      for (const id of ids) println(io.stderr, `  ${id}`);
      return exitCodes.interrupted;
    }
    reporter.stop();
  }
  const outcomes = await fetchOutcomes(client, submission.queued);
  const summary = summarize(outcomes, submission.rejected);
  println(io.stdout, formatSummary(summary));
  return exitCodeOfSummary(summary);
}
