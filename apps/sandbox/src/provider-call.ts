import { STATUS_CODES } from "node:http";
import type { Socket } from "node:net";
import { setTimeout as delay } from "node:timers/promises";
import type { HttpBindings } from "@hono/node-server";
import type { Context } from "hono";
import { authorize } from "./auth.ts";
import type { SandboxContext } from "./context.ts";
import { providerError } from "./errors.ts";
import type { TerminalFault } from "./faults.ts";
import type { OperationName, ProviderName } from "./providers/names.ts";

// The path every provider call takes: counted, authorized, then run under the fault rules.

export interface Call {
  provider: ProviderName;
  operation: OperationName;
  /** The database name a create asks for, for `namePrefix` fault rules. */
  name?: string | undefined;
}

/** A create call with the name its body asks for (none when the body names none). */
export function createCall(provider: ProviderName, body: unknown): Call {
  const name = typeof body === "object" && body !== null && "name" in body ? body.name : undefined;
  return { provider, operation: "create", name: typeof name === "string" ? name : undefined };
}

/** Counts the call and checks its token; returns the refusal, or null to go on. */
export function admit(c: Context, ctx: SandboxContext, call: Call): Response | null {
  ctx.stats.countRequest(call.provider, call.operation);
  const needed = call.operation === "create" ? "write" : "read";
  const outcome = authorize(c.req.header("authorization"), ctx.options.tokens[call.provider], needed);
  if (outcome === "unauthenticated") {
    return providerError(call.provider, { status: 401, message: "Missing or invalid bearer token." });
  }
  if (outcome === "forbidden") {
    return providerError(call.provider, {
      status: 403,
      message: "This token may not create databases.",
      hint: "Use a token with write access.",
    });
  }
  return null;
}

export interface Outcome {
  /** What the client is sent (if the connection survives). */
  response: Response;
  /** The handler's own answer, or null when a fault answered instead of the handler. */
  handled: Response | null;
}

/** Runs `handle` under whatever the fault rules decide for this call. */
export async function withFaults(
  c: Context,
  ctx: SandboxContext,
  call: Call,
  handle: () => Response | Promise<Response>,
): Promise<Outcome> {
  const connection = connectionOf(c);
  const plan = ctx.faults.plan({ ...call, canCloseConnection: connection !== null });
  const abandoned = AbortSignal.any([c.req.raw.signal, ctx.shutdown]);
  if (plan.latencyMs > 0) {
    const waited = await delay(plan.latencyMs, true, { signal: abandoned }).catch(() => false);
    if (!waited) return abandon(connection);
  }
  const fault = plan.fault;
  if (fault === null) {
    const response = await handle();
    return { response, handled: response };
  }
  switch (fault.fault) {
    case "error":
      return { response: injectedError(call.provider, fault), handled: null };
    case "rate_limit":
      return { response: rateLimited(call.provider, fault), handled: null };
    case "hang":
      await untilAborted(abandoned);
      return abandon(connection);
    case "drop":
      return abandon(connection);
    case "lost_response": {
      const response = await handle();
      connection?.destroy();
      return { response, handled: response };
    }
    case "malformed": {
      const response = await handle();
      return { response: await malformed(response), handled: response };
    }
  }
}

function injectedError(provider: ProviderName, fault: TerminalFault): Response {
  const status = fault.status ?? 500;
  return providerError(provider, {
    status,
    message: `${STATUS_CODES[status] ?? "Error"} (injected by the sandbox).`,
    ...(fault.retryAfter === undefined ? {} : { headers: { "retry-after": fault.retryAfter } }),
  });
}

function rateLimited(provider: ProviderName, fault: TerminalFault): Response {
  const retryAfter = fault.retryAfter ?? "1";
  const hint = /^\d+$/.test(retryAfter) ? `Retry after ${retryAfter} seconds.` : `Retry after ${retryAfter}.`;
  return providerError(provider, {
    status: 429,
    message: "Too many requests.",
    ...(fault.retryAfterInBody === true ? { hint } : {}),
    headers: { "retry-after": retryAfter },
  });
}

// A successful answer cut short: a proper prefix of a JSON document is never valid JSON.
async function malformed(response: Response): Promise<Response> {
  if (response.status < 200 || response.status > 299) return response;
  // A clone, because the caller may still store the handler's answer (idempotency).
  const text = await response.clone().text();
  const body = text.length > 1 ? text.slice(0, Math.ceil(text.length / 2)) : '{"data": ';
  const status = response.status === 204 ? 200 : response.status;
  return new Response(body, { status, headers: { "content-type": "application/json" } });
}

// The client never sees this answer: the connection is closed first, or the client has left.
// Under app.request() (no connection) it is what the caller gets back.
function abandon(connection: Socket | null): Outcome {
  connection?.destroy();
  return {
    response: new Response(null, { status: 503, headers: { connection: "close" } }),
    handled: null,
  };
}

function untilAborted(signal: AbortSignal): Promise<void> {
  if (signal.aborted) return Promise.resolve();
  return new Promise((resolve) => signal.addEventListener("abort", () => resolve(), { once: true }));
}

function connectionOf(c: Context): Socket | null {
  const env = c.env as Partial<HttpBindings> | undefined;
  return env?.incoming?.socket ?? null;
}
