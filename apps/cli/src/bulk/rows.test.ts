import { describe, expect, it } from "vitest";
import { UsageError } from "../errors.ts";
import { parseCsv, parseJsonl } from "./rows.ts";

describe("parseCsv", () => {
  it("numbers rows by the line they start on, across blank lines, quoted line breaks and CRLF", () => {
    const text = '\uFEFFname,env\r\na,b\r\n"x\r\ny",c\r\n\r\nq,r';
    const file = parseCsv(text);
    expect(file.columns).toEqual(["name", "env"]);
    expect(file.rows).toEqual([
      { row: 2, values: { name: "a", env: "b" } },
      { row: 3, values: { name: "x\r\ny", env: "c" } },
      { row: 6, values: { name: "q", env: "r" } },
    ]);
  });

  it("keeps an empty cell as an empty string, for the API to judge", () => {
    expect(parseCsv("name,plan\n,pro\n").rows).toEqual([{ row: 2, values: { name: "", plan: "pro" } }]);
  });

  it("refuses a header that names a column twice, and a row of the wrong length", () => {
    expect(() => parseCsv("name,name\na,b\n", "t.csv")).toThrow(new UsageError('t.csv: the header names "name" twice'));
    expect(() => parseCsv("name,env\na\n", "t.csv")).toThrow(/t\.csv: .*line 2/);
  });
});

describe("parseJsonl", () => {
  it("takes one object a line and numbers rows by line, skipping blank ones", () => {
    const file = parseJsonl('{"a":1}\n\n{"a":{"b":"c"}}\r\n');
    expect(file.rows).toEqual([
      { row: 1, values: { a: 1 } },
      { row: 3, values: { a: { b: "c" } } },
    ]);
  });

  it("names the line that is not a JSON object", () => {
    expect(() => parseJsonl('{"a":1}\n[1]\n', "t.jsonl")).toThrow("t.jsonl: line 2 is not a JSON object");
    expect(() => parseJsonl('{"a":1}\n{oops\n', "t.jsonl")).toThrow(/^t\.jsonl: line 2 is not JSON/);
  });
});
