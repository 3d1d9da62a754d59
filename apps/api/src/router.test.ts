import { TrieRouter } from "hono/router/trie-router";
import { describe, expect, it } from "vitest";
import { RememberingTrieRouter } from "./router.ts";

const routes: [string, string, string][] = [
  ["ALL", "/*", "observe"],
  ["ALL", "/v1/*", "authenticate"],
  ["POST", "/v1/jobs", "submit"],
  ["GET", "/v1/jobs/:id", "get"],
  ["POST", "/v1/dead-letters/replay", "replay-many"],
  ["POST", "/v1/dead-letters/:id/replay", "replay-one"],
];
const build = <R extends { add(m: string, p: string, h: string): void }>(router: R) => {
  for (const [method, path, handler] of routes) router.add(method, path, handler);
  return router;
};
const handlersOf = (result: ReturnType<TrieRouter<string>["match"]>) => result[0].map(([handler]) => handler);
const paramsOf = (result: ReturnType<TrieRouter<string>["match"]>) => result[0].map(([, params]) => ({ ...params }));

describe("RememberingTrieRouter", () => {
  it("answers as the trie does, the second time as the first", () => {
    const trie = build(new TrieRouter<string>());
    const remembering = build(new RememberingTrieRouter<string>());
    for (const [method, path] of [
      ["POST", "/v1/jobs"],
      ["POST", "/v1/jobs"],
      ["GET", "/v1/jobs/a1"],
      ["POST", "/v1/dead-letters/replay"],
      ["POST", "/v1/dead-letters/d1/replay"],
      ["GET", "/nowhere"],
      ["GET", "/nowhere"],
    ] as const) {
      const expected = trie.match(method, path);
      const got = remembering.match(method, path);
      expect(handlersOf(got)).toEqual(handlersOf(expected));
      expect(paramsOf(got)).toEqual(paramsOf(expected));
    }
  });

  it("does not remember a match with path parameters: each id gets its own", () => {
    const router = build(new RememberingTrieRouter<string>());
    router.match("GET", "/v1/jobs/first");
    const second = router.match("GET", "/v1/jobs/second");
    expect(paramsOf(second).find((params) => "id" in params)).toEqual({ id: "second" });
  });

  it("starts over when full, so a flood of unknown paths leaves its routes remembered again", () => {
    const router = build(new RememberingTrieRouter<string>());
    for (let i = 0; i < 1_000; i++) router.match("GET", `/unknown-${i}`);
    const first = router.match("POST", "/v1/jobs");
    expect(handlersOf(first)).toEqual(["observe", "authenticate", "submit"]);
    // The trie builds a new result every time: the same object means a remembered one.
    expect(router.match("POST", "/v1/jobs")).toBe(first);
    expect(handlersOf(router.match("GET", "/unknown-999"))).toEqual(["observe"]);
  });
});
