import { hash, randomUUID } from "node:crypto";
import { abortWhen, type ProviderName } from "@provisioner/provider-client";
import { luaCommand, type RedisConnection } from "@provisioner/queue";

// Exactly-once effect holds per identity (provider, account, where, name), not only per
// key: jobs under different keys for one database must not look up and create at once.

// Deletes or extends the lock only while it still holds this holder's token: a holder
// that outlived its lease must not end or prolong its successor's.
// KEYS: the lock. ARGV: the holder's token (and the lease for a renewal).
const releaseCommand = luaCommand<number>(
  "provisionerReleaseIdentityLock",
  `if redis.call("get", KEYS[1]) == ARGV[1] then return redis.call("del", KEYS[1]) else return 0 end`,
  1,
);
const renewCommand = luaCommand<number>(
  "provisionerRenewIdentityLock",
  `if redis.call("get", KEYS[1]) == ARGV[1] then return redis.call("pexpire", KEYS[1], ARGV[2]) else return 0 end`,
  1,
);

/** Another job holds the identity: wait `retryAfterMs`, then try again, spending no attempt. */
export class IdentityBusyError extends Error {
  override name = "IdentityBusyError";
  readonly retryAfterMs: number;
  constructor(retryAfterMs: number) {
    super("another job is creating this database");
    this.retryAfterMs = retryAfterMs;
  }
}

export const isIdentityBusy = (error: unknown): error is IdentityBusyError => error instanceof IdentityBusyError;

export interface IdentityLocksOptions {
  connection: RedisConnection;
  /** The queue prefix, so every worker of one deployment meets on the same keys. */
  prefix: string;
  /**
   * How long a lock outlives a holder that stopped renewing it (a killed worker), so
   * another worker takes over after at most this long. Renewed at a third of it. Default 15 s.
   */
  leaseMs?: number | undefined;
  /** The longest wait before a job that found the lock held tries again. Default 1 s. */
  busyRetryMaxMs?: number | undefined;
}

export interface Identity {
  provider: ProviderName;
  account: string;
  /** The request's identity within the account (`identityKeyOf`): where and what name. */
  key: string;
}

export interface IdentityLocks {
  /**
   * Runs `work` holding the identity's lock, released however `work` ends. Throws
   * IdentityBusyError at once, without running `work`, when another holder has it. The
   * signal `work` gets aborts when the lock is lost (a renewal found another holder).
   */
  hold<T>(identity: Identity, signal: AbortSignal | undefined, work: (signal: AbortSignal) => Promise<T>): Promise<T>;
}

/** The lock's key: a hash, so no database name appears in Redis keys or logs. */
export function identityLockKey(prefix: string, identity: Identity): string {
  const digest = hash("sha256", `${identity.provider}\u0000${identity.account}\u0000${identity.key}`, "hex");
  return `${prefix}:identity-lock:${digest.slice(0, 40)}`;
}

export function createIdentityLocks(options: IdentityLocksOptions): IdentityLocks {
  const { prefix, leaseMs = 15_000, busyRetryMaxMs = 1_000 } = options;
  const { connection } = options;
  if (!(leaseMs >= 30)) throw new RangeError(`identity lock leaseMs must be at least 30 ms, got ${leaseMs}`);
  if (!(busyRetryMaxMs >= 1)) throw new RangeError(`busyRetryMaxMs must be at least 1 ms, got ${busyRetryMaxMs}`);
  // A holder's token: unique to this process (its random part) and to the hold (the count).
  const tokens = { process: randomUUID(), count: 0 };
  const renewals = sharedRenewals(connection, leaseMs);

  return {
    async hold(identity, signal, work) {
      const key = identityLockKey(prefix, identity);
      const token = `${tokens.process}:${++tokens.count}`;
      if ((await connection.set(key, token, "PX", leaseMs, "NX")) !== "OK") {
        // Not sooner than the holder could plausibly finish, not later than the lease ends.
        const remainingMs = await connection.pttl(key);
        const ceiling = Math.min(busyRetryMaxMs, remainingMs > 0 ? remainingMs : busyRetryMaxMs);
        throw new IdentityBusyError(Math.ceil(ceiling / 2 + (Math.random() * ceiling) / 2));
      }
      const lost = new AbortController();
      const unlink = abortWhen(signal, lost);
      renewals.add(token, key, lost);
      try {
        return await work(lost.signal);
      } finally {
        renewals.delete(token);
        unlink();
        // If this fails the lease still ends the lock; the job's outcome stands either way. Not
        // awaited, to spare the job a round trip: it is written before BullMQ moves the job to
        // finished (on BullMQ's own connection), so it usually lands first; when it lands a moment
        // after, another job for the database finds the lock held and waits its short turn.
        releaseCommand.run(connection, key, token).catch(() => {});
      }
    },
  };
}

/**
 * Renews every lock this process holds, each a third of the lease, on one timer that runs
 * only while a lock is held: a timer a hold would be set and cleared for every job, most of
 * which end long before their first renewal. A lock held at a tick is at most a third of the
 * lease old since its last renewal or its taking, as with a timer of its own.
 */
function sharedRenewals(connection: RedisConnection, leaseMs: number) {
  const held = new Map<string, { key: string; lost: AbortController }>();
  let timer: NodeJS.Timeout | undefined;
  const renewAll = () => {
    for (const [token, { key, lost }] of held) {
      renewCommand.run(connection, key, token, leaseMs).then(
        (renewed) => {
          if (renewed === 0) lost.abort(new Error("identity lock lost to another holder"));
        },
        // A Redis blip: the next renewal tries again, well before the lease ends.
        () => {},
      );
    }
  };
  return {
    add(token: string, key: string, lost: AbortController) {
      held.set(token, { key, lost });
      timer ??= setInterval(renewAll, Math.floor(leaseMs / 3));
    },
    delete(token: string) {
      held.delete(token);
      if (held.size > 0) return;
      clearInterval(timer);
      timer = undefined;
    },
  };
}
