import type { JobView } from "../answers.ts";
import { exitCodes } from "../errors.ts";
import { formatAttemptError, pairs } from "../format.ts";
import { println } from "../io.ts";
import { type Command, parseCommandArgs, required } from "./command.ts";

const path = ["jobs", "get"] as const;

export const jobsGetCommand: Command = {
  path,
  summary: "show a job: status, attempts, outcome, every attempt's error",
  usage: `Usage: provisioner jobs get ID [--json]

Shows a job: its status (queued, running, retrying, succeeded, dead), attempts,
outcome (created or deduplicated) and the provider's resource, and the error of
every failed attempt. Secrets are never shown.

Options:
  --json       print the API's JSON as it is
  -h, --help   this help`,
  prepare(argv) {
    const { values, positionals } = parseCommandArgs(path, argv, { json: { type: "boolean", default: false } }, ["ID"]);
    const id = required(positionals[0], "ID", path);
    return async ({ io, client }) => {
      const job = await client.getJob(id);
      println(io.stdout, values.json ? JSON.stringify(job, null, 2) : formatJob(job));
      return exitCodes.ok;
    };
  },
};

export function formatJob(job: JobView): string {
  const lines = [
    pairs([
      ["job", job.id],
      ["provider", `${job.provider} (account ${job.account})`],
      ["status", job.status],
      ["attempts", `${job.attempts} of ${job.maxAttempts}`],
      ["next attempt", job.nextAttemptAt ?? undefined],
      ["created", job.createdAt],
      ["finished", job.finishedAt ?? undefined],
      ["outcome", job.result?.outcome],
      ["idempotency key", job.idempotencyKey],
      ["batch", job.batchId ?? undefined],
      ["input", JSON.stringify(job.input)],
      ["resource", job.result ? JSON.stringify(job.result.resource) : undefined],
    ]),
  ];
  if (job.errors.length > 0) {
    lines.push("", "errors:");
    for (const error of job.errors) lines.push(`  #${error.attempt} ${error.at} ${formatAttemptError(error)}`);
  }
  return lines.join("\n");
}
