import { describe, expect, it } from "vitest";
import { fullJitterDelay } from "./backoff.ts";

const settings = { baseMs: 1_000, capMs: 30_000 };

describe("fullJitterDelay", () => {
  it("draws from the whole window, zero to base * 2^(attempt-1)", () => {
    expect(fullJitterDelay(settings, 1, () => 0)).toBe(0);
    expect(fullJitterDelay(settings, 1, () => 0.999_999)).toBe(1_000);
    expect(fullJitterDelay(settings, 3, () => 0.5)).toBe(2_000);
    expect(fullJitterDelay(settings, 4, () => 1)).toBe(8_000);
  });

  it("never exceeds the cap, however many attempts", () => {
    expect(fullJitterDelay(settings, 40, () => 1)).toBe(30_000);
    for (let attempt = 1; attempt < 60; attempt++) {
      const delay = fullJitterDelay(settings, attempt);
      expect(delay).toBeGreaterThanOrEqual(0);
      expect(delay).toBeLessThanOrEqual(30_000);
    }
  });

  it("spreads retries instead of synchronising them", () => {
    const delays = new Set(Array.from({ length: 50 }, () => fullJitterDelay(settings, 5)));
    expect(delays.size).toBeGreaterThan(40);
  });
});
