import { getJobSecrets } from "@provisioner/queue";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { type Harness, inputFor, startHarness } from "./test-support.ts";

let harness: Harness;

beforeAll(async () => {
  harness = await startHarness();
  await harness.startWorkers({ lockDurationMs: 5_000, stalledIntervalMs: 5_000 });
});
afterAll(() => harness.close());
beforeEach(() => harness.setFaults([]));

const token = { authorization: "Bearer prisma-sandbox-token" };

async function prismaGet(path: string): Promise<{ data: Record<string, unknown>[] }> {
  const response = await fetch(`${harness.sandbox.url}/prisma${path}`, { headers: token });
  expect(response.status).toBe(200);
  return (await response.json()) as { data: Record<string, unknown>[] };
}

/** The live connections of the job's database, as Prisma's own list call shows them. */
async function connectionsOf(databaseId: string): Promise<{ id: string; name: string }[]> {
  const { data } = await prismaGet(`/v1/databases/${databaseId}/connections`);
  return data as { id: string; name: string }[];
}

async function connectionStringOf(jobId: string): Promise<string | undefined> {
  return (await getJobSecrets(harness.queues, jobId))?.result.directConnectionString;
}

describe("Prisma credentials after an adoption", () => {
  it("a job whose create answer was lost ends deduplicated with a connection string in its secrets", async () => {
    harness.setFaults([{ provider: "prisma", fault: "lost_response", times: 1 }]);
    const id = await harness.submit({ provider: "prisma", input: inputFor.prisma() });
    const view = await harness.waitFor(id);
    expect(view.status).toBe("succeeded");
    expect(view.result?.outcome).toBe("deduplicated");
    expect(await connectionStringOf(id)).toMatch(/^postgres:\/\/[^:]+:[^@]+@db\.prisma\.io:5432\//);
    // The default connection whose answer was lost, and the one minted for the job.
    expect(await connectionsOf(view.result?.resource.id as string)).toHaveLength(2);
  });

  it("a job that adopts another key's database on a 409 gets its own connection string", async () => {
    const input = { ...inputFor.prisma(), logicalId: `adopted-${Date.now()}` };
    const first = await harness.submit({ provider: "prisma", input, idempotencyKey: "c-first" });
    const second = await harness.submit({ provider: "prisma", input, idempotencyKey: "c-second" });
    const views = [await harness.waitFor(first), await harness.waitFor(second)];
    expect(views.map((view) => view.result?.outcome).sort()).toEqual(["created", "deduplicated"]);
    const strings = [await connectionStringOf(first), await connectionStringOf(second)];
    for (const value of strings) expect(value).toMatch(/^postgres:\/\//);
    expect(strings[0]).not.toBe(strings[1]);
  });

  it("a lost answer to the connection mint still leaves one extra connection for the job", async () => {
    harness.setFaults([
      { provider: "prisma", fault: "lost_response", times: 1 },
      // The mint's body names the connection after the job; no database name starts so.
      { provider: "prisma", fault: "lost_response", times: 1, namePrefix: "provisioner-job-" },
    ]);
    const id = await harness.submit({ provider: "prisma", input: inputFor.prisma() });
    const view = await harness.waitFor(id);
    expect(view.status).toBe("succeeded");
    expect(view.errors.map((error) => error.kind)).toEqual(["transient", "transient"]);
    const names = (await connectionsOf(view.result?.resource.id as string)).map((connection) => connection.name);
    expect(names.filter((name) => name.startsWith("provisioner-job-"))).toHaveLength(1);
    expect(names).toHaveLength(2);
    expect(await connectionStringOf(id)).toMatch(/^postgres:\/\//);
  });
});
