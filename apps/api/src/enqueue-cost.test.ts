import { randomUUID } from "node:crypto";
import { createRedisConnection, openQueues, type QueueSet, submitJob, submitJobs } from "@provisioner/queue";
import { type PrivateRedis, startPrivateRedis } from "@provisioner/testing";
import { afterAll, beforeAll, expect, it } from "vitest";
import { testConfig, waitUntilReady } from "./test-support.ts";

// What a submission costs Redis, on a Redis of the test's own where nothing else runs: the
// bytes it receives (INFO stats) and the commands the API's connection sends.

let redis: PrivateRedis;
let queues: QueueSet;
let connection: ReturnType<typeof createRedisConnection>;

beforeAll(async () => {
  redis = await startPrivateRedis({ appendOnly: false });
  connection = createRedisConnection(redis.url, "api");
  await waitUntilReady(connection);
  queues = openQueues(testConfig(), connection);
});
afterAll(async () => {
  await queues.close();
  await connection.quit();
  await redis.close();
});

const request = (name = `db_${randomUUID().slice(0, 8)}`, idempotencyKey?: string) => ({
  provider: "bridgeport" as const,
  account: "default",
  input: { envId: "env_1", name, type: "postgres" as const, password: "s3cret" },
  ...(idempotencyKey === undefined ? {} : { idempotencyKey }),
});

async function info(section: "stats"): Promise<Map<string, number>> {
  const text = await connection.info(section);
  return new Map([...text.matchAll(/^(\w+):(\d+)\r?$/gm)].map((match) => [match[1] as string, Number(match[2])]));
}

/** Counts the commands the API's connection sends while `run` runs. */
async function sentWhile(run: () => Promise<unknown>): Promise<string[]> {
  const sent: string[] = [];
  const sendCommand = connection.sendCommand.bind(connection);
  connection.sendCommand = ((
    command: Parameters<typeof sendCommand>[0],
    stream?: Parameters<typeof sendCommand>[1],
  ) => {
    sent.push(command.name);
    return sendCommand(command, stream);
  }) as typeof connection.sendCommand;
  try {
    await run();
  } finally {
    connection.sendCommand = sendCommand;
  }
  return sent;
}

it("sends a job to Redis in a few kilobytes: the lane clock, then one MULTI that also tells new from repeat", async () => {
  await submitJobs(queues, [request()]); // the first submission loads the scripts
  const bytesBefore = (await info("stats")).get("total_net_input_bytes") ?? 0;
  const count = 20;
  const sent = await sentWhile(async () => {
    for (let i = 0; i < count; i++) await submitJobs(queues, [request()]);
  });
  const bytesAfter = (await info("stats")).get("total_net_input_bytes") ?? 0;
  // BullMQ's add script (26 KB) goes by its SHA once loaded on the connection.
  expect((bytesAfter - bytesBefore) / count).toBeLessThan(4_096);
  // No read-back after the MULTI: the index script answers what stood under each id.
  const perJob = sent.filter((name) => name !== "info").slice(0, 5);
  expect(perJob).toEqual(["get", "multi", "evalsha", "evalsha", "exec"]);
  expect(sent.filter((name) => name !== "info")).toHaveLength(5 * count);
});

it("answers a key repeated within one call: the same request is the first's job, a different one is refused", async () => {
  const key = `key-${randomUUID()}`;
  const same = request("db_same", key);
  const outcomes = await submitJobs(queues, [same, { ...same }, request("db_other", key)]);
  expect(outcomes[0]).toMatchObject({ accepted: true, deduplicated: false });
  expect(outcomes[1]).toMatchObject({ accepted: true, id: outcomes[0]?.id, deduplicated: true });
  expect(outcomes[2]).toMatchObject({ accepted: false, code: "IDEMPOTENCY_KEY_REUSED" });
});

it("reads an account's lane clock once for submissions that arrive while a read is on its way", async () => {
  const sent = await sentWhile(async () => {
    const outcomes = await Promise.all(Array.from({ length: 50 }, () => submitJobs(queues, [request()])));
    expect(outcomes.every((outcome) => outcome[0]?.accepted)).toBe(true);
    await submitJobs(queues, [request()]);
  });
  // One GET for the 50 that came together, one for the submission after them.
  expect(sent.filter((name) => name === "get")).toHaveLength(2);
  expect(sent.filter((name) => name === "exec")).toHaveLength(51);
});

it("queues the single submissions of one turn of the event loop in one MULTI, each with its own outcome", async () => {
  let outcomes: Awaited<ReturnType<typeof submitJob>>[] = [];
  const sent = await sentWhile(async () => {
    outcomes = await Promise.all(Array.from({ length: 50 }, () => submitJob(queues, request())));
  });
  expect(sent.filter((name) => name === "multi")).toHaveLength(1);
  expect(sent.filter((name) => name === "exec")).toHaveLength(1);
  expect(outcomes.every((outcome) => outcome.accepted && !outcome.deduplicated)).toBe(true);
  expect(new Set(outcomes.map((outcome) => outcome.id)).size).toBe(50);
  const queue = queues.queueOf("bridgeport", "default");
  const stored = await Promise.all(outcomes.map((outcome) => queue.getJob(outcome.id)));
  expect(stored.every((job) => job !== undefined)).toBe(true);
});

it("keeps the rules of a key within one turn: the same request is the first's job, a different one is refused", async () => {
  const key = `key-${randomUUID()}`;
  const same = request("db_turn_same", key);
  const [first, repeat, other] = await Promise.all([
    submitJob(queues, same),
    submitJob(queues, { ...same }),
    submitJob(queues, request("db_turn_other", key)),
  ]);
  expect(first).toMatchObject({ accepted: true, deduplicated: false });
  expect(repeat).toMatchObject({ accepted: true, id: first?.id, deduplicated: true });
  expect(other).toMatchObject({ accepted: false, code: "IDEMPOTENCY_KEY_REUSED" });
});

it("fails every submission of a turn when Redis refuses the turn's MULTI, and each can be repeated", async () => {
  const requests = [request(), request()];
  const exec = connection.multi.bind(connection);
  const failing = await Promise.allSettled(
    (() => {
      // The next MULTI's EXEC fails as a dropped connection would.
      connection.multi = ((...args: Parameters<typeof exec>) => {
        connection.multi = exec;
        const multi = exec(...args);
        multi.exec = () => Promise.reject(new Error("connection lost"));
        return multi;
      }) as typeof connection.multi;
      return requests.map((r) => submitJob(queues, r));
    })(),
  );
  connection.multi = exec;
  expect(failing.map((result) => result.status)).toEqual(["rejected", "rejected"]);
  const repeated = await Promise.all(requests.map((r) => submitJob(queues, r)));
  expect(repeated.every((outcome) => outcome.accepted && !outcome.deduplicated)).toBe(true);
});

it("sends a large submission as several MULTIs and still tells a key repeated across them", async () => {
  const key = `key-${randomUUID()}`;
  const requests = Array.from({ length: 250 }, () => request());
  requests[3] = request("db_chunk_same", key);
  requests[240] = request("db_chunk_same", key);
  requests[245] = request("db_chunk_other", key);
  let outcomes: Awaited<ReturnType<typeof submitJobs>> = [];
  const sent = await sentWhile(async () => {
    outcomes = await submitJobs(queues, requests);
  });
  expect(sent.filter((name) => name === "exec")).toHaveLength(3);
  expect(outcomes[3]).toMatchObject({ accepted: true, deduplicated: false });
  expect(outcomes[240]).toMatchObject({ accepted: true, id: outcomes[3]?.id, deduplicated: true });
  expect(outcomes[245]).toMatchObject({ accepted: false, code: "IDEMPOTENCY_KEY_REUSED" });
  expect(outcomes.filter((outcome) => outcome.accepted && !outcome.deduplicated)).toHaveLength(248);
});

it("answers repeats with their jobs' statuses, as BullMQ's getJobState reads them, from the MULTI that found them", async () => {
  const requests = Array.from({ length: 6 }, () => request());
  const first = await submitJobs(queues, requests);
  const queue = queues.queueOf("bridgeport", "default");
  const ids = first.map((outcome) => outcome.id);
  const [completed, failed, delayed, active, waiting] = ids as [string, string, string, string, string];
  // Each job moved where BullMQ keeps that state (the sixth stays prioritized, where it was queued).
  await connection
    .multi()
    .zrem(queue.toKey("prioritized"), completed, failed, delayed, active, waiting)
    .zadd(queue.toKey("completed"), 1, completed)
    .zadd(queue.toKey("failed"), 1, failed)
    .zadd(queue.toKey("delayed"), 1, delayed)
    .lpush(queue.toKey("active"), active)
    .lpush(queue.toKey("wait"), waiting)
    .exec();
  const states = await Promise.all(ids.map((id) => queue.getJobState(id)));
  expect(states).toEqual(["completed", "failed", "delayed", "active", "waiting", "prioritized"]);

  let repeats: Awaited<ReturnType<typeof submitJobs>> = [];
  const sent = await sentWhile(async () => {
    repeats = await submitJobs(queues, requests);
  });
  expect(repeats.map((outcome) => outcome.accepted && outcome.deduplicated && outcome.status)).toEqual([
    "succeeded",
    "dead",
    "retrying",
    "running",
    "queued",
    "queued",
  ]);
  // Nothing read back after the MULTI, however many repeats it found.
  expect(sent.at(-1)).toBe("exec");
  expect(sent.filter((name) => name === "exec")).toHaveLength(1);
});
