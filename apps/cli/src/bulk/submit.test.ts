import { expect, it } from "vitest";
import type { PreparedRow } from "./prepare.ts";
import { chunkRows as streamChunks } from "./submit.ts";

/** The chunks' rows, as arrays. */
async function chunkRows(all: PreparedRow[], limits?: { maxBytes: number }): Promise<PreparedRow[][]> {
  const chunks: PreparedRow[][] = [];
  for await (const chunk of streamChunks(
    (async function* () {
      yield* all;
    })(),
    limits,
  ))
    chunks.push(chunk.rows);
  return chunks;
}

const rows = (count: number, name = "x"): PreparedRow[] =>
  Array.from({ length: count }, (_, i) => ({
    row: i + 2,
    item: { provider: "prisma", input: { projectId: "p", name }, idempotencyKey: `k${i}` },
  }));

it("sends at most 1,000 rows a request", async () => {
  expect((await chunkRows(rows(2500))).map((chunk) => chunk.length)).toEqual([1000, 1000, 500]);
  expect((await chunkRows(rows(1000))).map((chunk) => chunk.length)).toEqual([1000]);
});

it("keeps a request under the byte budget, and sends an oversize row alone", async () => {
  const big = rows(10, "n".repeat(1000));
  const chunks = await chunkRows(big, { maxBytes: 3500 });
  expect(chunks.map((chunk) => chunk.length)).toEqual([3, 3, 3, 1]);
  expect((await chunkRows(big, { maxBytes: 10 })).every((chunk) => chunk.length === 1)).toBe(true);
  expect(chunks.flat().map((row) => row.row)).toEqual(big.map((row) => row.row));
});
