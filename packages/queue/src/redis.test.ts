import { describe, expect, it } from "vitest";
import { legacyFinishedCountsKey } from "./finished-counts.ts";
import { deleteKeysWithPrefix, isRedisUnavailable, sendTogether } from "./redis.ts";
import { openTestQueues } from "./test-support.ts";

describe("isRedisUnavailable", () => {
  it.each([
    "CLUSTERDOWN The cluster is down",
    "CLUSTERDOWN Hash slot not served",
    "TRYAGAIN Multiple keys request during rehashing of slot",
    "Failed to refresh slots cache.",
    "Too many Cluster redirections. Last error: Error: MOVED 12182 127.0.0.1:7002",
    "None of startup nodes is available",
    "connect ECONNREFUSED 127.0.0.1:7001",
    "Command timed out",
  ])("counts %j as Redis being unavailable", (message) => {
    expect(isRedisUnavailable(new Error(message))).toBe(true);
  });

  it("does not count a bad command or a cross-slot request: those are bugs, not outages", () => {
    expect(isRedisUnavailable(new Error("ERR wrong number of arguments for 'hget' command"))).toBe(false);
    expect(isRedisUnavailable(new Error("CROSSSLOT Keys in request don't hash to the same slot"))).toBe(false);
    expect(isRedisUnavailable("CLUSTERDOWN")).toBe(false);
  });
});

describe("deleteKeysWithPrefix", () => {
  it("deletes a deployment's keys, its hash-tagged metrics key too, and nothing of another prefix", async () => {
    const { connection, queues, close } = await openTestQueues();
    const { prefix } = queues.config;
    const mine = [`${prefix}:a`, `${prefix}:{q}:b`, legacyFinishedCountsKey(prefix)];
    const others = [`${prefix}x:a`, `{${prefix}x:metrics}:jobs-finished`, `other-${prefix}:a`];
    try {
      for (const key of [...mine, ...others]) await connection.set(key, "1");
      await deleteKeysWithPrefix(connection, prefix);
      expect(await Promise.all(mine.map((key) => connection.exists(key)))).toEqual([0, 0, 0]);
      expect(await Promise.all(others.map((key) => connection.exists(key)))).toEqual([1, 1, 1]);
    } finally {
      await connection.del(...others);
      await close();
    }
  });
});

describe("sendTogether", () => {
  // Its single write, seen from the socket, is tested in packages/testing (socket-writes.test.ts).
  it("rejects with the first error, after running every call", async () => {
    const { connection, queues, close } = await openTestQueues();
    const key = (name: string) => `${queues.config.prefix}:${name}`;
    try {
      await connection.set(key("text"), "not a number");
      await expect(
        sendTogether(connection, [
          { command: "incr", args: [key("text")] },
          { command: "set", args: [key("after"), "1"] },
        ]),
      ).rejects.toThrow(/not an integer/);
      expect(await connection.get(key("after"))).toBe("1");
      await expect(sendTogether(connection, [{ command: "noSuchScript", args: [] }])).rejects.toThrow(
        "Redis command noSuchScript is not defined on this connection",
      );
    } finally {
      await close();
    }
  });
});
