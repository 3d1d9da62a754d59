import { canonicalJson, sha256 } from "@provisioner/json";
import { type ProviderName, secretInputFields } from "@provisioner/provider-client";

function withoutSecrets(provider: ProviderName, input: Record<string, unknown>): Record<string, unknown> {
  const copy = structuredClone(input);
  for (const path of secretInputFields[provider]) {
    let node: unknown = copy;
    for (const key of path.slice(0, -1)) node = (node as Record<string, unknown> | undefined)?.[key];
    if (typeof node === "object" && node !== null) delete (node as Record<string, unknown>)[path.at(-1) as string];
  }
  return copy;
}

/**
 * The key that makes a re-run of the same file queue nothing new: a hash of the provider,
 * the account and the rendered input. Secret fields (a password) are left out: the key is
 * shown in every job view, and a hash of a weak password can be guessed from it. The API
 * leaves them out of its own "same request?" check too, so a changed password alone is a
 * repeat, not a new database.
 */
export function idempotencyKeyFor(provider: ProviderName, account: string, input: Record<string, unknown>): string {
  return `cli:${sha256(canonicalJson({ provider, account, input: withoutSecrets(provider, input) }))}`;
}
