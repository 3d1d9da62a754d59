import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import { serve } from "@hono/node-server";
import { z } from "zod";
import type { SandboxState } from "./admin.ts";
import { createSandboxApp } from "./app.ts";
import type { SandboxOptions } from "./options.ts";

/** Options of `startSandbox`: the sandbox's own, plus where to listen. */
export interface StartSandboxOptions extends SandboxOptions {
  /** TCP port. Default 0: a free port, read it back from `url`. */
  port?: number;
  /** Interface to listen on. Default `127.0.0.1`. */
  host?: string;
}

export interface RunningSandbox {
  /** `http://host:port`, without a trailing slash; providers live under `/artie`, `/bridgeport`, `/prisma`. */
  url: string;
  state: SandboxState;
  /** Ends hung requests, closes every connection and stops listening. */
  close(): Promise<void>;
}

const listenSchema = z.object({
  port: z.number().int().min(0).max(65_535).default(0),
  host: z.string().min(1).default("127.0.0.1"),
});

/** Serves the sandbox over real HTTP, e.g. for another package's tests. */
export async function startSandbox(options: StartSandboxOptions = {}): Promise<RunningSandbox> {
  const { port, host, ...sandboxOptions } = options;
  const listen = listenSchema.parse({ port, host });
  const { app, state, shutdown } = createSandboxApp(sandboxOptions);

  // serve() builds a node:http Server when given no other createServer.
  let server: Server | undefined;
  const address = await new Promise<AddressInfo>((resolve, reject) => {
    server = serve({ fetch: app.fetch, port: listen.port, hostname: listen.host }, resolve) as Server;
    server.once("error", reject);
  });
  const running = server as Server;

  const hostInUrl = address.family === "IPv6" ? `[${address.address}]` : address.address;
  return {
    url: `http://${hostInUrl}:${address.port}`,
    state,
    close() {
      shutdown();
      return new Promise<void>((resolve, reject) => {
        running.close((error) => (error ? reject(error) : resolve()));
        running.closeAllConnections();
      });
    },
  };
}
