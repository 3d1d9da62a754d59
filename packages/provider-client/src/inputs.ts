import type { z } from "zod";
import { classifyInvalidInput } from "./classify.ts";
import type { ProviderName } from "./provider-names.ts";
import { artieCreateInputSchema } from "./schemas/artie.ts";
import { bridgeportCreateInputSchema } from "./schemas/bridgeport.ts";
import { postgresCreateInputSchema } from "./schemas/postgres.ts";
import { prismaCreateInputSchema } from "./schemas/prisma.ts";
import type { ProviderInputs } from "./types.ts";

/** The zod schema of each provider's create body: the API, the worker and the client use these. */
export const providerInputSchemas = {
  artie: artieCreateInputSchema,
  bridgeport: bridgeportCreateInputSchema,
  prisma: prismaCreateInputSchema,
  postgres: postgresCreateInputSchema,
} satisfies { [P in ProviderName]: z.ZodType<ProviderInputs[P]> };

/**
 * Paths of input fields that hold credentials. They are encrypted at rest and removed
 * from anything shown.
 */
export const secretInputFields: { [P in ProviderName]: readonly (readonly string[])[] } = {
  artie: [["connector", "sharedConfig"]],
  bridgeport: [["password"]],
  prisma: [],
  postgres: [],
};

/** Validates a create body; the error names the first offending field. */
export function parseProviderInput<P extends ProviderName>(provider: P, input: unknown): ProviderInputs[P] {
  const parsed = providerInputSchemas[provider].safeParse(input);
  if (parsed.success) return parsed.data as ProviderInputs[P];
  const issue = parsed.error.issues[0];
  const field = issue?.path.join(".") ?? "";
  throw classifyInvalidInput(provider, field, issue?.message ?? "is invalid");
}

/**
 * The request's identity: the database name and where it goes. Two requests with the
 * same identity at the same account would create the same database.
 */
export function identityKeyOf<P extends ProviderName>(provider: P, input: ProviderInputs[P]): string {
  switch (provider) {
    case "artie": {
      const { name, connector } = input as ProviderInputs["artie"];
      return `${connector.uuid ?? connector.type ?? "default"}/${name}`;
    }
    case "bridgeport": {
      const { envId, name } = input as ProviderInputs["bridgeport"];
      return `${envId}/${name}`;
    }
    case "prisma": {
      const { projectId, branchId, logicalId, name } = input as ProviderInputs["prisma"];
      // Without a name or logicalId Prisma makes a fresh database each time: the body is the identity.
      return `${projectId}/${branchId ?? "default"}/${logicalId ?? name ?? JSON.stringify(input)}`;
    }
    case "postgres":
      return (input as ProviderInputs["postgres"]).name;
  }
  throw new Error(`unknown provider ${String(provider)}`);
}
