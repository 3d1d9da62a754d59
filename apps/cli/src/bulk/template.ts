import { readFileSync } from "node:fs";
import { UsageError } from "../errors.ts";

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

// Anything but braces between `{{` and `}}`, so CSV headers with spaces or dots work.
const placeholder = /\{\{\s*([^{}]+?)\s*\}\}/g;
const whole = /^\{\{\s*([^{}]+?)\s*\}\}$/;

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

/** Every placeholder a template uses, so a CSV header can be checked before anything is sent. */
export function placeholdersOf(template: unknown): string[] {
  const found = new Set<string>();
  const visit = (node: unknown) => {
    if (typeof node === "string") for (const match of node.matchAll(placeholder)) found.add(match[1] as string);
    else if (Array.isArray(node)) node.forEach(visit);
    else if (typeof node === "object" && node !== null) Object.values(node).forEach(visit);
  };
  visit(template);
  return [...found];
}

/**
 * A row's value for a placeholder: the key itself first (a CSV column may be called `a.b`),
 * else a dotted path into a JSONL row's objects. Own keys only, never `__proto__`.
 */
export function rowValue(values: Record<string, unknown>, column: string): unknown {
  if (Object.hasOwn(values, column)) return values[column];
  let node: unknown = values;
  for (const key of column.split(".")) {
    if (typeof node !== "object" || node === null || !Object.hasOwn(node, key)) return undefined;
    node = (node as Record<string, unknown>)[key];
  }
  return node;
}

/**
 * Fills a template from a row. A string that is exactly one placeholder takes the value as
 * it is (a JSONL number stays a number; every CSV value is a string); placeholders inside a
 * longer string are replaced by the value's text. An empty CSV cell is an empty string, not
 * a missing value: the API decides whether it is acceptable.
 */
export function renderTemplate(template: unknown, values: Record<string, unknown>, where = "input"): unknown {
  const lookup = (column: string) => {
    const value = rowValue(values, column);
    if (value === undefined || value === null) throw new MissingValueError(column, where);
    return value;
  };
  if (typeof template === "string") {
    const single = whole.exec(template);
    if (single?.[1]) return lookup(single[1]);
    return template.replace(placeholder, (_, column: string) => {
      const value = lookup(column);
      return typeof value === "object" ? JSON.stringify(value) : String(value);
    });
  }
  if (Array.isArray(template)) return template.map((item, i) => renderTemplate(item, values, `${where}.${i}`));
  if (typeof template === "object" && template !== null) {
    return Object.fromEntries(
      Object.entries(template).map(([key, value]) => [key, renderTemplate(value, values, `${where}.${key}`)]),
    );
  }
  return template;
}
