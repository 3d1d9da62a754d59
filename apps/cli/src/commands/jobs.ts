import type { JobView } from "../answers.ts";
import { formatAttemptError, pairs } from "../format.ts";
import { showCommand } from "./command.ts";

const path = ["jobs", "get"] as const;

export const jobsGetCommand = showCommand({
  path,
  summary: "show a job: status, attempts, outcome, every attempt's error",
  usage: `Usage: provisioner jobs get ID [--json]

Shows a job: its status (queued, running, retrying, succeeded, dead), attempts,
outcome (created or deduplicated) and the provider's resource, and the error of
every failed attempt. Secrets are never shown.

Options:
  --json       print the API's JSON as it is
  -h, --help   this help`,
  fetch: (client, id) => client.getJob(id),
  format: formatJob,
});

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
