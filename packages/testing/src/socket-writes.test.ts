import { randomUUID } from "node:crypto";
import { once } from "node:events";
import { createRedisConnection, sendTogether } from "@provisioner/queue";
import { expect, it } from "vitest";
import { countSocketWrites } from "./socket-writes.ts";

// packages/queue's `sendTogether` as the worker uses it, seen from the socket: its calls leave
// in one write, where the same calls sent one by one make one write each.

const redisUrl = process.env.REDIS_URL ?? "redis://127.0.0.1:6379";

it("counts one write for calls sent together and one a command for calls sent one by one", async () => {
  // The API's connection: its commands leave as they are sent.
  const connection = createRedisConnection(redisUrl, "api");
  const key = `test-writes-${randomUUID().slice(0, 8)}`;
  try {
    if (connection.status !== "ready") await once(connection, "ready");
    const writes = countSocketWrites(connection);
    try {
      const replies = await sendTogether(connection, [
        { command: "set", args: [key, "1"] },
        { command: "incr", args: [key] },
        { command: "get", args: [key] },
      ]);
      expect(replies).toEqual(["OK", 2, "2"]);
      expect(writes.count()).toBe(1);

      await Promise.all([connection.set(key, "1"), connection.incr(key), connection.get(key)]);
      expect(writes.count()).toBe(4);
    } finally {
      writes.stop();
    }
  } finally {
    await connection.del(key);
    await connection.quit();
  }
});

it("sends a worker connection's commands of one event-loop turn in one write, from however many callbacks", async () => {
  const connection = createRedisConnection(redisUrl, "worker");
  const key = `test-writes-${randomUUID().slice(0, 8)}`;
  try {
    await connection.ping();
    const writes = countSocketWrites(connection);
    try {
      // Three callbacks of one turn, as a job's end, BullMQ's move and the next job's start are.
      const sent = await Promise.all([
        connection.set(key, "1"),
        Promise.resolve().then(() => connection.incr(key)),
        new Promise((resolve) => process.nextTick(resolve)).then(() => connection.get(key)),
      ]);
      expect(sent).toEqual(["OK", 2, "2"]);
      expect(writes.count()).toBe(1);
    } finally {
      writes.stop();
    }
  } finally {
    await connection.del(key);
    await connection.quit();
  }
});
