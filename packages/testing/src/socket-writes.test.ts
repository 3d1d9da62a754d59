import { randomUUID } from "node:crypto";
import { createRedisConnection, sendTogether } from "@provisioner/queue";
import { expect, it } from "vitest";
import { countSocketWrites } from "./socket-writes.ts";

// packages/queue's `sendTogether` as the worker uses it, seen from the socket: its calls leave
// in one write, where the same calls sent one by one make one write each.

it("counts one write for calls sent together and one a command for calls sent one by one", async () => {
  const connection = createRedisConnection(process.env.REDIS_URL ?? "redis://127.0.0.1:6379", "worker");
  const key = `test-writes-${randomUUID().slice(0, 8)}`;
  try {
    await connection.ping();
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
