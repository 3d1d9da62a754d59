import { describe, expect, it } from "vitest";
import { abortWhen } from "./abort.ts";

describe("abortWhen", () => {
  it("aborts the controller with the signal's reason", () => {
    const parent = new AbortController();
    const child = new AbortController();
    abortWhen(parent.signal, child);
    parent.abort(new Error("shutting down"));
    expect(child.signal.aborted).toBe(true);
    expect((child.signal.reason as Error).message).toBe("shutting down");
  });

  it("aborts at once for a signal already aborted", () => {
    const child = new AbortController();
    abortWhen(AbortSignal.abort("gone"), child);
    expect(child.signal.reason).toBe("gone");
  });

  it("no longer follows the signal once unlinked, and leaves it untouched when the controller aborts", () => {
    const parent = new AbortController();
    const child = new AbortController();
    const unlink = abortWhen(parent.signal, child);
    child.abort("own");
    expect(parent.signal.aborted).toBe(false);
    const other = new AbortController();
    abortWhen(parent.signal, other)();
    unlink();
    parent.abort("late");
    expect(other.signal.aborted).toBe(false);
    expect(child.signal.reason).toBe("own");
  });

  it("is a no-op without a signal", () => {
    const child = new AbortController();
    abortWhen(undefined, child)();
    expect(child.signal.aborted).toBe(false);
  });
});
