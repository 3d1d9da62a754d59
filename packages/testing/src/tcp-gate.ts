import { once } from "node:events";
import { type AddressInfo, createServer, connect as dial, type Socket } from "node:net";

/**
 * A TCP server that stands in for a server that hangs: while shut, it accepts every
 * connection and never says a word (a PostgreSQL server stuck before its greeting, a
 * webhook receiver that never answers). Opened, it relays new connections to `target`.
 */
export interface TcpGate {
  readonly port: number;
  /** Connections accepted while shut, and left hanging. */
  readonly held: number;
  /** Resolves once `count` connections have been held. */
  waitForHeld(count?: number): Promise<void>;
  /** From now on new connections reach the target; held ones stay hanging. */
  open(): void;
  /** Drops every connection and stops listening. */
  close(): Promise<void>;
}

export async function startTcpGate(target?: { host: string; port: number }): Promise<TcpGate> {
  const sockets = new Set<Socket>();
  let held = 0;
  let opened = false;
  const track = (socket: Socket) => {
    sockets.add(socket);
    socket.on("error", () => {});
    socket.once("close", () => sockets.delete(socket));
  };
  const server = createServer((socket) => {
    track(socket);
    if (!opened || !target) {
      held++;
      return;
    }
    const upstream = dial(target.port, target.host);
    track(upstream);
    socket.pipe(upstream).pipe(socket);
    socket.once("close", () => upstream.destroy());
    upstream.once("close", () => socket.destroy());
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");

  return {
    port: (server.address() as AddressInfo).port,
    get held() {
      return held;
    },
    async waitForHeld(count = 1) {
      const deadline = Date.now() + 15_000;
      while (held < count) {
        if (Date.now() > deadline) throw new Error(`the gate held ${held} of ${count} connections`);
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    },
    open() {
      opened = true;
    },
    async close() {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
