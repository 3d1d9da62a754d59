import { describe, expect, it } from "vitest";
import { MissingValueError, parseTemplate, placeholdersOf, renderTemplate } from "./template.ts";

describe("renderTemplate", () => {
  const template = {
    projectId: "{{project}}",
    name: "tenant-{{ id }}",
    port: "{{port}}",
    labels: ["{{owner.email}}", "static"],
  };

  it("keeps a whole placeholder's value as it is and fills longer strings with its text", () => {
    const row = { project: "proj_1", id: 42, port: 5432, owner: { email: "a@b.c" } };
    expect(renderTemplate(template, row)).toEqual({
      projectId: "proj_1",
      name: "tenant-42",
      port: 5432,
      labels: ["a@b.c", "static"],
    });
  });

  it("prefers a column named with a dot over a path", () => {
    expect(renderTemplate({ x: "{{a.b}}" }, { "a.b": "flat", a: { b: "nested" } })).toEqual({ x: "flat" });
  });

  it("names the placeholder and where it sits when the row lacks it", () => {
    const error = (() => {
      try {
        renderTemplate(template, { project: "p", id: 1, port: 1 });
      } catch (caught) {
        return caught;
      }
    })();
    expect(error).toBeInstanceOf(MissingValueError);
    expect(error).toMatchObject({ column: "owner.email", field: "input.labels.0" });
  });

  it("never reaches the prototype", () => {
    expect(() => renderTemplate({ x: "{{constructor}}" }, {})).toThrow(MissingValueError);
    expect(() => renderTemplate({ x: "{{__proto__.toString}}" }, {})).toThrow(MissingValueError);
  });
});

it("lists a template's placeholders", () => {
  expect(placeholdersOf({ a: "{{x}}-{{y}}", b: ["{{ z }}"], c: 1 })).toEqual(["x", "y", "z"]);
});

it("takes only a JSON object as the template", () => {
  expect(parseTemplate('{"name":"{{n}}"}')).toEqual({ name: "{{n}}" });
  expect(() => parseTemplate("[1]")).toThrow("--template must be a JSON object");
  expect(() => parseTemplate("{nope")).toThrow(/^--template is not JSON/);
});
