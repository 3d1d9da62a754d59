import { z } from "zod";
import type { OperationName, ProviderName } from "./providers/names.ts";

/** A `Retry-After` value as the header carries it: delay seconds or an HTTP date. */
const retryAfterSchema = z.string().refine((value) => /^\d+$/.test(value) || !Number.isNaN(Date.parse(value)), {
  message: "must be whole seconds or an HTTP date",
});

export const faultRuleSchema = z.strictObject({
  provider: z.enum(["artie", "bridgeport", "prisma", "*"]),
  operation: z.enum(["create", "find", "*"]).default("create"),
  fault: z.enum(["error", "rate_limit", "latency", "hang", "drop", "lost_response", "malformed"]),
  status: z.number().int().min(400).max(599).optional(),
  retryAfter: retryAfterSchema.optional(),
  retryAfterInBody: z.boolean().optional(),
  latencyMs: z.number().int().min(0).max(600_000).optional(),
  rate: z.number().min(0).max(1).default(1),
  times: z.number().int().min(0).optional(),
  namePrefix: z.string().min(1).optional(),
});

export const faultRulesSchema = z.array(faultRuleSchema);

/** The body of `POST /__sandbox/faults`, and of `SANDBOX_FAULTS`. */
export const faultRulesBodySchema = z.strictObject({ rules: faultRulesSchema });

/**
 * One fault to inject. The first rule, in order, that matches a request and fires
 * decides what happens to it; `latency` rules add their delay and let the search
 * go on, so a delay can be combined with another fault.
 */
export interface FaultRule {
  /** Which provider's calls this rule applies to; `"*"` for all. */
  provider: ProviderName | "*";
  /**
   * Which calls: `create` (the creates, and Prisma's connection mint and delete), `find`
   * (the look-ups: Artie `POST /connectors/databases`, BRIDGEPORT's list, Prisma's list
   * and get, of databases and of connections) or `"*"`. Default `"create"`.
   */
  operation?: OperationName | "*" | undefined;
  /**
   * - `error`: answer `status` in the provider's error envelope, no side effect.
   * - `rate_limit`: answer 429 with `Retry-After`, no side effect.
   * - `latency`: wait `latencyMs`, then handle the request normally.
   * - `hang`: never answer; the request stays open until the client gives up or the sandbox closes.
   * - `drop`: close the connection without answering, no side effect.
   * - `lost_response`: perform the call, then close the connection without answering.
   * - `malformed`: perform the call, then answer 2xx with a body that is not valid JSON.
   *
   * `drop` and `lost_response` need a real connection to close: they fire only when
   * the app is served over HTTP (`startSandbox`), never under `app.request()`.
   */
  fault: "error" | "rate_limit" | "latency" | "hang" | "drop" | "lost_response" | "malformed";
  /** For `error`: the HTTP status, 400 to 599. Default 500. */
  status?: number | undefined;
  /** For `rate_limit` (and `error` with 503): the `Retry-After` value. Default `"1"` for `rate_limit`. */
  retryAfter?: string | undefined;
  /** For `rate_limit`: repeat the delay in the body (BRIDGEPORT `hint`, Prisma `error.hint`). Default false. */
  retryAfterInBody?: boolean | undefined;
  /** For `latency`: milliseconds to wait. Default 0. */
  latencyMs?: number | undefined;
  /** Probability, 0 to 1, that the rule fires on a matching request. Default 1. */
  rate?: number | undefined;
  /** Fire on at most this many matching requests, then the rule is spent. Default unlimited. */
  times?: number | undefined;
  /**
   * Match only creates whose database name (the body's `name`) starts with this, so a
   * test can doom exactly the databases it chose. A Prisma connection mint's body names
   * the connection, so a prefix can aim at mints alone. Look-ups name no database, so a rule
   * with a prefix never matches them. Default: any request, named or not.
   */
  namePrefix?: string | undefined;
}

export type ResolvedFaultRule = z.output<typeof faultRuleSchema>;

/** The fault that ends a request, i.e. anything but latency. */
export type TerminalFault = ResolvedFaultRule & { fault: Exclude<FaultRule["fault"], "latency"> };

/** What the rules decided for one request. */
export interface FaultPlan {
  latencyMs: number;
  fault: TerminalFault | null;
}

export interface FaultRequest {
  provider: ProviderName;
  operation: OperationName;
  /** The database name a create asks for; absent on look-ups. */
  name?: string | undefined;
  /** False under `app.request()`, where there is no connection to drop. */
  canCloseConnection: boolean;
}

export interface FaultBook {
  rules(): ResolvedFaultRule[];
  /** Replaces every rule; throws a ZodError when one is invalid. */
  replace(rules: readonly FaultRule[]): void;
  plan(request: FaultRequest): FaultPlan;
}

const NEEDS_CONNECTION = new Set<FaultRule["fault"]>(["drop", "lost_response"]);

export function createFaultBook(random: () => number = Math.random): FaultBook {
  let rules: ResolvedFaultRule[] = [];
  // Uses left per rule, by position; rules are replaced as a whole so positions hold.
  let usesLeft: number[] = [];

  const matches = (rule: ResolvedFaultRule, request: FaultRequest): boolean =>
    (rule.provider === "*" || rule.provider === request.provider) &&
    (rule.operation === "*" || rule.operation === request.operation) &&
    (rule.namePrefix === undefined || (request.name?.startsWith(rule.namePrefix) ?? false)) &&
    (request.canCloseConnection || !NEEDS_CONNECTION.has(rule.fault));

  const fires = (index: number, rule: ResolvedFaultRule): boolean => {
    if ((usesLeft[index] ?? 0) <= 0) return false;
    if (rule.rate < 1 && random() >= rule.rate) return false;
    usesLeft[index] = (usesLeft[index] ?? 0) - 1;
    return true;
  };

  return {
    rules: () => rules.map((rule) => ({ ...rule })),
    replace(next) {
      rules = faultRulesSchema.parse(next);
      usesLeft = rules.map((rule) => rule.times ?? Number.POSITIVE_INFINITY);
    },
    plan(request) {
      let latencyMs = 0;
      for (const [index, rule] of rules.entries()) {
        if (!matches(rule, request) || !fires(index, rule)) continue;
        if (rule.fault === "latency") {
          latencyMs += rule.latencyMs ?? 0;
          continue;
        }
        return { latencyMs, fault: rule as TerminalFault };
      }
      return { latencyMs, fault: null };
    },
  };
}
