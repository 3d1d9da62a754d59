import { expect, it } from "vitest";
import { canonicalJson } from "./canonical.ts";

it("writes equal values identically whatever their key order", () => {
  expect(canonicalJson({ b: 1, a: { d: [1, { z: 1, y: 2 }], c: null } })).toBe(
    canonicalJson({ a: { c: null, d: [1, { y: 2, z: 1 }] }, b: 1 }),
  );
  expect(canonicalJson({ a: undefined, b: 2 })).toBe('{"b":2}');
});

// The writer before it was rewritten for speed: stored request hashes were made with it, so
// every value must still be written byte for byte the same.
function earlierCanonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(earlierCanonicalJson).join(",")}]`;
  if (typeof value === "object" && value !== null) {
    const entries = Object.entries(value)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${earlierCanonicalJson(v)}`).join(",")}}`;
  }
  return JSON.stringify(value) ?? "null";
}

it("writes every value exactly as the writer that made the stored request hashes did", () => {
  let seed = 42;
  const next = (n: number) => {
    seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
    return seed % n;
  };
  const keys = ["a", "B", "b", "é", "z", "10", "9", "", "a b", '"q"', "\u{1F600}", "\uFFFF", "_"];
  const leaf = () => [null, true, false, 0, -1.5, 1e21, "", "x\ny", "\u2028", undefined][next(10)] as unknown;
  const value = (depth: number): unknown => {
    const kind = depth > 3 ? 3 : next(4);
    if (kind === 0) return Array.from({ length: next(4) }, () => value(depth + 1));
    if (kind === 3) return leaf();
    return Object.fromEntries(Array.from({ length: next(6) }, () => [keys[next(keys.length)], value(depth + 1)]));
  };
  for (let i = 0; i < 2_000; i++) {
    const sample = value(0);
    expect(canonicalJson(sample)).toBe(earlierCanonicalJson(sample));
  }
});
