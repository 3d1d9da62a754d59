import type { Socket } from "node:net";
import type { RedisConnection } from "@provisioner/queue";
import { Redis } from "ioredis";

export interface SocketWrites {
  /** Writes made since counting began: one a command, or one for all a corked socket held. */
  count(): number;
  stop(): void;
}

/**
 * Counts the writes a single Redis connection's socket makes, each a system call: Node calls
 * `_write` for one chunk and `_writev` for all a corked socket held (packages/queue `inOneWrite`).
 */
export function countSocketWrites(connection: RedisConnection): SocketWrites {
  if (!(connection instanceof Redis) || !connection.stream) throw new Error("count writes on a connected single Redis");
  const socket = connection.stream as Socket & { _write: Writer; _writev: Writer };
  const { _write, _writev } = socket;
  let writes = 0;
  socket._write = (...args) => {
    writes++;
    _write.apply(socket, args);
  };
  socket._writev = (...args) => {
    writes++;
    _writev.apply(socket, args);
  };
  return {
    count: () => writes,
    stop() {
      socket._write = _write;
      socket._writev = _writev;
    },
  };
}

type Writer = (...args: unknown[]) => void;
