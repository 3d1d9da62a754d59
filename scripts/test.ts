// `npm test`: Redis by the same rule as `npm start` (a private one when none answers and
// redis-server is on the PATH, stopped afterwards), then type-check, lint and every test.
import { spawnSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { z } from "zod";
import { ensureRedis } from "./redis.ts";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const redisUrl = z.string().default("redis://127.0.0.1:6379").parse(process.env.REDIS_URL);
const stopRedis = await ensureRedis(redisUrl, join(root, ".data", "test"));

// Each package's vitest writes a JSON report here; the totals make the closing line.
const reports = [
  ...["apps", "packages"].flatMap((group) => readdirSync(join(root, group)).map((name) => join(root, group, name))),
  join(root, "chaos"),
].map((workspace) => join(workspace, ".turbo", "vitest-report.json"));
for (const report of reports) rmSync(report, { force: true });

const steps: [string, string[]][] = [
  ["npx", ["tsc", "-p", "tsconfig.tools.json"]],
  // Two at a time: the suites that kill processes and time drains share the machine's two cores.
  ["npx", ["turbo", "run", "typecheck", "lint", "test", "--concurrency=2", ...process.argv.slice(2)]],
];
let status = 0;
for (const [command, args] of steps) {
  const result = spawnSync(command, args, {
    cwd: root,
    stdio: "inherit",
    env: { ...process.env, REDIS_URL: redisUrl },
  });
  status = result.status ?? 1;
  if (status !== 0) break;
}
stopRedis();

const written = reports.filter((path) => existsSync(path));
let passed = 0;
let failed = 0;
let skipped = 0;
for (const report of written) {
  const totals = JSON.parse(readFileSync(report, "utf8")) as {
    numPassedTests: number;
    numFailedTests: number;
    numPendingTests: number;
  };
  passed += totals.numPassedTests;
  failed += totals.numFailedTests;
  skipped += totals.numPendingTests;
}
if (written.length > 0) console.log(`\n${passed} passed, ${failed} failed${skipped > 0 ? `, ${skipped} skipped` : ""}`);
process.exit(status !== 0 ? status : failed > 0 ? 1 : 0);
