import { createApiClient } from "./client.ts";
import { bulkCommand } from "./commands/bulk.ts";
import { callbacksListCommand, callbacksRetryCommand } from "./commands/callbacks.ts";
import type { Command } from "./commands/command.ts";
import { dlqListCommand, dlqPurgeCommand, dlqReplayCommand, dlqShowCommand } from "./commands/dlq.ts";
import { jobsGetCommand } from "./commands/jobs.ts";
import { loadEnv } from "./env.ts";
import { exitCodeOf, exitCodes, formatError, UsageError } from "./errors.ts";
import { type Io, println } from "./io.ts";

export const commands: readonly Command[] = [
  bulkCommand,
  jobsGetCommand,
  dlqListCommand,
  dlqShowCommand,
  dlqReplayCommand,
  dlqPurgeCommand,
  callbacksListCommand,
  callbacksRetryCommand,
];

const name = (command: Command) => command.path.join(" ");

const helpOf = (list: readonly Command[], title: string) => {
  const width = Math.max(...list.map((command) => name(command).length));
  return `${title}

Commands:
${list.map((command) => `  ${name(command).padEnd(width)}  ${command.summary}`).join("\n")}

Environment:
  PROVISIONER_API_URL   the API (default http://127.0.0.1:3000)
  PROVISIONER_TOKEN     an API token (required by every command)

Run \`provisioner <command> --help\` for a command's options.`;
};

export const mainHelp = helpOf(
  commands,
  "Usage: provisioner <command> [options]\n\nQueues and inspects create-database jobs through the Provisioner API.",
);

// `--help` anywhere before `--` asks for help, whatever else is on the line.
const wantsHelp = (argv: readonly string[]) => {
  const end = argv.indexOf("--");
  return (end === -1 ? argv : argv.slice(0, end)).some((arg) => arg === "--help" || arg === "-h");
};

/** Finds the command the words name; the rest of argv is its own. */
function resolve(argv: readonly string[]): { command: Command; rest: string[] } | { group: Command[]; word: string } {
  const command = commands.find((c) => c.path.every((word, i) => argv[i] === word));
  if (command) return { command, rest: argv.slice(command.path.length) };
  const word = argv[0] ?? "";
  return { group: commands.filter((c) => c.path.length > 1 && c.path[0] === word), word };
}

export interface RunOptions {
  env: Record<string, string | undefined>;
  io: Io;
  /** Aborted on Ctrl-C. */
  signal?: AbortSignal;
}

/** The whole CLI, minus the process: returns the exit code. */
export async function run(argv: readonly string[], { env, io, signal = new AbortController().signal }: RunOptions) {
  try {
    if (argv.length === 0 || argv[0] === "--help" || argv[0] === "-h" || argv[0] === "help") {
      println(argv.length === 0 ? io.stderr : io.stdout, mainHelp);
      return argv.length === 0 ? exitCodes.usage : exitCodes.ok;
    }
    const found = resolve(argv);
    if ("group" in found) {
      const { group, word } = found;
      if (group.length > 0 && (wantsHelp(argv) || argv.length === 1)) {
        println(
          wantsHelp(argv) ? io.stdout : io.stderr,
          helpOf(group, `Usage: provisioner ${word} <command> [options]`),
        );
        return wantsHelp(argv) ? exitCodes.ok : exitCodes.usage;
      }
      const known = group.length > 0 ? group.map((c) => c.path.slice(1).join(" ")) : commands.map(name);
      const unknown = group.length > 0 ? `${word} ${argv[1]}` : word;
      throw new UsageError(`unknown command "${unknown}"; try ${known.join(", ")}`, "see: provisioner --help");
    }
    const { command, rest } = found;
    if (wantsHelp(rest)) {
      println(io.stdout, command.usage);
      return exitCodes.ok;
    }
    const execute = command.prepare(rest);
    const { apiUrl, token } = loadEnv(env);
    const client = createApiClient({
      url: apiUrl,
      token,
      signal,
      retry: {
        onRetry: ({ error, delayMs, retriesLeft }) =>
          println(
            io.stderr,
            `${oneLineError(error)}; trying again in ${(delayMs / 1000).toFixed(1)} s, ${retriesLeft} ${retriesLeft === 1 ? "try" : "tries"} left`,
          ),
      },
    });
    return await execute({ io, client, signal });
  } catch (error) {
    if (signal.aborted) {
      println(io.stderr, "interrupted");
      return exitCodes.interrupted;
    }
    println(io.stderr, `error: ${formatError(error)}`);
    return exitCodeOf(error);
  }
}

const oneLineError = (error: Error) => formatError(error).split("\n")[0];
