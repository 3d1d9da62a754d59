import { type RedisConnection, readJobResult } from "@provisioner/queue";

/**
 * Every value under `prefix:` as text, whatever the key's type: what a secret scan reads. A job's
 * result is stored deflated (packages/queue job-result.ts), so it is read inflated too.
 */
export async function readAllValues(connection: RedisConnection, prefix: string): Promise<string[]> {
  const values: string[] = [];
  let cursor = "0";
  do {
    const [next, keys] = await connection.scan(cursor, "MATCH", `${prefix}:*`, "COUNT", 1000);
    for (const key of keys) {
      const type = await connection.type(key);
      if (type === "string") values.push((await connection.get(key)) ?? "");
      else if (type === "hash") values.push(...hashValues(await connection.hgetall(key)));
      else if (type === "list") values.push(...(await connection.lrange(key, 0, -1)));
      else if (type === "set") values.push(...(await connection.smembers(key)));
      else if (type === "zset") values.push(...(await connection.zrange(key, "0", "-1")));
      else if (type === "stream") values.push(JSON.stringify(await connection.xrange(key, "-", "+")));
      values.push(key);
    }
    cursor = next;
  } while (cursor !== "0");
  return values;
}

function hashValues(hash: Record<string, string>): string[] {
  const values = Object.values(hash);
  if (hash.returnvalue === undefined) return values;
  let stored: unknown;
  try {
    stored = JSON.parse(hash.returnvalue);
  } catch {
    return values;
  }
  const result = readJobResult(stored);
  return result ? [...values, JSON.stringify(result)] : values;
}
