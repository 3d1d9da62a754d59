import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { run } from "./cli.ts";
import type { Io } from "./io.ts";
import { type CliResult, type Stack, startStack, uniqueName, writeInput } from "./test-support.ts";

let stack: Stack;
beforeAll(async () => {
  stack = await startStack();
});
afterAll(async () => {
  await stack?.close();
});

const bridgeportTemplate = JSON.stringify({ envId: "env_cli", name: "{{name}}", type: "postgres", password: "{{pw}}" });
const created = (name: string) => stack.sandbox.state.stats().creations.bridgeport[`env_cli/${name}`];
const csvOf = (names: string[]) => ["name,pw", ...names.map((name) => `${name},pw-${name}`)].join("\n");
const bulk = (file: string, ...more: string[]) =>
  stack.cli(["bulk", file, "--provider", "bridgeport", "--template", bridgeportTemplate, ...more]);
const show = (result: CliResult) => `exit ${result.code}\n--- stdout\n${result.stdout}\n--- stderr\n${result.stderr}`;

/** Polls `jobs get --json` (through the CLI, so it is exercised too) until the job has ended. */
async function waitForJob(id: string): Promise<{ status: string; result: { outcome: string } | null }> {
  for (let i = 0; i < 100; i++) {
    const { stdout } = await stack.cli(["jobs", "get", id, "--json"]);
    const job = JSON.parse(stdout) as { status: string; result: { outcome: string } | null };
    if (job.status === "succeeded" || job.status === "dead") return job;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`job ${id} did not end`);
}

describe("provisioner bulk", () => {
  const names = [uniqueName("csv-"), uniqueName("csv-"), uniqueName("csv-")];
  let file: string;

  it("creates a database for every row of a CSV file and says so, reading no job when the batch adopted none", async () => {
    file = writeInput(stack, "tenants.csv", `${csvOf(names)}\n`);
    const before = stack.requests.length;
    const result = await bulk(file);
    expect(stack.requests.slice(before).filter((request) => request.startsWith("GET /v1/jobs/"))).toEqual([]);
    expect(result.code, show(result)).toBe(0);
    expect(result.stdout).toMatch(/^created\s+3$/m);
    expect(result.stdout).toMatch(/^deduplicated\s+0 /m);
    expect(result.stdout).toMatch(/^dead\s+0$/m);
    expect(result.stdout).toMatch(/^rejected\s+0$/m);
    // stderr is not a terminal here: plain progress lines instead of a bar.
    expect(result.stderr).toMatch(/waiting: 3\/3 done/);
    for (const name of names) expect(created(name)).toBe(1);
  });

  it("queues nothing new when the same file runs again", async () => {
    const before = stack.sandbox.state.stats().creations.bridgeport;
    const result = await bulk(file);
    expect(result.code, show(result)).toBe(0);
    expect(result.stdout).toMatch(/^created\s+0$/m);
    expect(result.stdout).toMatch(/^deduplicated\s+3 \(3 already queued, 0 already at the provider\)$/m);
    expect(stack.sandbox.state.stats().creations.bridgeport).toEqual(before);
  });

  it("tells rows whose database the provider already had from rows it created", async () => {
    const fresh = [uniqueName("csv-"), uniqueName("csv-")];
    const existing = uniqueName("csv-");
    const response = await fetch(`${stack.sandbox.url}/bridgeport/api/environments/env_cli/databases`, {
      method: "POST",
      headers: { authorization: "Bearer bport_pat_sandbox", "content-type": "application/json" },
      body: JSON.stringify({ name: existing, type: "postgres" }),
    });
    expect(response.ok).toBe(true);
    const result = await bulk(writeInput(stack, "some-exist.csv", `${csvOf([...fresh, existing])}\n`));
    expect(result.code, show(result)).toBe(0);
    expect(result.stdout).toMatch(/^created\s+2$/m);
    expect(result.stdout).toMatch(/^deduplicated\s+1 \(0 already queued, 1 already at the provider\)$/m);
  });

  it("fills the template from a JSONL file, values and nested paths", async () => {
    const tenants = [uniqueName("jsonl-"), uniqueName("jsonl-")];
    const lines = tenants.map((name) => JSON.stringify({ tenant: { name }, project: "proj_cli1" }));
    const path = writeInput(stack, "tenants.jsonl", `${lines.join("\n")}\n\n`);
    const result = await stack.cli([
      "bulk",
      path,
      "--provider",
      "prisma",
      "--template",
      JSON.stringify({ projectId: "{{project}}", name: "{{tenant.name}}" }),
    ]);
    expect(result.code, show(result)).toBe(0);
    expect(result.stdout).toMatch(/^created\s+2$/m);
    // Prisma's databases are counted by logicalId (derived from the job), one per row.
    const prisma = Object.entries(stack.sandbox.state.stats().creations.prisma);
    expect(prisma.filter(([key]) => key.startsWith("proj_cli1/")).map(([, count]) => count)).toEqual([1, 1]);
  });

  it("reports rows the API rejects (and rows missing a value) by row number, and queues the rest", async () => {
    const good = [uniqueName("ok-"), uniqueName("ok-")];
    const lines = [
      JSON.stringify({ name: good[0], pw: "x" }),
      JSON.stringify({ name: "", pw: "x" }),
      JSON.stringify({ nom: "typo", pw: "x" }),
      JSON.stringify({ name: good[1], pw: "x" }),
    ];
    const result = await bulk(writeInput(stack, "some-bad.jsonl", lines.join("\n")));
    expect(result.code, show(result)).toBe(1);
    expect(result.stdout).toMatch(/^created\s+2$/m);
    expect(result.stdout).toMatch(/^rejected\s+2$/m);
    expect(result.stdout).toMatch(/^ {2}row 2: VALIDATION_ERROR: .+ \(field: input\.name\)$/m);
    expect(result.stdout).toMatch(
      /^ {2}row 3: MISSING_VALUE: the row has no value for \{\{name\}\} \(field: input\.name\)$/m,
    );
    for (const name of good) expect(created(name)).toBe(1);
  });

  it("lists rows whose provider refuses them as dead, with the error, and exits 1", async () => {
    stack.setFaults([{ provider: "bridgeport", fault: "error", status: 400, namePrefix: "bad-" }]);
    const ok = uniqueName("ok-");
    const bad = uniqueName("bad-");
    const result = await bulk(writeInput(stack, "with-dead.csv", csvOf([ok, bad])));
    stack.setFaults([]);
    expect(result.code, show(result)).toBe(1);
    expect(result.stdout).toMatch(/^created\s+1$/m);
    expect(result.stdout).toMatch(/^dead\s+1$/m);
    expect(result.stdout).toMatch(/^ {2}row 3: bridgeport-\S+: invalid 400 \S+: .+$/m);
    expect(created(ok)).toBe(1);
    expect(created(bad)).toBeUndefined();
  });

  it("with --no-wait, prints the counts and batch ids and leaves", async () => {
    const result = await bulk(
      writeInput(stack, "no-wait.csv", csvOf([uniqueName("nw-"), uniqueName("nw-")])),
      "--no-wait",
    );
    expect(result.code, show(result)).toBe(0);
    expect(result.stdout).toMatch(/^queued\s+2$/m);
    expect(result.stdout).toMatch(/^deduplicated\s+0$/m);
    expect(result.stdout).toMatch(/^ {2}[0-9a-f-]{36} \(2 jobs\)$/m);
    expect(result.stderr).not.toMatch(/waiting/);
  });

  it("stops waiting on Ctrl-C, leaving the jobs to the workers, exit 130", async () => {
    // The provider hangs for these names: the jobs cannot end while the CLI waits.
    stack.setFaults([{ provider: "bridgeport", fault: "hang", namePrefix: "slow-" }]);
    const result = await stack.cli(
      [
        "bulk",
        writeInput(stack, "slow.csv", csvOf([uniqueName("slow-")])),
        "--provider",
        "bridgeport",
        "--template",
        bridgeportTemplate,
      ],
      {
        interruptWhen: /waiting: 0\/1 done/,
      },
    );
    stack.setFaults([]);
    expect(result.code, show(result)).toBe(130);
    expect(result.stderr).toMatch(
      /stopped waiting; the jobs go on\. Follow them with GET \/v1\/batches\/ID:\n {2}[0-9a-f-]{36}\n$/,
    );
    expect(result.stdout).toBe("");
  });

  it("refuses a template that names a column the CSV lacks, before sending anything", async () => {
    const path = writeInput(stack, "no-column.csv", "tenant\nx\n");
    const result = await bulk(path);
    expect(result.code, show(result)).toBe(2);
    expect(result.stderr).toContain('the file has no column "name", "pw"');
  });
});

describe("provisioner jobs and dlq", () => {
  let deadId: string;
  const doomed = uniqueName("bad-");

  it("shows a dead job and its dead letter, then replays it once the fault is gone", async () => {
    stack.setFaults([{ provider: "bridgeport", fault: "error", status: 400, namePrefix: "bad-" }]);
    const run = await bulk(writeInput(stack, "doomed.csv", csvOf([doomed])));
    expect(run.code, show(run)).toBe(1);
    deadId = /row 2: (\S+):/.exec(run.stdout)?.[1] as string;
    expect(deadId).toMatch(/^bridgeport-/);

    const job = await stack.cli(["jobs", "get", deadId]);
    expect(job.code, show(job)).toBe(0);
    expect(job.stdout).toMatch(/^status\s+dead$/m);
    expect(job.stdout).toMatch(/^attempts\s+1 of 2$/m);
    expect(job.stdout).toMatch(/^ {2}#1 \S+ invalid 400 /m);
    // Secrets stay out: the API removes them, the CLI adds none.
    expect(job.stdout).not.toContain(`pw-${doomed}`);

    const list = await stack.cli(["dlq", "list", "--provider", "bridgeport"]);
    expect(list.code, show(list)).toBe(0);
    expect(list.stdout).toMatch(/^ID\s+PROVIDER\s+KIND\s+CODE\s+DIED AT\s+MESSAGE$/m);
    expect(list.stdout).toMatch(new RegExp(`^${deadId}\\s+bridgeport\\s+invalid\\s+`, "m"));

    const entry = await stack.cli(["dlq", "show", deadId]);
    expect(entry.code, show(entry)).toBe(0);
    expect(entry.stdout).toMatch(/^reason\s+invalid 400 /m);
    expect(entry.stdout).toContain(`"name":"${doomed}"`);
    expect(entry.stdout).toMatch(/^errors:\n {2}#1 /m);

    stack.setFaults([]);
    const replay = await stack.cli(["dlq", "replay", deadId]);
    expect(replay.code, show(replay)).toBe(0);
    expect(replay.stdout).toBe(`queued ${deadId} again\n`);
    expect((await waitForJob(deadId)).status).toBe("succeeded");
    expect(created(doomed)).toBe(1);
  });

  it("prints the raw job with --json", async () => {
    const result = await stack.cli(["jobs", "get", deadId, "--json"]);
    const job = JSON.parse(result.stdout);
    expect(job).toMatchObject({ id: deadId, status: "succeeded", result: { outcome: "created" } });
  });

  it("replays every dead letter with --all", async () => {
    stack.setFaults([{ provider: "bridgeport", fault: "error", status: 400, namePrefix: "bad-" }]);
    const path = writeInput(stack, "doomed-all.csv", csvOf([uniqueName("bad-"), uniqueName("bad-")]));
    const run = await bulk(path);
    expect(run.code, show(run)).toBe(1);
    const ids = [...run.stdout.matchAll(/row \d+: (\S+):/g)].map((match) => match[1] as string);
    expect(ids).toHaveLength(2);
    stack.setFaults([]);

    const replay = await stack.cli(["dlq", "replay", "--all"]);
    expect(replay.code, show(replay)).toBe(0);
    expect(replay.stdout).toMatch(/^queued \d+ dead letter\(s\) again$/m);
    for (const id of ids) {
      expect(replay.stdout).toContain(`  ${id}\n`);
      expect((await waitForJob(id)).status).toBe("succeeded");
    }
    // The same file again finds those jobs, now succeeded: nothing new, exit 0.
    const again = await bulk(path);
    expect(again.code, show(again)).toBe(0);
    expect(again.stdout).toMatch(/^deduplicated\s+2 \(2 already queued/m);
  });

  it("purges only with --yes when no one can be asked", async () => {
    stack.setFaults([{ provider: "bridgeport", fault: "error", status: 400, namePrefix: "bad-" }]);
    const run = await bulk(writeInput(stack, "trash.csv", csvOf([uniqueName("bad-"), uniqueName("bad-")])));
    stack.setFaults([]);
    const ids = [...run.stdout.matchAll(/row \d+: (\S+):/g)].map((match) => match[1] as string);
    expect(ids).toHaveLength(2);

    const refused = await stack.cli(["dlq", "purge"]);
    expect(refused.code, show(refused)).toBe(2);
    expect(refused.stderr).toContain("refusing to discard dead letters without --yes");
    const listed = (await stack.cli(["dlq", "list"])).stdout;
    for (const id of ids) expect(listed).toContain(id);

    const purged = await stack.cli(["dlq", "purge", "--yes"]);
    expect(purged.code, show(purged)).toBe(0);
    expect(purged.stdout).toMatch(/^discarded \d+ dead letter\(s\)$/m);
    expect((await stack.cli(["dlq", "list"])).stdout).toBe("no dead letters\n");
  });
});

describe("dlq purge, for good", () => {
  it("removes the dead jobs with their dead letters, so their rows queue anew", async () => {
    stack.setFaults([{ provider: "bridgeport", fault: "error", status: 400, namePrefix: "gone-" }]);
    const path = writeInput(stack, "gone.csv", csvOf([uniqueName("gone-")]));
    const run = await bulk(path);
    stack.setFaults([]);
    const [id] = [...run.stdout.matchAll(/row \d+: (\S+):/g)].map((match) => match[1] as string);
    expect(id, show(run)).toBeDefined();

    const purged = await stack.cli(["dlq", "purge", "--yes", "--provider", "bridgeport"]);
    expect(purged.code, show(purged)).toBe(0);
    const gone = await stack.cli(["jobs", "get", id as string]);
    expect(gone.code, show(gone)).toBe(1);
    expect(gone.stderr).toMatch(/^error: NOT_FOUND: /);
    const again = await bulk(path);
    expect(again.code, show(again)).toBe(0);
    expect(again.stdout).toMatch(/^created\s+1$/m);
  });
});

describe("dlq purge at a terminal", () => {
  /** The CLI in this process, with a person at the keyboard who answers `answer`. */
  async function runAtTerminal(argv: string[], answer: string) {
    let stdout = "";
    let asked = "";
    const io: Io = {
      stdout: { write: (text: string) => (stdout += text) },
      stderr: { write: () => true },
      stderrTty: undefined,
      stdinIsTty: true,
      ask: async (question) => {
        asked = question;
        return answer;
      },
    };
    const code = await run(argv, { env: { PROVISIONER_API_URL: stack.url, PROVISIONER_TOKEN: stack.token }, io });
    stack.outputs.push(stdout, asked);
    return { code, stdout, asked };
  }

  it("asks first, and discards only on yes", async () => {
    stack.setFaults([{ provider: "bridgeport", fault: "error", status: 400, namePrefix: "bad-" }]);
    await bulk(writeInput(stack, "asked.csv", csvOf([uniqueName("bad-")])));
    stack.setFaults([]);

    const declined = await runAtTerminal(["dlq", "purge", "--provider", "bridgeport"], "n");
    expect(declined).toEqual({
      code: 1,
      stdout: "nothing discarded\n",
      asked: "Discard 1 dead letter(s)? This cannot be undone. [y/N] ",
    });
    const accepted = await runAtTerminal(["dlq", "purge", "--provider", "bridgeport"], "y");
    expect(accepted.code).toBe(0);
    expect(accepted.stdout).toBe("discarded 1 dead letter(s)\n");
  });
});

describe("errors and secrets", () => {
  it("stops with one clear line, exit 2, when PROVISIONER_TOKEN is missing", async () => {
    const result = await stack.cli(["dlq", "list"], { env: { PROVISIONER_TOKEN: undefined } });
    expect(result.code).toBe(2);
    expect(result.stdout).toBe("");
    expect(result.stderr).toBe("error: PROVISIONER_TOKEN is not set: export the API token (npm start prints one)\n");
  });

  it("shows the API's error code, message and request id, exit 1", async () => {
    const result = await stack.cli(["jobs", "get", "bridgeport-nope"]);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/^error: NOT_FOUND: .+\n {2}request id: \S+\n$/);
    const wrong = await stack.cli(["dlq", "list"], { env: { PROVISIONER_TOKEN: "not-the-token" } });
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toMatch(/^error: UNAUTHORIZED: /);
    expect(wrong.stderr).not.toContain("not-the-token");
  });

  it("answers a usage mistake with exit 2 and a pointer to --help", async () => {
    const result = await stack.cli(["bulk", "x.csv", "--provider", "bridgeport", "--frobnicate"]);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/Unknown option '--frobnicate'[\s\S]*provisioner bulk --help/);
    const help = await stack.cli(["dlq", "replay", "--help"], { env: { PROVISIONER_TOKEN: undefined } });
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/^Usage: provisioner dlq replay ID/);
  });

  it("never prints the token", () => {
    expect(stack.outputs.length).toBeGreaterThan(30);
    expect(stack.outputs.filter((output) => output.includes(stack.token))).toEqual([]);
  });
});
