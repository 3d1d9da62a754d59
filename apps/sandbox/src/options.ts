import { z } from "zod";
import { type FaultRule, faultRulesSchema } from "./faults.ts";
import { defaultSandboxTokens } from "./provider-env.ts";
import type { ProviderName } from "./providers/names.ts";

/** The bearer tokens one provider accepts. */
export interface TokenPair {
  /** May create and look up. */
  write: string;
  /** May only look up; a create with it is answered 403. */
  read: string;
}

/** Options of `createSandboxApp` and `startSandbox`. */
export interface SandboxOptions {
  /**
   * Bearer tokens per provider. Defaults: Artie `artie-sandbox-key` / `artie-sandbox-readonly`,
   * BRIDGEPORT `bport_pat_sandbox` / `bport_pat_sandbox_readonly`, Prisma
   * `prisma-sandbox-token` / `prisma-sandbox-readonly`. Omitted ones keep their default.
   */
  tokens?: { [P in ProviderName]?: Partial<TokenPair> };
  /** Fault rules in force from the start. Default none. */
  faults?: FaultRule[];
  /** How long a new Prisma database stays `provisioning` before it is `ready`. Default 0 (ready at once). */
  prismaProvisioningMs?: number;
}

const tokenPair = (write: string, read: string) =>
  z
    .strictObject({
      write: z.string().min(1).default(write),
      read: z.string().min(1).default(read),
    })
    .prefault({});

export const sandboxOptionsSchema = z.strictObject({
  tokens: z
    .strictObject({
      artie: tokenPair(defaultSandboxTokens.artie, "artie-sandbox-readonly"),
      bridgeport: tokenPair(defaultSandboxTokens.bridgeport, "bport_pat_sandbox_readonly"),
      prisma: tokenPair(defaultSandboxTokens.prisma, "prisma-sandbox-readonly"),
    })
    .prefault({}),
  faults: faultRulesSchema.default([]),
  prismaProvisioningMs: z.number().int().min(0).default(0),
});

export type ResolvedOptions = z.output<typeof sandboxOptionsSchema>;

/** Applies the defaults; throws a ZodError naming the bad option. */
export function resolveOptions(options: SandboxOptions = {}): ResolvedOptions {
  return sandboxOptionsSchema.parse(options satisfies z.input<typeof sandboxOptionsSchema>);
}
