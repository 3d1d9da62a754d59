import {
  createCipheriv,
  createDecipheriv,
  createHash,
  createSecretKey,
  type KeyObject,
  randomFillSync,
} from "node:crypto";

const prefix = "enc:v1:";

/**
 * AES-256-GCM keys by id. `PROVISIONER_ENCRYPTION_KEY` holds one base64 key, or several
 * as `id:base64,id:base64`: the first encrypts, every one decrypts, so a key can rotate
 * while entries written under the old one stay readable.
 */
export interface Keyring {
  currentId: string;
  /** Key objects, made once: building one from a Buffer on every call is measurable. */
  keys: ReadonlyMap<string, KeyObject>;
}

export function parseKeyring(spec: string): Keyring {
  const keys = new Map<string, KeyObject>();
  for (const [index, part] of spec.split(",").entries()) {
    const trimmed = part.trim();
    const separator = trimmed.indexOf(":");
    const encoded = separator === -1 ? trimmed : trimmed.slice(separator + 1);
    const key = Buffer.from(encoded, "base64");
    if (key.length !== 32) {
      throw new Error(
        `PROVISIONER_ENCRYPTION_KEY: key ${index + 1} is not 32 bytes of base64 (generate one with \`openssl rand -base64 32\`)`,
      );
    }
    const id =
      separator === -1 ? createHash("sha256").update(key).digest("hex").slice(0, 8) : trimmed.slice(0, separator);
    keys.set(id, createSecretKey(key));
  }
  const currentId = keys.keys().next().value;
  if (currentId === undefined) throw new Error("PROVISIONER_ENCRYPTION_KEY is empty");
  return { currentId, keys };
}

// 96-bit random IVs, cut from a pool refilled 4,096 at a time: one getrandom call, not one per value.
const ivSize = 12;
let ivPool = Buffer.alloc(0);
let ivOffset = 0;
function nextIv(): Buffer {
  if (ivOffset + ivSize > ivPool.length) {
    ivPool = randomFillSync(Buffer.allocUnsafe(ivSize * 4096));
    ivOffset = 0;
  }
  ivOffset += ivSize;
  return ivPool.subarray(ivOffset - ivSize, ivOffset);
}

/** Encrypts any JSON value into one opaque string that names its key. */
export function encryptValue(keyring: Keyring, value: unknown): string {
  const key = keyring.keys.get(keyring.currentId) as KeyObject;
  const iv = nextIv();
  const cipher = createCipheriv("aes-256-gcm", key, iv);
  const sealed = cipher.update(JSON.stringify(value), "utf8");
  // GCM is a stream mode: final() only computes the tag, and gives back no further bytes.
  const rest = cipher.final();
  const body = rest.length === 0 ? sealed : Buffer.concat([sealed, rest]);
  return `${prefix}${keyring.currentId}:${iv.toString("base64url")}:${cipher.getAuthTag().toString("base64url")}:${body.toString("base64url")}`;
}

export function decryptValue(keyring: Keyring, sealed: string): unknown {
  const [keyId, iv, tag, body] = sealed.slice(prefix.length).split(":");
  const key = keyId === undefined ? undefined : keyring.keys.get(keyId);
  if (!key || !iv || !tag || body === undefined) throw new Error(`cannot decrypt: unknown key id ${keyId ?? "(none)"}`);
  const decipher = createDecipheriv("aes-256-gcm", key, Buffer.from(iv, "base64url"));
  decipher.setAuthTag(Buffer.from(tag, "base64url"));
  const plain = Buffer.concat([decipher.update(Buffer.from(body, "base64url")), decipher.final()]);
  return JSON.parse(plain.toString("utf8"));
}

export const isEncrypted = (value: unknown): value is string => typeof value === "string" && value.startsWith(prefix);

type FieldPaths = readonly (readonly string[])[];

/**
 * A copy of `input` with the value at each path replaced by `replace(value)`. Only the
 * objects along a path are copied; the rest is shared with `input`, which is not changed.
 */
function mapFields(input: Record<string, unknown>, paths: FieldPaths, replace: (value: unknown) => unknown) {
  const copy: Record<string, unknown> = { ...input };
  for (const path of paths) {
    let parent: Record<string, unknown> = copy;
    let reachable = true;
    for (const key of path.slice(0, -1)) {
      const next = parent[key];
      if (typeof next !== "object" || next === null || Array.isArray(next)) {
        reachable = false;
        break;
      }
      const copied = { ...(next as Record<string, unknown>) };
      parent[key] = copied;
      parent = copied;
    }
    const leaf = path.at(-1) as string;
    if (reachable && parent[leaf] !== undefined && parent[leaf] !== null) parent[leaf] = replace(parent[leaf]);
  }
  return copy;
}

export const encryptFields = (keyring: Keyring, input: Record<string, unknown>, paths: FieldPaths) =>
  mapFields(input, paths, (value) => encryptValue(keyring, value));

export const decryptFields = (keyring: Keyring, input: Record<string, unknown>, paths: FieldPaths) =>
  mapFields(input, paths, (value) => (isEncrypted(value) ? decryptValue(keyring, value) : value));

/** What may be shown: every secret field replaced by a marker. */
export const redactFields = (input: Record<string, unknown>, paths: FieldPaths) =>
  mapFields(input, paths, () => "[redacted]");
