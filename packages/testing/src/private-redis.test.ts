import { Redis } from "ioredis";
import { expect, it } from "vitest";
import { startPrivateRedis } from "./private-redis.ts";

it("keeps what was written across a stop and a start, through its append-only file", async () => {
  const redis = await startPrivateRedis();
  try {
    const client = new Redis(redis.url, { maxRetriesPerRequest: null });
    await client.set("kept", "yes");
    await redis.stop();
    await redis.start();
    expect(await client.get("kept")).toBe("yes");
    client.disconnect();
  } finally {
    await redis.close();
  }
});
