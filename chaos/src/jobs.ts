// The run's jobs: one unique database each, across the three HTTP providers, a fixed share
// of them designed to fail.
import { DOOMED_PREFIX } from "./faults.ts";

export const providers = ["artie", "bridgeport", "prisma"] as const;
export type ChaosProvider = (typeof providers)[number];

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

export function planJobs(runId: string, count: number, doomedShare: number): PlannedJob[] {
  return Array.from({ length: count }, (_, index) => {
    const provider = providers[index % providers.length] as ChaosProvider;
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
      request: { provider, idempotencyKey, input: inputFor(provider, name, scope) },
    };
  });
}

function inputFor(provider: ChaosProvider, name: string, scope: number): Record<string, unknown> {
  switch (provider) {
    case "artie":
      return { name, connector: { type: "snowflake", uuid: `chaos-conn-${scope}`, sharedConfig: { password: "pw" } } };
    case "bridgeport":
      return { envId: `env_chaos_${scope}`, name, type: "postgres", password: "pw" };
    case "prisma":
      return { projectId: prismaProject, name };
  }
}
