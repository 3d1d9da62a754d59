// `{{name}}` placeholders in a JSON value. The syntax, how a value replaces a placeholder and
// what counts as missing are decided here once; where values come from (a bulk file's row,
// an event) and the error a missing one raises stay with each caller.

// Anything but braces between `{{` and `}}`, trimmed, so CSV headers with spaces or dots work.
const placeholder = /\{\{\s*([^{}]+?)\s*\}\}/g;
const whole = /^\{\{\s*([^{}]+?)\s*\}\}$/;

/** Where a placeholder's value comes from, and what to throw when there is none. */
export interface TemplateValues {
  /** The value for a name; undefined or null is missing. */
  get(name: string): unknown;
  /** The caller's own error for a missing value; `where` is the path in the template (`input.name`). */
  missing(name: string, where: string): Error;
}

/**
 * Fills a template. A string that is exactly one placeholder takes the value as it is (a
 * number stays a number); placeholders inside a longer string are replaced by the value's
 * text, objects as JSON. Arrays and objects are filled item by item; anything else is kept.
 */
export function fillTemplate(template: unknown, values: TemplateValues, where = "input"): unknown {
  const resolve = (name: string) => {
    const value = values.get(name);
    if (value === undefined || value === null) throw values.missing(name, where);
    return value;
  };
  if (typeof template === "string") {
    const single = whole.exec(template);
    if (single?.[1]) return resolve(single[1]);
    return template.replace(placeholder, (_, name: string) => {
      const value = resolve(name);
      return typeof value === "object" ? JSON.stringify(value) : String(value);
    });
  }
  if (Array.isArray(template)) return template.map((item, i) => fillTemplate(item, values, `${where}.${i}`));
  if (typeof template === "object" && template !== null) {
    return Object.fromEntries(
      Object.entries(template).map(([key, value]) => [key, fillTemplate(value, values, `${where}.${key}`)]),
    );
  }
  return template;
}

/** Every placeholder a template uses, so what it needs can be checked before it is filled. */
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
 * The value at a dotted path (`owner.email`), or undefined where a step is missing. Own keys
 * only: a template must not reach `constructor` or `__proto__`.
 */
export function valueAtPath(root: unknown, path: string): unknown {
  let node = root;
  for (const key of path.split(".")) {
    if (typeof node !== "object" || node === null || !Object.hasOwn(node, key)) return undefined;
    node = (node as Record<string, unknown>)[key];
  }
  return node;
}
