/** The sandbox's default write tokens, one per provider (see `options.ts`). */
export const defaultSandboxTokens = {
  artie: "artie-sandbox-key",
  bridgeport: "bport_pat_sandbox",
  prisma: "prisma-sandbox-token",
} as const;

/**
 * The environment that points Provisioner's default provider accounts at a sandbox
 * listening on `url`, with its default tokens: what `npm start`, the tests, the chaos run
 * and the benchmarks give the API and the workers.
 */
export function sandboxProviderEnv(url: string): Record<string, string> {
  return {
    ARTIE_API_URL: `${url}/artie`,
    ARTIE_API_KEY: defaultSandboxTokens.artie,
    BRIDGEPORT_API_URL: `${url}/bridgeport`,
    BRIDGEPORT_API_TOKEN: defaultSandboxTokens.bridgeport,
    PRISMA_API_URL: `${url}/prisma`,
    PRISMA_SERVICE_TOKEN: defaultSandboxTokens.prisma,
  };
}
