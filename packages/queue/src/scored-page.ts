import type { RedisConnection } from "./redis.ts";

/**
 * Up to `count` members of each zset at or after `cursor` (newest first, ties by id highest
 * first), merged: one ZCOUNT (ties at the cursor's score) and one ZREVRANGEBYSCORE per key.
 */
export async function pageScored(
  connection: RedisConnection,
  keys: readonly string[],
  cursor: { score: number; id: string } | undefined,
  count: number,
): Promise<{ key: string; id: string; score: number }[]> {
  const pages = await Promise.all(
    keys.map(async (key) => {
      const ties = cursor ? await connection.zcount(key, cursor.score, cursor.score) : 0;
      const max = cursor ? String(cursor.score) : "+inf";
      const flat = await connection.zrevrangebyscore(key, max, "-inf", "WITHSCORES", "LIMIT", 0, count + ties);
      const entries: { key: string; id: string; score: number }[] = [];
      for (let i = 0; i < flat.length; i += 2) {
        entries.push({ key, id: flat[i] as string, score: Number(flat[i + 1]) });
      }
      return entries;
    }),
  );
  const after = (e: { id: string; score: number }) =>
    !cursor || e.score < cursor.score || (e.score === cursor.score && e.id < cursor.id);
  return pages
    .flat()
    .filter(after)
    .sort((a, b) => b.score - a.score || (a.id < b.id ? 1 : a.id > b.id ? -1 : 0))
    .slice(0, count);
}

/** A cursor names the last entry shown: its score and id, opaque to clients. */
export const encodeCursor = (score: number, id: string) => Buffer.from(`${score}:${id}`).toString("base64url");
export function decodeCursor(cursor: string | undefined): { score: number; id: string } | undefined {
  if (!cursor) return undefined;
  const match = /^(\d{1,15}):(.+)$/.exec(Buffer.from(cursor, "base64url").toString());
  return match ? { score: Number(match[1]), id: match[2] as string } : undefined;
}
