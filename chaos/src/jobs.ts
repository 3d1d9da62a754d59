// The run's jobs: one unique database each, across the three HTTP providers (and `mysql`
// when a server is configured), a fixed share of them designed to fail.
import { DOOMED_PREFIX } from "./faults.ts";

export const providers = ["artie", "bridgeport", "prisma"] as const;
export type ChaosProvider = (typeof providers)[number] | "mysql";

/**
 * A designed failure at a real MySQL/MariaDB server, which the sandbox's fault rules do not
 * reach: a character set it does not know is a non-retryable refusal (1115).
 */
export const DOOMED_CHARACTER_SET = "doomed_charset";

/** A mysql job's database name: a plain identifier, unique to the run. */
export const mysqlNameOf = (name: string) => name.replaceAll("-", "_");

export interface PlannedJob {
  index: number;
  provider: ChaosProvider;
  /** `chaos-<run>-<index>`: repeating a bulk after a 503 makes no second job. */
  idempotencyKey: string;
  name: string;
  /** The sandbox answers 400 to its create: it must end dead. */
  doomed: boolean;
  /** The item of `POST /v1/jobs/bulk`. */
  request: { provider: ChaosProvider; idempotencyKey: string; input: Record<string, unknown> };
}

/** The one Prisma project every Prisma job creates its database in. */
export const prismaProject = "proj_chaos";

// Databases per BRIDGEPORT environment and Artie connector: a look-up lists one of them,
// and should not have to page through the whole run.
const perScope = 250;

/** With `withMysql`, every fourth job is a `mysql` one. */
export function planJobs(runId: string, count: number, doomedShare: number, withMysql = false): PlannedJob[] {
  const among: readonly ChaosProvider[] = withMysql ? [...providers, "mysql"] : providers;
  return Array.from({ length: count }, (_, index) => {
    // Four providers and the default doomed share (one in 20) would doom mysql jobs only;
    // shifting each round of four by one spreads the designed failures over every provider.
    const turn = withMysql ? index + Math.floor(index / among.length) : index;
    const provider = among[turn % among.length] as ChaosProvider;
    // Spread evenly: job i is doomed when the running share crosses a whole number.
    const doomed = Math.floor((index + 1) * doomedShare) > Math.floor(index * doomedShare);
    const idempotencyKey = `chaos-${runId}-${index}`;
    const name = `${doomed ? DOOMED_PREFIX : ""}${idempotencyKey}`;
    const scope = Math.floor(index / perScope);
    return {
      index,
      provider,
      idempotencyKey,
      name,
      doomed,
      request: { provider, idempotencyKey, input: inputFor(provider, name, scope, doomed) },
    };
  });
}

function inputFor(provider: ChaosProvider, name: string, scope: number, doomed: boolean): Record<string, unknown> {
  switch (provider) {
    case "artie":
      return { name, connector: { type: "snowflake", uuid: `chaos-conn-${scope}`, sharedConfig: { password: "pw" } } };
    case "bridgeport":
      return { envId: `env_chaos_${scope}`, name, type: "postgres", password: "pw" };
    case "prisma":
      return { projectId: prismaProject, name };
    case "mysql":
      return { name: mysqlNameOf(name), ...(doomed ? { characterSet: DOOMED_CHARACTER_SET } : {}) };
  }
}
