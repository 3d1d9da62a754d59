import { z } from "zod";
import { faultRulesBodySchema } from "./faults.ts";
import type { StartSandboxOptions } from "./start.ts";

const faultsJson = z
  .string()
  .transform((text, check) => {
    try {
      return JSON.parse(text) as unknown;
    } catch {
      check.addIssue({ code: "custom", message: "is not valid JSON" });
      return z.NEVER;
    }
  })
  // The same JSON as POST /__sandbox/faults takes; a bare array of rules is accepted too.
  .transform((value) => (Array.isArray(value) ? { rules: value } : value))
  .pipe(faultRulesBodySchema.transform((body) => body.rules));

const envSchema = z.object({
  SANDBOX_PORT: z.coerce.number().int().min(0).max(65_535).default(4010),
  SANDBOX_HOST: z.string().min(1).default("127.0.0.1"),
  SANDBOX_ARTIE_TOKEN: z.string().min(1).optional(),
  SANDBOX_BRIDGEPORT_TOKEN: z.string().min(1).optional(),
  SANDBOX_PRISMA_TOKEN: z.string().min(1).optional(),
  SANDBOX_PRISMA_PROVISIONING_MS: z.coerce.number().int().min(0).default(0),
  SANDBOX_FAULTS: faultsJson.optional(),
});

/** The sandbox process's configuration, from its environment. Throws a ZodError naming the variable. */
export function readSandboxEnv(env: Record<string, string | undefined>): StartSandboxOptions {
  const parsed = envSchema.parse(env);
  const write = (token: string | undefined) => (token === undefined ? {} : { write: token });
  return {
    port: parsed.SANDBOX_PORT,
    host: parsed.SANDBOX_HOST,
    tokens: {
      artie: write(parsed.SANDBOX_ARTIE_TOKEN),
      bridgeport: write(parsed.SANDBOX_BRIDGEPORT_TOKEN),
      prisma: write(parsed.SANDBOX_PRISMA_TOKEN),
    },
    faults: parsed.SANDBOX_FAULTS ?? [],
    prismaProvisioningMs: parsed.SANDBOX_PRISMA_PROVISIONING_MS,
  };
}
