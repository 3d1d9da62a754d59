import { describe, expect, it } from "vitest";
import { isRedisUnavailable } from "./redis.ts";

describe("isRedisUnavailable", () => {
  it.each([
    "CLUSTERDOWN The cluster is down",
    "CLUSTERDOWN Hash slot not served",
    "TRYAGAIN Multiple keys request during rehashing of slot",
    "Failed to refresh slots cache.",
    "Too many Cluster redirections. Last error: Error: MOVED 12182 127.0.0.1:7002",
    "None of startup nodes is available",
    "connect ECONNREFUSED 127.0.0.1:7001",
    "Command timed out",
  ])("counts %j as Redis being unavailable", (message) => {
    expect(isRedisUnavailable(new Error(message))).toBe(true);
  });

  it("does not count a bad command or a cross-slot request: those are bugs, not outages", () => {
    expect(isRedisUnavailable(new Error("ERR wrong number of arguments for 'hget' command"))).toBe(false);
    expect(isRedisUnavailable(new Error("CROSSSLOT Keys in request don't hash to the same slot"))).toBe(false);
    expect(isRedisUnavailable("CLUSTERDOWN")).toBe(false);
  });
});
