// The input file is streamed: a run holds one request's rows, whatever the file's size. Proved
// in a real process whose heap is capped well below what the file's rows take when held.
import { spawnSync } from "node:child_process";
import { createWriteStream, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, expect, it } from "vitest";

// Enough rows that holding them needs well over twice the cap, while a streamed run needs about half of it.
const rows = 200_000;
const heapMb = 48;
const dir = mkdtempSync(join(tmpdir(), "provisioner-stream-"));
const csv = join(dir, "tenants.csv");
const jsonl = join(dir, "tenants.jsonl");

async function write(path: string, header: string | undefined, line: (i: number) => string) {
  const out = createWriteStream(path);
  if (header) out.write(`${header}\n`);
  for (let i = 0; i < rows; i++) {
    if (!out.write(`${line(i)}\n`)) await new Promise<void>((resolve) => out.once("drain", () => resolve()));
  }
  await new Promise<void>((resolve) => out.end(() => resolve()));
}

beforeAll(async () => {
  await write(csv, "name,pw,region", (i) => `tenant-${i},secret-${i},eu-west-${i % 7}`);
  await write(jsonl, undefined, (i) => JSON.stringify({ tenant: { name: `tenant-${i}` }, pw: `secret-${i}` }));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const module = (name: string) => JSON.stringify(fileURLToPath(new URL(name, import.meta.url)));

/** Reads and chunks `file` as `provisioner bulk` does, in a node with a capped heap; `hold` keeps every chunk. */
function chunkInCappedHeap(file: string, template: Record<string, string>, hold: boolean) {
  const script = `
    import { prepareFile } from ${module("./prepare.ts")};
    import { chunkRows } from ${module("./submit.ts")};
    const plan = { provider: "bridgeport", account: undefined, template: ${JSON.stringify(template)}, keyColumn: undefined };
    const held = [];
    let rows = 0, chunks = 0;
    for await (const chunk of chunkRows(prepareFile(${JSON.stringify(file)}, plan))) {
      rows += chunk.rows.length;
      chunks += 1;
      if (${hold}) held.push(chunk);
    }
    console.log(JSON.stringify({ rows, chunks, maxRssMb: Math.round(process.resourceUsage().maxRSS / 1024) }));`;
  return spawnSync(process.execPath, [`--max-old-space-size=${heapMb}`, "--input-type=module", "-e", script], {
    encoding: "utf8",
  });
}

const bridgeport = { envId: "env_1", name: "{{name}}", type: "postgres", password: "{{pw}}" };

it(`streams a ${rows}-row CSV and JSONL file through a ${heapMb} MB heap, one request's rows at a time`, {
  timeout: 90_000,
}, () => {
  for (const [file, template] of [
    [csv, bridgeport],
    [jsonl, { ...bridgeport, name: "{{tenant.name}}" }],
  ] as const) {
    const run = chunkInCappedHeap(file, template, false);
    expect(run.status, run.stderr).toBe(0);
    expect(JSON.parse(run.stdout)).toMatchObject({ rows, chunks: rows / 1000 });
  }
});

it("runs out of that heap when the rows are held, so the cap does measure it", { timeout: 60_000 }, () => {
  const run = chunkInCappedHeap(csv, bridgeport, true);
  expect(run.status).not.toBe(0);
  expect(run.stderr).toMatch(/heap out of memory/);
});
