// An interrupted `provisioner bulk` run, re-run with the same file, picks up where it was:
// real CLI processes killed mid-run, against the real API, workers and sandbox.
import type { ChildProcess } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { afterAll, beforeAll, expect, it } from "vitest";
import { type CliResult, type Stack, startStack, uniqueName, writeInput } from "./test-support.ts";

let stack: Stack;
beforeAll(async () => {
  stack = await startStack();
});
afterAll(async () => {
  await stack?.close();
});

const template = JSON.stringify({ envId: "env_resume", name: "{{name}}", type: "postgres", password: "{{pw}}" });
const csvOf = (names: string[]) => `${["name,pw", ...names.map((name) => `${name},pw-${name}`)].join("\n")}\n`;
const show = (result: CliResult) => `exit ${result.code}\n--- stdout\n${result.stdout}\n--- stderr\n${result.stderr}`;
const created = (name: string) => stack.sandbox.state.stats().creations.bridgeport[`env_resume/${name}`];
const count = (stdout: string, label: string) => Number(new RegExp(`^${label}\\s+(\\d+)`, "m").exec(stdout)?.[1]);

interface StateLine {
  kind: string;
  batchId?: string | null;
}
const stateOf = (file: string): StateLine[] =>
  existsSync(`${file}.bulk-state.jsonl`)
    ? readFileSync(`${file}.bulk-state.jsonl`, "utf8")
        .split("\n")
        .flatMap((line) => {
          try {
            return [JSON.parse(line) as StateLine];
          } catch {
            return [];
          }
        })
    : [];

/** Runs `bulk FILE` and sends `signal` to it as soon as its state file shows a line of `kind`. */
function bulkUntil(file: string, kind: string, signal: NodeJS.Signals): Promise<CliResult> {
  let timer: NodeJS.Timeout | undefined;
  const watch = (child: ChildProcess) => {
    timer = setInterval(() => {
      if (stateOf(file).some((line) => line.kind === kind)) {
        clearInterval(timer);
        child.kill(signal);
      }
    }, 5);
  };
  return stack
    .cli(["bulk", file, "--provider", "bridgeport", "--template", template], { onSpawn: watch })
    .finally(() => clearInterval(timer));
}

/** The API's requests from `from` on. */
const requestsSince = (from: number) => stack.requests.slice(from);

it("after SIGKILL mid-submission, a re-run sends only the requests not accepted and accounts for every row once", async () => {
  const names = Array.from({ length: 3000 }, () => uniqueName("rk-"));
  const file = writeInput(stack, "killed.csv", csvOf(names));

  const killed = await bulkUntil(file, "chunk", "SIGKILL");
  expect(killed.code, show(killed)).toBeNull();
  const accepted = stateOf(file).filter((line) => line.kind === "chunk").length;
  expect(accepted, show(killed)).toBeGreaterThanOrEqual(1);
  expect(accepted, show(killed)).toBeLessThan(3);

  const mark = stack.requests.length;
  const rerun = await stack.cli(["bulk", file, "--provider", "bridgeport", "--template", template]);
  expect(rerun.code, show(rerun)).toBe(0);
  expect(rerun.stderr).toContain(`resuming: ${accepted} request(s) were accepted by an earlier run of this file`);
  // Only the requests the first run had not recorded: a request in flight at the kill is sent again (its rows dedupe).
  expect(requestsSince(mark).filter((request) => request === "POST /v1/jobs/bulk")).toHaveLength(3 - accepted);
  // Every row once: the first run's accepted rows as created, a resent request's as already queued.
  const [made, repeats] = [count(rerun.stdout, "created"), count(rerun.stdout, "deduplicated")];
  expect(made + repeats, show(rerun)).toBe(3000);
  expect(made).toBeGreaterThanOrEqual(1000 * accepted);
  expect(rerun.stdout).toMatch(/^dead\s+0$/m);
  expect(rerun.stdout).toMatch(/^rejected\s+0$/m);
  expect(names.filter((name) => created(name) !== 1)).toEqual([]);
  expect(existsSync(`${file}.bulk-state.jsonl`)).toBe(false);
}, 120_000);

it("after Ctrl-C while waiting, a re-run queues nothing and never asks again about a batch it saw finished", async () => {
  // The last row's job hangs at the provider, so its batch cannot finish with the first.
  stack.setFaults([{ provider: "bridgeport", fault: "hang", namePrefix: "rs-slow-" }]);
  const names = [...Array.from({ length: 1000 }, () => uniqueName("rs-")), uniqueName("rs-slow-")];
  const file = writeInput(stack, "waited.csv", csvOf(names));

  const interrupted = await bulkUntil(file, "finished", "SIGINT");
  stack.setFaults([]);
  expect(interrupted.code, show(interrupted)).toBe(130);
  expect(interrupted.stderr).toContain("run the same file again to wait for the rest");
  const state = stateOf(file);
  const finished = state.filter((line) => line.kind === "finished").map((line) => line.batchId as string);
  const batches = state.filter((line) => line.kind === "chunk").map((line) => line.batchId as string);
  expect(finished).toHaveLength(1);
  expect(batches).toHaveLength(2);

  const mark = stack.requests.length;
  const rerun = await stack.cli(["bulk", file, "--provider", "bridgeport", "--template", template]);
  expect(rerun.stderr).toContain("resuming: 2 request(s) were accepted by an earlier run of this file");
  const requests = requestsSince(mark);
  expect(requests.filter((request) => request.startsWith("POST "))).toEqual([]);
  // The finished batch is not polled again; the other one is.
  const polls = (id: string) => requests.filter((request) => request === `GET /v1/batches/${id}?deadLimit=1`);
  expect(polls(finished[0] as string)).toEqual([]);
  expect(polls(batches.find((id) => id !== finished[0]) as string).length).toBeGreaterThan(0);
  // Every row once; the hung row either succeeded on its retry or died of the hang.
  const ended = count(rerun.stdout, "created") + count(rerun.stdout, "deduplicated") + count(rerun.stdout, "dead");
  expect(ended, show(rerun)).toBe(1001);
  expect(count(rerun.stdout, "deduplicated"), show(rerun)).toBe(0);
  expect(names.slice(0, 1000).filter((name) => created(name) !== 1)).toEqual([]);
}, 120_000);
