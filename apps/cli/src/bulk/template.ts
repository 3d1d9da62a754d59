import { readFileSync } from "node:fs";
import { fillTemplate, valueAtPath } from "@provisioner/json";
import { UsageError } from "../errors.ts";

// What `prepare` checks a file's header against, from the one template syntax.
export { placeholdersOf } from "@provisioner/json";

/** A row lacks a value a `{{placeholder}}` asks for. */
export class MissingValueError extends Error {
  override name = "MissingValueError";
  /** The placeholder, e.g. `tenant` or `owner.email`. */
  readonly column: string;
  /** Where in the input, e.g. `input.name`, so it reads like the API's `field`. */
  readonly field: string;
  constructor(column: string, field: string) {
    super(`the row has no value for {{${column}}}`);
    this.column = column;
    this.field = field;
  }
}

/** `--template`: a JSON object, or `@path` to a file holding one. */
export function parseTemplate(text: string): Record<string, unknown> {
  let source = text;
  if (text.startsWith("@")) {
    try {
      source = readFileSync(text.slice(1), "utf8");
    } catch (error) {
      throw new UsageError(`--template ${text}: cannot read it (${(error as NodeJS.ErrnoException).code ?? error})`);
    }
  }
  let value: unknown;
  try {
    value = JSON.parse(source);
  } catch (error) {
    throw new UsageError(
      `--template is not JSON (${(error as Error).message})`,
      `e.g. --template '{"name":"{{name}}"}'`,
    );
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new UsageError("--template must be a JSON object: the provider's create body");
  }
  return value as Record<string, unknown>;
}

/**
 * A row's value for a placeholder: the key itself first (a CSV column may be called `a.b`),
 * else a dotted path into a JSONL row's objects. Own keys only, never `__proto__`.
 */
export function rowValue(values: Record<string, unknown>, column: string): unknown {
  return Object.hasOwn(values, column) ? values[column] : valueAtPath(values, column);
}

/**
 * Fills a template from a row (the syntax is `@provisioner/json`'s, shared with the API's
 * event triggers). Every CSV value is a string; a JSONL number in a whole placeholder stays a
 * number. An empty CSV cell is an empty string, not a missing value: the API decides whether
 * it is acceptable.
 */
export function renderTemplate(template: unknown, values: Record<string, unknown>, where = "input"): unknown {
  return fillTemplate(
    template,
    { get: (column) => rowValue(values, column), missing: (column, at) => new MissingValueError(column, at) },
    where,
  );
}
