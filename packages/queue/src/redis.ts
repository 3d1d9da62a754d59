import type { Socket } from "node:net";
import { Cluster, Redis } from "ioredis";

/** A single Redis or a Redis Cluster: every module that talks to Redis takes either. */
export type RedisConnection = Redis | Cluster;

/** A Redis URL, or a Redis Cluster's seed nodes. */
export type RedisTarget = string | readonly { host: string; port: number }[];

/**
 * BullMQ's connection rules: a worker's connection retries forever
 * (`maxRetriesPerRequest: null`) so it rides out a Redis restart; the API's fails fast
 * (no offline queue, one retry) so a request gets a 503 at once instead of hanging.
 * Seed nodes make an ioredis Cluster with the same rules per node.
 */
export function createRedisConnection(target: RedisTarget, role: "worker" | "api"): RedisConnection {
  const retryStrategy = (times: number) => Math.min(times * 200, 2_000);
  const perNode =
    role === "worker"
      ? { maxRetriesPerRequest: null, enableReadyCheck: true }
      : // A Redis that accepts connections but stalls must not hang a request either.
        { maxRetriesPerRequest: 1, commandTimeout: 5_000 };
  if (typeof target === "string") {
    const redis = new Redis(target, {
      lazyConnect: false,
      connectTimeout: 5_000,
      retryStrategy,
      ...perNode,
      ...(role === "api" ? { enableOfflineQueue: false } : {}),
    });
    if (role === "worker") writeOncePerTurn(redis);
    return redis;
  }
  const cluster = new Cluster([...target], {
    enableReadyCheck: true,
    clusterRetryStrategy: retryStrategy,
    enableOfflineQueue: role === "worker",
    slotsRefreshTimeout: 2_000,
    retryDelayOnClusterDown: 200,
    retryDelayOnTryAgain: 200,
    redisOptions: { connectTimeout: 5_000, ...perNode },
  });
  cluster.on("+node", (node: Redis) => node.on("ready", () => loadScripts(cluster, node)));
  return cluster;
}

/**
 * Loads every Lua script the client knows (BullMQ's and ours) into a node that has just
 * (re)connected. A restarted master's script cache is empty, and ioredis sends a script
 * as EVAL only the first time per socket, even when that EVAL sat in a MULTI that was
 * aborted (a transaction cut by the restart): from then on its EVALSHAs inside MULTIs fail
 * with NOSCRIPT, and every bulk submission failed until the API restarted (seen in chaos).
 */
function loadScripts(cluster: Cluster, node: Redis): void {
  const scripts = Object.values(cluster.scriptsSet as Record<string, { lua: string }>);
  for (const { lua } of scripts) node.script("LOAD", lua).catch(() => {});
}

/**
 * One command as data: a Redis command, or a script the connection was taught
 * (`luaCommand`), with its keys and arguments. Calls that must go out together are sent
 * with `sendTogether`; on a cluster they must share one slot (every key carries one queue's
 * hash tag).
 */
export interface RedisCall {
  command: string;
  args: (string | number)[];
}

/**
 * A Lua script as a command of the connections it runs on, defined on each at its first use:
 * ioredis then sends it as EVALSHA and loads it once, not its body on every call. `call`
 * answers it as data, for `sendTogether` or a MULTI made from the connection afterwards (a
 * pipeline knows only the scripts its connection knew when it was made).
 */
export interface LuaCommand<Reply> {
  readonly name: string;
  run(connection: RedisConnection, ...args: (string | number)[]): Promise<Reply>;
  call(connection: RedisConnection, args: (string | number)[]): RedisCall;
}

/** `numberOfKeys` left out: each call passes its key count first, as EVAL takes it. */
export function luaCommand<Reply>(name: string, lua: string, numberOfKeys?: number): LuaCommand<Reply> {
  const definedOn = new WeakSet<RedisConnection>();
  const define = (connection: RedisConnection) => {
    if (definedOn.has(connection)) return;
    connection.defineCommand(name, numberOfKeys === undefined ? { lua } : { numberOfKeys, lua });
    definedOn.add(connection);
  };
  return {
    name,
    run(connection, ...args) {
      define(connection);
      const commands = connection as unknown as Record<string, (...args: (string | number)[]) => Promise<Reply>>;
      return (commands[name] as (...args: (string | number)[]) => Promise<Reply>).apply(connection, args);
    },
    call(connection, args) {
      define(connection);
      return { command: name, args };
    },
  };
}

/**
 * Makes every command `redis` sends in one turn of the event loop leave in one write: the
 * socket is corked at a turn's first command and uncorked once the turn's callbacks have run
 * (`setImmediate`), before the loop waits for I/O again. A worker's job sends its commands
 * from different callbacks of one turn (the end of one job, BullMQ's move, the next job's
 * start), each a system call of its own otherwise. ioredis's auto-pipelining does this with a
 * pipeline per turn, and making one copies every script the connection knows.
 */
function writeOncePerTurn(redis: Redis): void {
  const send = redis.sendCommand.bind(redis);
  let corked: Socket | undefined;
  redis.sendCommand = ((...args: Parameters<Redis["sendCommand"]>) => {
    const socket = redis.stream as Socket | undefined;
    if (corked === undefined && socket !== undefined && redis.status === "ready") {
      corked = socket;
      socket.cork();
      setImmediate(() => {
        corked = undefined;
        socket.uncork();
      });
    }
    return send(...args);
  }) as Redis["sendCommand"];
}

/**
 * Runs `run`, and every command it sends on `connection` before it first waits leaves in one
 * write: on a single Redis the socket is corked meanwhile, where each command would cost a
 * system call of its own (the worker's per-job writes were a tenth of its CPU). Not an
 * ioredis pipeline: making one copies every script the connection knows (BullMQ's dozens),
 * which cost more than the writes it saved. On a cluster commands go to their nodes as usual.
 */
export function inOneWrite<T>(connection: RedisConnection, run: () => T): T {
  const socket = connection instanceof Redis ? (connection.stream as Socket | undefined) : undefined;
  socket?.cork();
  try {
    return run();
  } finally {
    socket?.uncork();
  }
}

/**
 * Sends `calls` in one write (`inOneWrite`), before it first waits; Redis runs them in order.
 * Answers their replies in order, or rejects with the first error (all are sent).
 */
export async function sendTogether(connection: RedisConnection, calls: readonly RedisCall[]): Promise<unknown[]> {
  const commands = connection as unknown as Record<string, (...args: (string | number)[]) => Promise<unknown>>;
  // Every call is looked up before any is sent, so an unknown one sends nothing.
  const sends = calls.map(({ command }) => {
    const send = commands[command];
    if (typeof send !== "function") throw new Error(`Redis command ${command} is not defined on this connection`);
    return send;
  });
  return inOneWrite(connection, () => Promise.all(calls.map(({ args }, i) => sends[i]?.apply(connection, args))));
}

/**
 * True for the errors ioredis raises when Redis cannot be reached, as opposed to a bad
 * command; on a cluster, also while slots are down or moving (a master restarting).
 */
export function isRedisUnavailable(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  return (
    error.name === "MaxRetriesPerRequestError" ||
    error.name === "ClusterAllFailedError" ||
    /Connection is closed|Stream isn't writeable|enableOfflineQueue|ECONNREFUSED|ECONNRESET|ETIMEDOUT|connect ETIMEDOUT|LOADING|READONLY|Connection timeout|Command timed out|CLUSTERDOWN|TRYAGAIN|MOVED|Failed to refresh slots cache|None of startup nodes is available|Too many Cluster redirections|Cluster isn't ready/i.test(
      error.message,
    )
  );
}

/** Reads `maxmemory-policy`; anything but `noeviction` lets Redis drop queued jobs under memory pressure. */
export async function evictionPolicy(connection: RedisConnection): Promise<string | undefined> {
  try {
    const reply = (await connection.config("GET", "maxmemory-policy")) as string[];
    return reply[1];
  } catch {
    return undefined; // managed Redis services often forbid CONFIG; say nothing rather than guess
  }
}

/** The nodes that hold keys: the one Redis, or every master of a cluster. */
export function keyHolders(connection: RedisConnection): Redis[] {
  return connection instanceof Cluster ? connection.nodes("master") : [connection];
}

/**
 * Deletes every key under `prefix:` (tests and benchmarks clean up after themselves with
 * it): SCAN on every master, and one DEL per key, as keys of one batch may lie in several slots.
 */
export async function deleteKeysWithPrefix(connection: RedisConnection, prefix: string): Promise<void> {
  // `{prefix:…}` too: the finished counts' key (finished-counts.ts) carries its own hash tag.
  for (const node of keyHolders(connection)) {
    for (const pattern of [`${prefix}:*`, `{${prefix}:*`]) {
      let cursor = "0";
      do {
        const [next, keys] = await node.scan(cursor, "MATCH", pattern, "COUNT", 1000);
        if (keys.length > 0) {
          const pipeline = node.pipeline();
          for (const key of keys) pipeline.unlink(key);
          await pipeline.exec();
        }
        cursor = next;
      } while (cursor !== "0");
    }
  }
}

/**
 * Reports a Redis outage once when it starts and once when it ends, not on every
 * reconnect attempt, and on every (re)connection warns when `maxmemory-policy` would let
 * Redis evict queued jobs.
 */
export function watchRedis(
  connection: RedisConnection,
  log: { warn(message: string): void; info(message: string): void },
): void {
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
