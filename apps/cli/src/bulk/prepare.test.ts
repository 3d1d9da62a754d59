import { Readable } from "node:stream";
import { describe, expect, it } from "vitest";
import { UsageError } from "../errors.ts";
import { type BulkPlan, checkColumns, type PreparedRow, prepareRow, type RowRejection } from "./prepare.ts";
import { parseCsv, parseJsonl, type Row } from "./rows.ts";

const source = (text: string) => Readable.from([Buffer.from(text, "utf8")]);
async function prepareRows(rows: AsyncIterable<Row>, plan: BulkPlan) {
  const prepared: PreparedRow[] = [];
  const rejected: RowRejection[] = [];
  for await (const row of rows) {
    const result = prepareRow(row, plan);
    if ("code" in result) rejected.push(result);
    else prepared.push(result);
  }
  return { prepared, rejected };
}

const plan: BulkPlan = {
  provider: "bridgeport",
  account: undefined,
  template: { envId: "env_1", name: "{{name}}", type: "postgres" },
  keyColumn: undefined,
};

describe("prepareRows", async () => {
  it("renders each row with its key and row number, leaving the account to the API when not given", async () => {
    const { prepared, rejected } = await prepareRows(parseCsv(source("name\nt-1\nt-2\n")), plan);
    expect(rejected).toEqual([]);
    expect(prepared.map((p) => p.row)).toEqual([2, 3]);
    expect(prepared[0]?.item).toEqual({
      provider: "bridgeport",
      input: { envId: "env_1", name: "t-1", type: "postgres" },
      idempotencyKey: expect.stringMatching(/^cli:/),
    });
    // `--account default` names the same jobs as no --account at all.
    const explicit = (await prepareRows(parseCsv(source("name\nt-1\n")), { ...plan, account: "default" })).prepared[0]
      ?.item;
    expect(explicit?.account).toBe("default");
    expect(explicit?.idempotencyKey).toBe(prepared[0]?.item.idempotencyKey);
  });

  it("refuses, before anything is sent, a template or key column the CSV header lacks", async () => {
    expect(() => checkColumns(["tenant"], { ...plan, keyColumn: "key" })).toThrow(
      new UsageError('the file has no column "name", "key"', "its header is: tenant"),
    );
  });

  it("takes the key from --key-column, and rejects a row whose key is empty", async () => {
    const file = parseJsonl(source('{"name":"a","key":"k-1"}\n{"name":"b","key":""}\n{"name":"c","key":7}\n'));
    const { prepared, rejected } = await prepareRows(file, { ...plan, keyColumn: "key" });
    expect(prepared.map((p) => [p.row, p.item.idempotencyKey])).toEqual([
      [1, "k-1"],
      [3, "7"],
    ]);
    expect(rejected).toEqual([
      { row: 2, code: "MISSING_VALUE", message: "the row has no value for {{key}}", field: "idempotencyKey" },
    ]);
  });

  it("rejects a JSONL row that lacks a placeholder's value, naming the field", async () => {
    const { prepared, rejected } = await prepareRows(parseJsonl(source('{"name":"a"}\n{"nom":"b"}\n')), plan);
    expect(prepared).toHaveLength(1);
    expect(rejected).toEqual([
      { row: 2, code: "MISSING_VALUE", message: "the row has no value for {{name}}", field: "input.name" },
    ]);
  });
});
