import { createSandboxApp, type SandboxApp } from "./app.ts";
import type { SandboxOptions } from "./options.ts";

// Shared by the tests: the default tokens and a terse way to call the app without a port.

export const TOKENS = {
  artie: { write: "artie-sandbox-key", read: "artie-sandbox-readonly" },
  bridgeport: { write: "bport_pat_sandbox", read: "bport_pat_sandbox_readonly" },
  prisma: { write: "prisma-sandbox-token", read: "prisma-sandbox-readonly" },
} as const;

export interface CallInit {
  token?: string | null;
  body?: unknown;
  /** Sent as is, instead of `body` serialised as JSON. */
  rawBody?: string;
  headers?: Record<string, string>;
  signal?: AbortSignal;
}

export interface TestSandbox extends SandboxApp {
  call(method: string, path: string, init?: CallInit): Promise<Response>;
}

/** A sandbox driven through `app.request()`; the token defaults to the path's provider write token. */
export function testSandbox(options: SandboxOptions = {}): TestSandbox {
  const sandbox = createSandboxApp(options);
  return {
    ...sandbox,
    call: async (method, path, init = {}) => sandbox.app.request(path, requestInit(method, path, init)),
  };
}

export function requestInit(method: string, path: string, init: CallInit): RequestInit {
  const headers: Record<string, string> = { ...init.headers };
  const token = init.token === undefined ? defaultToken(path) : init.token;
  if (token !== null && token !== undefined) headers.authorization = `Bearer ${token}`;
  let body: string | undefined = init.rawBody;
  if (body === undefined && init.body !== undefined) body = JSON.stringify(init.body);
  if (body !== undefined) headers["content-type"] = "application/json";
  return {
    method,
    headers,
    ...(body === undefined ? {} : { body }),
    ...(init.signal === undefined ? {} : { signal: init.signal }),
  };
}

function defaultToken(path: string): string | undefined {
  const provider = path.split("/")[1];
  if (provider === "artie" || provider === "bridgeport" || provider === "prisma") {
    return TOKENS[provider].write;
  }
  return undefined;
}
