// For this package's own tests: queues on the machine's Redis (REDIS_URL) under a fresh
// prefix, with the postgres provider's default account configured.
import { randomBytes, randomUUID } from "node:crypto";
import { loadConfig } from "./config.ts";
import { openQueues, type QueueSet } from "./queues.ts";
import { createRedisConnection, deleteKeysWithPrefix } from "./redis.ts";

export interface TestQueues {
  connection: ReturnType<typeof createRedisConnection>;
  queues: QueueSet;
  /** Closes the queues, deletes every key of the prefix and quits the connection. */
  close(): Promise<void>;
}

export async function openTestQueues(): Promise<TestQueues> {
  const redisUrl = process.env.REDIS_URL ?? "redis://127.0.0.1:6379";
  const connection = createRedisConnection(redisUrl, "api");
  if (connection.status !== "ready") await new Promise((resolve) => connection.once("ready", resolve));
  const config = loadConfig({
    REDIS_URL: redisUrl,
    QUEUE_PREFIX: `test-${randomUUID().slice(0, 8)}`,
    PROVISIONER_ENCRYPTION_KEY: randomBytes(32).toString("base64"),
    POSTGRES_ADMIN_URL: "postgres://postgres@127.0.0.1:5432/postgres",
  });
  const queues = openQueues(config, connection);
  return {
    connection,
    queues,
    async close() {
      await queues.close();
      await deleteKeysWithPrefix(connection, config.prefix);
      await connection.quit();
    },
  };
}
