import type { Params, Result, Router } from "hono/router";
import { TrieRouter } from "hono/router/trie-router";

/** How many matches are remembered: the API's parameterless routes, with room to spare. */
const rememberedMatches = 256;

/**
 * Hono's TrieRouter, remembering its answer for a path without parameters (`POST /v1/jobs`,
 * `GET /healthz`). Hono's default (SmartRouter) would take RegExpRouter, which matches with
 * one regular expression and prebuilt handler lists, but it refuses this app's routes (a
 * static segment beside a parameter, as in `/v1/dead-letters/replay` and
 * `/v1/dead-letters/:id/replay`, and bull-board's), so every request went through the trie's
 * search: ~6 KB allocated a `POST /v1/jobs` (its handler list built and sorted per request)
 * for the same answer each time. A match with parameters is not remembered (one per id), and
 * a full memory starts over, so a flood of unknown paths can neither grow it nor crowd the
 * API's own routes out of it for good.
 */
export class RememberingTrieRouter<T> implements Router<T> {
  name = "RememberingTrieRouter";
  readonly #trie = new TrieRouter<T>();
  readonly #remembered = new Map<string, Result<T>>();

  add(method: string, path: string, handler: T): void {
    this.#remembered.clear();
    this.#trie.add(method, path, handler);
  }

  match(method: string, path: string): Result<T> {
    const key = `${method} ${path}`;
    const remembered = this.#remembered.get(key);
    if (remembered) return remembered;
    const result = this.#trie.match(method, path);
    if (withoutParams(result)) {
      // Bounded, and never frozen full: a burst of unknown paths (matched before authentication)
      // must not leave the API's own routes unremembered for the rest of its life.
      if (this.#remembered.size >= rememberedMatches) this.#remembered.clear();
      this.#remembered.set(key, result);
    }
    return result;
  }
}

/** Whether no matched handler received a path parameter (the trie's result holds each handler's own). */
function withoutParams<T>(result: Result<T>): boolean {
  for (const [, params] of result[0]) {
    for (const _ in params as Params) return false;
  }
  return true;
}
