import { Hono } from "hono";
import type { SandboxEnv } from "./context.ts";
import { json } from "./errors.ts";
import { type FaultRule, faultRulesBodySchema } from "./faults.ts";
import type { SandboxStats } from "./stats.ts";
import { invalidInput, readJson } from "./validation.ts";

/** The sandbox's own controls, for tests and demos. */
export interface SandboxState {
  /** What was created and called so far. */
  stats(): SandboxStats;
  /** The fault rules in force, defaults filled in. */
  faults(): FaultRule[];
  /** Replaces every fault rule; throws a ZodError naming the bad field. */
  setFaults(rules: FaultRule[]): void;
  /** Clears fault rules, databases, idempotency records and stats. */
  reset(): void;
}

/** `/__sandbox/*`: no token, errors as `{error: {code, message, field?}}`. */
export function adminRoutes(state: SandboxState): Hono<SandboxEnv> {
  const routes = new Hono<SandboxEnv>();

  routes.get("/health", () => json(200, { ok: true }));
  routes.get("/stats", () => json(200, state.stats()));
  routes.get("/faults", () => json(200, { rules: state.faults() }));

  routes.post("/faults", async (c) => {
    const body = await readJson(c);
    if (!body.ok) return invalidRequest(body.detail.message);
    const parsed = faultRulesBodySchema.safeParse(body.value);
    if (!parsed.success) {
      const { message, field } = invalidInput(parsed.error);
      return invalidRequest(message, field);
    }
    state.setFaults(parsed.data.rules);
    return json(200, { rules: state.faults() });
  });

  routes.post("/reset", () => {
    state.reset();
    return json(200, { ok: true });
  });

  return routes;
}

function invalidRequest(message: string, field?: string): Response {
  return json(400, {
    error: { code: "invalid_request", message, ...(field === undefined ? {} : { field }) },
  });
}
