// API_TOKENS_FILE: named tokens with scopes, read once at start. Every message names where
// the problem is (`tokens.1.scopes.0`), never a token's value.
import { readFileSync } from "node:fs";
import { z } from "zod";
import { type TokenEntry, tokenDigest } from "./auth.ts";
import { scopes } from "./identity.ts";

const envName = /^[A-Za-z_][A-Za-z0-9_]*$/;
const hexDigest = /^[0-9a-f]{64}$/i;
const isEnvReference = (token: string) => token.startsWith("env:");
const isDigest = (token: string) => token.startsWith("sha256:");

const tokenEntrySchema = z.strictObject({
  /** Shown in logs in place of the token. */
  name: z
    .string()
    .regex(
      /^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$/,
      "must be 1 to 64 letters, digits, _ . : or -, starting with a letter or digit",
    ),
  /** `env:NAME` (read from the environment), `sha256:<64 hex digits>` (a digest of the token), or the token itself. */
  token: z
    .string()
    .min(1, "is empty")
    .refine(
      (token) => !isEnvReference(token) || envName.test(token.slice(4)),
      "env: must be followed by a variable name",
    )
    .refine((token) => !isDigest(token) || hexDigest.test(token.slice(7)), "sha256: must be followed by 64 hex digits"),
  scopes: z
    .array(z.enum(scopes, { error: `is not a scope (scopes: ${scopes.join(", ")})` }))
    .min(1, "needs at least one scope"),
});

const tokensFileSchema = z.strictObject({
  tokens: z.array(tokenEntrySchema).min(1, "lists no token"),
});

export class TokensFileError extends Error {
  override name = "TokensFileError";
}

/** A token written in the file, resolved: `env:` read, `sha256:` kept as a digest. */
function resolve(entry: z.output<typeof tokenEntrySchema>, where: string, env: NodeJS.ProcessEnv): TokenEntry {
  const { name, token } = entry;
  const granted = [...new Set(entry.scopes)];
  if (isEnvReference(token)) {
    const variable = token.slice(4);
    const value = env[variable];
    if (value === undefined) throw new TokensFileError(`${where}.token: environment variable ${variable} is not set`);
    if (value === "") throw new TokensFileError(`${where}.token: environment variable ${variable} is empty`);
    return { name, token: value, scopes: granted };
  }
  if (isDigest(token)) return { name, sha256: token.slice(7).toLowerCase(), scopes: granted };
  return { name, token, scopes: granted };
}

const digestHex = (entry: TokenEntry) => entry.sha256 ?? tokenDigest(entry.token).toString("hex");

/**
 * The tokens a tokens file lists. `others` are tokens known besides the file (API_TOKEN's
 * "default"), labelled for messages: a name or a token may stand only once in all.
 */
export function parseTokensFile(
  text: string,
  env: NodeJS.ProcessEnv,
  others: readonly { label: string; entry: TokenEntry }[] = [],
): TokenEntry[] {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    // JSON.parse's message quotes the text around the fault, which may be a token.
    throw new TokensFileError("is not valid JSON");
  }
  const parsed = tokensFileSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const where = issue?.path.length ? issue.path.join(".") : "(the document)";
    throw new TokensFileError(`${where}: ${issue?.message ?? "is invalid"}`);
  }
  const entries = parsed.data.tokens.map((entry, i) => resolve(entry, `tokens.${i}`, env));
  const seen = [...others];
  entries.forEach((entry, i) => {
    const sameName = seen.find((other) => other.entry.name === entry.name);
    if (sameName) throw new TokensFileError(`tokens.${i}.name: ${entry.name} is taken by ${sameName.label}`);
    const sameToken = seen.find((other) => digestHex(other.entry) === digestHex(entry));
    if (sameToken) throw new TokensFileError(`tokens.${i}.token: is the same token as ${sameToken.label}`);
    seen.push({ label: `tokens.${i} (${entry.name})`, entry });
  });
  return entries;
}

/** Reads and parses `path`; the message starts with the path. */
export function readTokensFile(
  path: string,
  env: NodeJS.ProcessEnv,
  others: readonly { label: string; entry: TokenEntry }[] = [],
): TokenEntry[] {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? "unknown error";
    throw new TokensFileError(`${path}: cannot be read (${code})`);
  }
  try {
    return parseTokensFile(text, env, others);
  } catch (error) {
    if (error instanceof TokensFileError) throw new TokensFileError(`${path}: ${error.message}`);
    throw error;
  }
}
