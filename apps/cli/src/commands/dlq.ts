import type { ListDeadLettersQuery } from "@provisioner/api-contract";
import { providerNames } from "@provisioner/provider-client";
import type { DeadLetterView } from "../answers.ts";
import type { ApiClient } from "../client.ts";
import { exitCodes, UsageError } from "../errors.ts";
import { formatAttemptError, oneLine, pairs, table } from "../format.ts";
import { println } from "../io.ts";
import { mapConcurrent } from "../pool.ts";
import {
  type Command,
  jsonObjectOption,
  kindOption,
  parseCommandArgs,
  providerOption,
  showCommand,
} from "./command.ts";

const filterHelp = `  --provider P   only this provider's (${providerNames.join(", ")})
  --kind K       only those that died of this kind of error (invalid, auth,
                 not_found, transient, rate_limited, conflict, unknown, expired…)`;

/** Reads pages (at most 200 each) by their cursors until `limit` entries are in hand or there are no more. */
async function collectDeadLetters(
  client: ApiClient,
  filter: ListDeadLettersQuery,
  limit: number,
): Promise<{ deadLetters: DeadLetterView[]; total: number }> {
  const deadLetters: DeadLetterView[] = [];
  let cursor: string | undefined;
  for (;;) {
    const page = await client.listDeadLetters({ ...filter, cursor, limit: Math.min(200, limit - deadLetters.length) });
    deadLetters.push(...page.deadLetters);
    if (page.nextCursor === null || deadLetters.length >= limit) return { deadLetters, total: page.total };
    cursor = page.nextCursor;
  }
}

const listPath = ["dlq", "list"] as const;
export const dlqListCommand: Command = {
  path: listPath,
  summary: "list dead letters: what died and why",
  usage: `Usage: provisioner dlq list [--provider P] [--kind K] [--limit N] [--json]

Lists dead letters, newest first: id, provider, kind, code, when it died, message.

Options:
${filterHelp}
  --limit N      show at most N (default 100)
  --json         print the API's JSON
  -h, --help     this help`,
  prepare(argv) {
    const { values } = parseCommandArgs(listPath, argv, {
      provider: { type: "string" },
      kind: { type: "string" },
      limit: { type: "string", default: "100" },
      json: { type: "boolean", default: false },
    });
    const filter = { provider: providerOption(values.provider), kind: kindOption(values.kind) };
    const limit = Number(values.limit);
    if (!Number.isInteger(limit) || limit < 1) throw new UsageError("--limit must be a positive whole number");
    return async ({ io, client }) => {
      const { deadLetters, total } = await collectDeadLetters(client, filter, limit);
      if (values.json) {
        println(io.stdout, JSON.stringify({ deadLetters, total }, null, 2));
        return exitCodes.ok;
      }
      if (total === 0) {
        println(io.stdout, "no dead letters");
        return exitCodes.ok;
      }
      const rows = deadLetters.map((entry) => [
        entry.id,
        entry.provider,
        entry.reason.kind,
        entry.reason.code ?? (entry.reason.status === undefined ? "-" : String(entry.reason.status)),
        entry.diedAt,
        oneLine(entry.reason.message),
      ]);
      println(io.stdout, table(["id", "provider", "kind", "code", "died at", "message"], rows));
      if (total > deadLetters.length)
        println(io.stdout, `\nshowing ${deadLetters.length} of ${total}; --limit N for more`);
      return exitCodes.ok;
    };
  },
};

const showPath = ["dlq", "show"] as const;
export const dlqShowCommand = showCommand({
  path: showPath,
  summary: "show a dead letter: the request and every attempt's error",
  usage: `Usage: provisioner dlq show ID [--json]

Shows one dead letter: why it died, every attempt's error, and the original
request (secret fields removed).

Options:
  --json       print the API's JSON
  -h, --help   this help`,
  fetch: (client, id) => client.getDeadLetter(id),
  format: formatDeadLetter,
});

export function formatDeadLetter(entry: DeadLetterView): string {
  return [
    pairs([
      ["dead letter", entry.id],
      ["provider", `${entry.provider} (account ${entry.account})`],
      ["died at", entry.diedAt],
      ["attempts", entry.attemptsMade],
      ["reason", formatAttemptError(entry.reason)],
      ["idempotency key", entry.request.idempotencyKey],
      ["batch", entry.request.batchId ?? undefined],
      ["submitted", entry.request.submittedAt],
      ["input", JSON.stringify(entry.request.input)],
    ]),
    "",
    "errors:",
    ...entry.errors.map((error) => `  #${error.attempt} ${error.at} ${formatAttemptError(error)}`),
  ].join("\n");
}

const replayPath = ["dlq", "replay"] as const;
/** Dead letters replayed per call to the API. */
const replayChunk = 500;
export const dlqReplayCommand: Command = {
  path: replayPath,
  summary: "queue dead letters again: one ID, --all, or by --provider/--kind",
  usage: `Usage: provisioner dlq replay ID [--input JSON]
       provisioner dlq replay --all
       provisioner dlq replay [--provider P] [--kind K]

Queues dead jobs again with fresh attempts and the same idempotency key, so a replay
never makes a second database.

Options:
  --input JSON   (with ID) a corrected create body to use instead of the original
  --all          every dead letter
${filterHelp}
  -h, --help     this help`,
  prepare(argv) {
    const { values, positionals } = parseCommandArgs(
      replayPath,
      argv,
      {
        input: { type: "string" },
        all: { type: "boolean", default: false },
        provider: { type: "string" },
        kind: { type: "string" },
      },
      ["ID"],
    );
    const id = positionals[0];
    const provider = providerOption(values.provider);
    const kind = kindOption(values.kind);
    const hint = "see: provisioner dlq replay --help";
    if (id !== undefined) {
      if (values.all || provider || kind) throw new UsageError("give an ID or --all/--provider/--kind, not both", hint);
      const input = values.input === undefined ? undefined : jsonObjectOption(values.input, "--input");
      return async ({ io, client }) => {
        const replayed = await client.replayDeadLetter(id, input);
        println(io.stdout, `queued ${replayed.id} again${input ? " with the corrected input" : ""}`);
        return exitCodes.ok;
      };
    }
    if (values.input !== undefined) throw new UsageError("--input goes with one ID", hint);
    if (!values.all && !provider && !kind) throw new UsageError("give an ID, --all, --provider or --kind", hint);
    if (values.all && (provider || kind))
      throw new UsageError("--all replays everything; drop --provider/--kind", hint);
    return async ({ io, client }) => {
      const filter = values.all ? { all: true } : { provider, kind };
      // In calls of `replayChunk`, each going on from the last one's cursor: every call stays
      // short whatever the backlog, and the progress shows between them.
      let replayed = 0;
      const skipped: string[] = [];
      let cursor: string | undefined;
      for (;;) {
        const result = await client.replayDeadLetters({
          ...filter,
          limit: replayChunk,
          ...(cursor === undefined ? {} : { cursor }),
        });
        replayed += result.replayed;
        skipped.push(...result.skipped);
        for (const id of result.ids) println(io.stdout, `  ${id}`);
        if (!result.nextCursor) break;
        cursor = result.nextCursor;
        println(io.stderr, `replayed ${replayed}, skipped ${skipped.length} so far`);
      }
      println(io.stdout, `queued ${replayed} dead letter(s) again`);
      if (skipped.length > 0) {
        println(io.stdout, `skipped ${skipped.length} whose job is no longer dead: ${skipped.join(", ")}`);
      }
      return exitCodes.ok;
    };
  },
};

const purgePath = ["dlq", "purge"] as const;
export const dlqPurgeCommand: Command = {
  path: purgePath,
  summary: "discard every dead letter (asks first, or --yes)",
  usage: `Usage: provisioner dlq purge [--yes] [--provider P] [--kind K]

Discards dead letters for good, with their failed jobs: every one, or those of a
provider or kind. Their idempotency keys are free again. Asks first when stdin is a
terminal; otherwise (a script, CI) it needs --yes.

Options:
  --yes          do not ask
${filterHelp}
  -h, --help     this help`,
  prepare(argv) {
    const { values } = parseCommandArgs(purgePath, argv, {
      yes: { type: "boolean", default: false },
      provider: { type: "string" },
      kind: { type: "string" },
    });
    const filter = { provider: providerOption(values.provider), kind: kindOption(values.kind) };
    return async ({ io, client }) => {
      // Refuse before reading anything: a script without --yes is a mistake, not a question.
      if (!values.yes && !io.stdinIsTty) {
        throw new UsageError("refusing to discard dead letters without --yes (stdin is not a terminal to ask on)");
      }
      let page = await client.listDeadLetters({ ...filter, limit: 200 });
      if (page.deadLetters.length === 0) {
        println(io.stdout, "no dead letters");
        return exitCodes.ok;
      }
      if (!values.yes) {
        const answer = await io.ask(`Discard ${page.total} dead letter(s)? This cannot be undone. [y/N] `);
        if (!/^y(es)?$/i.test(answer.trim())) {
          println(io.stdout, "nothing discarded");
          return exitCodes.failed;
        }
      }
      // A page at a time, by its cursor: memory and each call stay the size of a page.
      let count = 0;
      let gone = 0;
      for (;;) {
        const discarded = await mapConcurrent(page.deadLetters, 16, (entry) => client.discardDeadLetter(entry.id));
        count += discarded.filter(Boolean).length;
        gone += discarded.filter((done) => !done).length;
        if (page.nextCursor === null) break;
        println(io.stderr, `discarded ${count} so far`);
        page = await client.listDeadLetters({ ...filter, cursor: page.nextCursor, limit: 200 });
      }
      println(io.stdout, `discarded ${count} dead letter(s)${gone > 0 ? ` (${gone} were already gone)` : ""}`);
      return exitCodes.ok;
    };
  },
};
