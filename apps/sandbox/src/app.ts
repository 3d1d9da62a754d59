import { Hono } from "hono";
import { adminRoutes, type SandboxState } from "./admin.ts";
import type { ProviderModule, SandboxContext, SandboxEnv } from "./context.ts";
import { json, providerError } from "./errors.ts";
import { createFaultBook } from "./faults.ts";
import { resolveOptions, type SandboxOptions } from "./options.ts";
import { artieProvider } from "./providers/artie.ts";
import { bridgeportProvider } from "./providers/bridgeport.ts";
import { PROVIDER_NAMES, type ProviderName } from "./providers/names.ts";
import { prismaProvider } from "./providers/prisma.ts";
import { createStats } from "./stats.ts";

export interface SandboxApp {
  /** Every provider under its prefix (`/artie`, `/bridgeport`, `/prisma`), and `/__sandbox`. */
  app: Hono<SandboxEnv>;
  state: SandboxState;
  /** Ends hung requests and pending injected delays; for whoever serves the app. */
  shutdown(): void;
}

/**
 * Builds the sandbox without listening. Throws a ZodError naming the bad option.
 * Under `app.request()` the `drop` and `lost_response` faults never fire: they need a
 * connection to close, so their tests use `startSandbox`.
 */
export function createSandboxApp(options: SandboxOptions = {}): SandboxApp {
  const resolved = resolveOptions(options);
  const stats = createStats();
  const faults = createFaultBook();
  faults.replace(resolved.faults);
  const shutdown = new AbortController();
  const ctx: SandboxContext = { options: resolved, stats, faults, shutdown: shutdown.signal };

  const providers: Record<ProviderName, ProviderModule> = {
    artie: artieProvider(ctx),
    bridgeport: bridgeportProvider(ctx),
    prisma: prismaProvider(ctx),
  };

  const state: SandboxState = {
    stats: () => stats.snapshot(),
    faults: () => faults.rules(),
    setFaults: (rules) => faults.replace(rules),
    reset() {
      faults.replace([]);
      stats.reset();
      for (const name of PROVIDER_NAMES) providers[name].reset();
    },
  };

  const app = new Hono<SandboxEnv>();
  for (const name of PROVIDER_NAMES) app.route(`/${name}`, providers[name].routes);
  app.route("/__sandbox", adminRoutes(state));
  app.notFound((c) => {
    const message = `No route for ${c.req.method} ${c.req.path}.`;
    const provider = PROVIDER_NAMES.find((name) => c.req.path.startsWith(`/${name}/`));
    if (provider !== undefined) return providerError(provider, { status: 404, message });
    return json(404, { error: { code: "not_found", message } });
  });
  app.onError((error) => {
    console.error("sandbox: unexpected error", error);
    return json(500, { error: { code: "internal_error", message: "Unexpected sandbox error." } });
  });

  return { app, state, shutdown: () => shutdown.abort() };
}
