import { type ParseArgsOptionsConfig, parseArgs } from "node:util";
import { type FailureKind, failureKinds } from "@provisioner/api-contract";
import { type ProviderName, providerNames } from "@provisioner/provider-client";
import type { ApiClient } from "../client.ts";
import { exitCodes, UsageError } from "../errors.ts";
import { type Io, println } from "../io.ts";

export interface Context {
  io: Io;
  client: ApiClient;
  /** Aborted by Ctrl-C: stop waiting, leave the jobs be. */
  signal: AbortSignal;
}

export interface Command {
  /** The words that name it: `["dlq", "list"]`. */
  path: readonly string[];
  /** One line for `provisioner --help`. */
  summary: string;
  /** The whole of `provisioner <command> --help`. */
  usage: string;
  /**
   * Checks the arguments (and any file they name) and returns what runs against the API,
   * so a usage error is told before the environment or the network is looked at.
   */
  prepare(argv: string[]): (context: Context) => Promise<number>;
}

/** node:util `parseArgs`, strict, with its errors turned into usage errors that point at `--help`. */
export function parseCommandArgs<const O extends ParseArgsOptionsConfig>(
  command: readonly string[],
  argv: string[],
  options: O,
  positionals: readonly string[] = [],
) {
  const hint = `see: provisioner ${command.join(" ")} --help`;
  let parsed: ReturnType<typeof parseArgs<{ args: string[]; options: O; allowPositionals: true; strict: true }>>;
  try {
    parsed = parseArgs({ args: argv, options, allowPositionals: true, strict: true });
  } catch (error) {
    if ((error as { code?: string }).code?.startsWith("ERR_PARSE_ARGS"))
      throw new UsageError((error as Error).message, hint);
    throw error;
  }
  if (parsed.positionals.length > positionals.length) {
    throw new UsageError(`unexpected argument: ${parsed.positionals[positionals.length]}`, hint);
  }
  return parsed;
}

/**
 * A command that fetches one thing by its id and prints it: as text, or with `--json` as the
 * API answered it.
 */
export function showCommand<T>(spec: {
  path: readonly string[];
  summary: string;
  usage: string;
  fetch: (client: ApiClient, id: string) => Promise<T>;
  format: (value: T) => string;
}): Command {
  const { path, summary, usage, fetch, format } = spec;
  return {
    path,
    summary,
    usage,
    prepare(argv) {
      const { values, positionals } = parseCommandArgs(path, argv, { json: { type: "boolean", default: false } }, [
        "ID",
      ]);
      const id = required(positionals[0], "ID", path);
      return async ({ io, client }) => {
        const value = await fetch(client, id);
        println(io.stdout, values.json ? JSON.stringify(value, null, 2) : format(value));
        return exitCodes.ok;
      };
    },
  };
}

/** A required positional, e.g. the job id. */
export function required(value: string | undefined, name: string, command: readonly string[]): string {
  if (value === undefined || value === "") {
    throw new UsageError(`missing ${name}`, `see: provisioner ${command.join(" ")} --help`);
  }
  return value;
}

export function providerOption(value: string | undefined): ProviderName | undefined {
  if (value === undefined) return undefined;
  if (!(providerNames as readonly string[]).includes(value)) {
    throw new UsageError(`--provider must be one of ${providerNames.join(", ")}, not "${value}"`);
  }
  return value as ProviderName;
}

export function kindOption(value: string | undefined): FailureKind | undefined {
  if (value === undefined) return undefined;
  if (!(failureKinds as readonly string[]).includes(value)) {
    throw new UsageError(`--kind must be one of ${failureKinds.join(", ")}, not "${value}"`);
  }
  return value as FailureKind;
}

/** A JSON object given on the command line, e.g. `--input '{"name":"x"}'`. */
export function jsonObjectOption(value: string, option: string): Record<string, unknown> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(value);
  } catch (error) {
    throw new UsageError(`${option} is not JSON (${(error as Error).message})`);
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
    throw new UsageError(`${option} must be a JSON object`);
  }
  return parsed as Record<string, unknown>;
}
