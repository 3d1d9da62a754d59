import { describe, expect, it } from "vitest";
import { fillTemplate, placeholdersOf, valueAtPath } from "./template.ts";

const values: Record<string, unknown> = { name: "acme", seats: 5, owner: { email: "a@b.c" } };
const resolve = {
  get: (name: string) => valueAtPath(values, name),
  missing: (name: string, where: string) => new Error(`${where}: no ${name}`),
};

describe("fillTemplate", () => {
  it("keeps a whole placeholder's type and writes placeholders inside strings as text", () => {
    expect(fillTemplate({ name: "db-{{ name }}", seats: "{{seats}}", tags: ["{{owner}}-x"] }, resolve)).toEqual({
      name: "db-acme",
      seats: 5,
      tags: ['{"email":"a@b.c"}-x'],
    });
  });

  it("throws the caller's error, saying where the missing placeholder stands", () => {
    expect(() => fillTemplate({ a: [1, "{{missing}}"] }, resolve)).toThrow("input.a.1: no missing");
  });
});

it("lists every placeholder once", () => {
  expect(placeholdersOf({ a: "{{x}}-{{ y z }}", b: ["{{x}}"] })).toEqual(["x", "y z"]);
});

it("follows own keys only", () => {
  expect(valueAtPath(values, "owner.email")).toBe("a@b.c");
  expect(valueAtPath(values, "owner.constructor")).toBeUndefined();
  expect(valueAtPath(values, "__proto__")).toBeUndefined();
});
