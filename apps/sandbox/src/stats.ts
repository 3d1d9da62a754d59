import { type OperationName, PROVIDER_NAMES, type ProviderName } from "./providers/names.ts";

/** What `GET /__sandbox/stats` answers, and `state.stats()` returns. */
export interface SandboxStats {
  /** Databases created per provider, by `"<scope>/<name>"`; a count above 1 is a duplicate. */
  creations: Record<ProviderName, Record<string, number>>;
  /** Every create and find call that reached a provider, faulted and unauthorized ones included. */
  requests: Record<ProviderName, Record<OperationName, number>>;
  /** `"<provider>:<scope>/<name>"` for every creation counted more than once. */
  duplicates: string[];
}

export interface Stats {
  countRequest(provider: ProviderName, operation: OperationName): void;
  countCreation(provider: ProviderName, key: string): void;
  snapshot(): SandboxStats;
  reset(): void;
}

export function createStats(): Stats {
  let creations = perProvider(() => new Map<string, number>());
  let requests = perProvider(() => perOperation(() => 0));

  return {
    countRequest(provider, operation) {
      requests[provider][operation] += 1;
    },
    countCreation(provider, key) {
      const counts = creations[provider];
      counts.set(key, (counts.get(key) ?? 0) + 1);
    },
    snapshot() {
      const duplicates = PROVIDER_NAMES.flatMap((provider) =>
        [...creations[provider]].filter(([, count]) => count > 1).map(([key]) => `${provider}:${key}`),
      );
      return {
        creations: perProvider((provider) => Object.fromEntries(creations[provider])),
        requests: perProvider((provider) => ({ ...requests[provider] })),
        duplicates,
      };
    },
    reset() {
      creations = perProvider(() => new Map());
      requests = perProvider(() => perOperation(() => 0));
    },
  };
}

function perProvider<T>(make: (provider: ProviderName) => T): Record<ProviderName, T> {
  return { artie: make("artie"), bridgeport: make("bridgeport"), prisma: make("prisma") };
}

function perOperation<T>(make: (operation: OperationName) => T): Record<OperationName, T> {
  return { create: make("create"), find: make("find") };
}
