import { Redis } from "ioredis";

/**
 * BullMQ's connection rules: a worker's connection retries forever
 * (`maxRetriesPerRequest: null`) so it rides out a Redis restart; the API's fails fast
 * (no offline queue, one retry) so a request gets a 503 at once instead of hanging.
 */
export function createRedisConnection(url: string, role: "worker" | "api"): Redis {
  const common = {
    lazyConnect: false,
    connectTimeout: 5_000,
    retryStrategy: (times: number) => Math.min(times * 200, 2_000),
  };
  return role === "worker"
    ? new Redis(url, { ...common, maxRetriesPerRequest: null, enableReadyCheck: true })
    : // A Redis that accepts connections but stalls must not hang a request either.
      new Redis(url, { ...common, maxRetriesPerRequest: 1, enableOfflineQueue: false, commandTimeout: 5_000 });
}

/** True for the errors ioredis raises when Redis cannot be reached, as opposed to a bad command. */
export function isRedisUnavailable(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  return (
    error.name === "MaxRetriesPerRequestError" ||
    /Connection is closed|Stream isn't writeable|enableOfflineQueue|ECONNREFUSED|ECONNRESET|ETIMEDOUT|connect ETIMEDOUT|LOADING|READONLY|Connection timeout/i.test(
      error.message,
    )
  );
}

/** Reads `maxmemory-policy`; anything but `noeviction` lets Redis drop queued jobs under memory pressure. */
export async function evictionPolicy(connection: Redis): Promise<string | undefined> {
  try {
    const reply = (await connection.config("GET", "maxmemory-policy")) as string[];
    return reply[1];
  } catch {
    return undefined; // managed Redis services often forbid CONFIG; say nothing rather than guess
  }
}

/** Deletes every key under `prefix:` (tests and benchmarks clean up after themselves with it). */
export async function deleteKeysWithPrefix(connection: Redis, prefix: string): Promise<void> {
  let cursor = "0";
  do {
    const [next, keys] = await connection.scan(cursor, "MATCH", `${prefix}:*`, "COUNT", 1000);
    if (keys.length > 0) await connection.del(...keys);
    cursor = next;
  } while (cursor !== "0");
}

/**
 * Reports a Redis outage once when it starts and once when it ends, not on every
 * reconnect attempt, and on every (re)connection warns when `maxmemory-policy` would let
 * Redis evict queued jobs.
 */
export function watchRedis(connection: Redis, log: { warn(message: string): void; info(message: string): void }): void {
  let down = false;
  connection.on("error", (error: Error) => {
    if (down) return;
    down = true;
    log.warn(`redis unreachable (${error.message}); carrying on when it is back`);
  });
  connection.on("ready", async () => {
    if (down) log.info("redis reachable again");
    down = false;
    const policy = await evictionPolicy(connection);
    if (policy !== undefined && policy !== "noeviction") {
      log.warn(
        `Redis maxmemory-policy is "${policy}": under memory pressure Redis may evict queued jobs. Set maxmemory-policy noeviction.`,
      );
    }
  });
}

/** Whether a Redis answers PING at `url` within about a second; never retries, never throws. */
export async function redisAnswers(url: string): Promise<boolean> {
  const probe = new Redis(url, {
    lazyConnect: true,
    connectTimeout: 1_000,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
  });
  probe.on("error", () => {});
  try {
    await probe.connect();
    return (await probe.ping()) === "PONG";
  } catch {
    return false;
  } finally {
    probe.disconnect();
  }
}
