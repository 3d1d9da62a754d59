import { expect, it } from "vitest";
import { canonicalJson } from "./canonical.ts";

it("writes equal values identically whatever their key order", () => {
  expect(canonicalJson({ b: 1, a: { d: [1, { z: 1, y: 2 }], c: null } })).toBe(
    canonicalJson({ a: { c: null, d: [1, { y: 2, z: 1 }] }, b: 1 }),
  );
  expect(canonicalJson({ a: undefined, b: 2 })).toBe('{"b":2}');
});
