import { Readable } from "node:stream";
import { describe, expect, it } from "vitest";
import { UsageError } from "../errors.ts";
import { type Row, parseCsv as streamCsv, parseJsonl as streamJsonl } from "./rows.ts";

async function collect(rows: AsyncIterable<Row>): Promise<Row[]> {
  const all: Row[] = [];
  for await (const row of rows) all.push(row);
  return all;
}
const source = (text: string) => Readable.from([Buffer.from(text, "utf8")]);
async function parseCsv(text: string, name?: string) {
  let columns: string[] | undefined;
  const rows = await collect(streamCsv(source(text), { ...(name ? { name } : {}), onHeader: (c) => (columns = c) }));
  return { columns, rows };
}
const parseJsonl = async (text: string, name?: string) => ({
  rows: await collect(streamJsonl(source(text), name ? { name } : {})),
});

describe("parseCsv", async () => {
  it("numbers rows by the line they start on, across blank lines, quoted line breaks and CRLF", async () => {
    const text = '\uFEFFname,env\r\na,b\r\n"x\r\ny",c\r\n\r\nq,r';
    const file = await parseCsv(text);
    expect(file.columns).toEqual(["name", "env"]);
    expect(file.rows).toEqual([
      { row: 2, values: { name: "a", env: "b" } },
      { row: 3, values: { name: "x\r\ny", env: "c" } },
      { row: 6, values: { name: "q", env: "r" } },
    ]);
  });

  it("keeps an empty cell as an empty string, for the API to judge", async () => {
    expect((await parseCsv("name,plan\n,pro\n")).rows).toEqual([{ row: 2, values: { name: "", plan: "pro" } }]);
  });

  it("refuses a header that names a column twice, and a row of the wrong length", async () => {
    await expect(parseCsv("name,name\na,b\n", "t.csv")).rejects.toThrow(
      new UsageError('t.csv: the header names "name" twice'),
    );
    await expect(parseCsv("name,env\na\n", "t.csv")).rejects.toThrow(/t\.csv: .*line 2/);
  });
});

describe("parseJsonl", async () => {
  it("takes one object a line and numbers rows by line, skipping blank ones", async () => {
    const file = await parseJsonl('{"a":1}\n\n{"a":{"b":"c"}}\r\n');
    expect(file.rows).toEqual([
      { row: 1, values: { a: 1 } },
      { row: 3, values: { a: { b: "c" } } },
    ]);
  });

  it("names the line that is not a JSON object", async () => {
    await expect(parseJsonl('{"a":1}\n[1]\n', "t.jsonl")).rejects.toThrow("t.jsonl: line 2 is not a JSON object");
    await expect(parseJsonl('{"a":1}\n{oops\n', "t.jsonl")).rejects.toThrow(/^t\.jsonl: line 2 is not JSON/);
  });
});
