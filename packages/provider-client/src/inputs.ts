import type { z } from "zod";
import { classifyInvalidInput } from "./classify.ts";
import type { ProviderName } from "./provider-names.ts";
import { artieCreateInputSchema } from "./schemas/artie.ts";
import { bridgeportCreateInputSchema } from "./schemas/bridgeport.ts";
import { mysqlCreateInputSchema } from "./schemas/mysql.ts";
import { postgresCreateInputSchema } from "./schemas/postgres.ts";
import { prismaCreateInputSchema } from "./schemas/prisma.ts";
import type { ProviderInputs, ProviderRequest } from "./types.ts";

/** The zod schema of each provider's create body: the API, the worker and the client use these. */
export const providerInputSchemas = {
  artie: artieCreateInputSchema,
  bridgeport: bridgeportCreateInputSchema,
  prisma: prismaCreateInputSchema,
  postgres: postgresCreateInputSchema,
  mysql: mysqlCreateInputSchema,
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
  mysql: [],
};

/** Validates a create body; the error names the first offending field. */
export function parseProviderInput<P extends ProviderName>(provider: P, input: unknown): ProviderInputs[P] {
  const parsed = providerInputSchemas[provider].safeParse(input);
  if (parsed.success) return parsed.data as ProviderInputs[P];
  const issue = parsed.error.issues[0];
  const field = issue?.path.join(".") ?? "";
  throw classifyInvalidInput(provider, field, issue?.message ?? "is invalid");
}

const requestParsers: { [P in ProviderName]: (input: unknown) => { provider: P; input: ProviderInputs[P] } } = {
  artie: (input) => ({ provider: "artie", input: parseProviderInput("artie", input) }),
  bridgeport: (input) => ({ provider: "bridgeport", input: parseProviderInput("bridgeport", input) }),
  prisma: (input) => ({ provider: "prisma", input: parseProviderInput("prisma", input) }),
  postgres: (input) => ({ provider: "postgres", input: parseProviderInput("postgres", input) }),
  mysql: (input) => ({ provider: "mysql", input: parseProviderInput("mysql", input) }),
};

/** Validates a create body into a request whose `input` is typed by its `provider`. */
export function parseProviderRequest(provider: ProviderName, input: unknown): ProviderRequest {
  return requestParsers[provider](input);
}

// One function per provider, keyed so that `identityKeys[provider]` takes that provider's
// input: TypeScript narrows the pair without a cast.
const identityKeys: { [P in ProviderName]: (input: ProviderInputs[P]) => string } = {
  artie: ({ name, connector }) => `${connector.uuid ?? connector.type ?? "default"}/${name}`,
  bridgeport: ({ envId, name }) => `${envId}/${name}`,
  // Without a name or logicalId Prisma makes a fresh database each time: the body is the identity.
  prisma: (input) =>
    `${input.projectId}/${input.branchId ?? "default"}/${input.logicalId ?? input.name ?? JSON.stringify(input)}`,
  postgres: ({ name }) => name,
  mysql: ({ name }) => name,
};

/**
 * The request's identity: the database name and where it goes. Two requests with the
 * same identity at the same account would create the same database.
 */
export function identityKeyOf<P extends ProviderName>(provider: P, input: ProviderInputs[P]): string {
  return identityKeys[provider](input);
}
