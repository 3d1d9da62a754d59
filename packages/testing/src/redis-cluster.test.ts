import { createRedisConnection, deleteKeysWithPrefix, keyHolders } from "@provisioner/queue";
import { afterAll, beforeAll, expect, it } from "vitest";
import { type RedisCluster, startRedisCluster } from "./redis-cluster.ts";

let cluster: RedisCluster;
beforeAll(async () => {
  cluster = await startRedisCluster();
}, 30_000);
afterAll(() => cluster?.stop(), 30_000);
// A master's restart waits for the whole cluster to say it is ok again: seconds on a loaded machine.
const restartTimeoutMs = 30_000;

const connect = (role: "worker" | "api" = "worker") =>
  createRedisConnection(
    cluster.ports.map((port) => ({ host: "127.0.0.1", port })),
    role,
  );

it("spreads keys of different hash tags over the masters, and deleteKeysWithPrefix clears every master", async () => {
  const connection = connect();
  try {
    const keys = Array.from({ length: 30 }, (_, i) => `spread:{queue-${i}}:id`);
    for (const key of keys) await connection.set(key, "1");
    const holders = await Promise.all(keys.map((key) => cluster.masterOf(key)));
    expect(new Set(holders).size).toBe(3);
    await connection.set("kept:{other}:id", "1");

    await deleteKeysWithPrefix(connection, "spread");
    const left = await Promise.all(keyHolders(connection).map((node) => node.keys("spread:*")));
    expect(left.flat()).toEqual([]);
    expect(await connection.get("kept:{other}:id")).toBe("1");
  } finally {
    connection.disconnect();
  }
});

it(
  "keeps a master's keys across its restart, through its append-only file",
  async () => {
    const connection = connect();
    try {
      await connection.set("{restart}:kept", "yes");
      await cluster.restartMaster(await cluster.masterOf("{restart}:kept"));
      expect(await connection.get("{restart}:kept")).toBe("yes");
    } finally {
      connection.disconnect();
    }
  },
  restartTimeoutMs,
);

it(
  "runs scripts in a MULTI on a restarted master, whose script cache is empty",
  async () => {
    const connection = connect("api");
    await new Promise((resolve) => connection.once("ready", resolve));
    connection.defineCommand("probeIncr", { numberOfKeys: 1, lua: "return redis.call('INCR', KEYS[1])" });
    type Multi = {
      probeIncr(key: string): Multi;
      call(command: string, ...args: string[]): Multi;
      exec(): Promise<[Error | null, unknown][] | null>;
    };
    const multi = () => connection.multi() as unknown as Multi;
    const key = "{probe}:count";
    try {
      await cluster.restartMaster(await cluster.masterOf(key));
      await new Promise((resolve) => setTimeout(resolve, 500));
      // A transaction that aborts: ioredis sent the script's EVAL on this socket, Redis never ran it.
      await multi()
        .probeIncr(key)
        .call("incrby", key)
        .exec()
        .catch(() => null);
      // From now on ioredis sends EVALSHA, which only works if the script is in the cache anyway.
      const replies = await multi().probeIncr(key).probeIncr(key).exec();
      expect(replies?.map(([error, reply]) => error?.message ?? reply)).toEqual([1, 2]);
    } finally {
      connection.disconnect();
    }
  },
  restartTimeoutMs,
);
