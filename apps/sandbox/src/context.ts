import type { HttpBindings } from "@hono/node-server";
import type { Hono } from "hono";
import type { FaultBook } from "./faults.ts";
import type { ResolvedOptions } from "./options.ts";
import type { Stats } from "./stats.ts";

/** What every provider module is built from. Internal. */
export interface SandboxContext {
  options: ResolvedOptions;
  stats: Stats;
  faults: FaultBook;
  /** Aborted when the sandbox shuts down: ends hung requests and pending delays. */
  shutdown: AbortSignal;
}

/**
 * Hono's environment: the node request and response when served by
 * `@hono/node-server`, nothing under `app.request()`.
 */
export type SandboxEnv = { Bindings: Partial<HttpBindings> };

/** One provider's routes and the data behind them. */
export interface ProviderModule {
  routes: Hono<SandboxEnv>;
  /** Forgets every database (and idempotency record). */
  reset(): void;
}
