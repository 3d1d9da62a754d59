import type { CallbackDeliveryView } from "../answers.ts";
import { exitCodes, UsageError } from "../errors.ts";
import { oneLine, table } from "../format.ts";
import { println } from "../io.ts";
import { type Command, parseCommandArgs, required } from "./command.ts";

const listPath = ["callbacks", "list"] as const;
export const callbacksListCommand: Command = {
  path: listPath,
  summary: "list failed callback deliveries: out of tries or refused",
  usage: `Usage: provisioner callbacks list [--limit N] [--json]

Lists job-end callbacks that could not be delivered, newest first: id, job,
event, receiver (without its query), tries, when it failed, the last error.

Options:
  --limit N      show at most N (default 100)
  --json         print the API's JSON
  -h, --help     this help`,
  prepare(argv) {
    const { values } = parseCommandArgs(listPath, argv, {
      limit: { type: "string", default: "100" },
      json: { type: "boolean", default: false },
    });
    const limit = Number(values.limit);
    if (!Number.isInteger(limit) || limit < 1) throw new UsageError("--limit must be a positive whole number");
    return async ({ io, client }) => {
      const deliveries: CallbackDeliveryView[] = [];
      let cursor: string | undefined;
      let more = true;
      while (more && deliveries.length < limit) {
        const page = await client.listFailedCallbacks({ cursor, limit: Math.min(200, limit - deliveries.length) });
        deliveries.push(...page.deliveries);
        cursor = page.nextCursor ?? undefined;
        more = page.nextCursor !== null && page.deliveries.length > 0;
      }
      if (values.json) {
        println(io.stdout, JSON.stringify({ deliveries }, null, 2));
        return exitCodes.ok;
      }
      if (deliveries.length === 0) {
        println(io.stdout, "no failed callback deliveries");
        return exitCodes.ok;
      }
      const rows = deliveries.map((d) => [
        d.id,
        d.jobId,
        d.event,
        d.url,
        `${d.attemptsMade}/${d.maxAttempts}`,
        d.failedAt ?? "-",
        oneLine(d.lastError ?? ""),
      ]);
      println(io.stdout, table(["id", "job", "event", "receiver", "tries", "failed at", "last error"], rows));
      if (more) println(io.stdout, `\nshowing the newest ${deliveries.length}; --limit N for more`);
      return exitCodes.ok;
    };
  },
};

const retryPath = ["callbacks", "retry"] as const;
export const callbacksRetryCommand: Command = {
  path: retryPath,
  summary: "send a failed callback delivery again, with fresh tries",
  usage: `Usage: provisioner callbacks retry ID

Queues a failed delivery again under the same webhook-id, so a receiver that
did get it can drop the repeat.

Options:
  -h, --help   this help`,
  prepare(argv) {
    const { positionals } = parseCommandArgs(retryPath, argv, {}, ["ID"]);
    const id = required(positionals[0], "ID", retryPath);
    return async ({ io, client }) => {
      await client.retryCallback(id);
      println(io.stdout, `queued callback ${id} for delivery again`);
      return exitCodes.ok;
    };
  },
};
