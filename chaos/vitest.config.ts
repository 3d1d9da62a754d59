import { defineConfig } from "vitest/config";

// The chaos test starts Redis, the sandbox, the API and workers as processes: minutes, not seconds, of budget.
export default defineConfig({
  test: {
    testTimeout: 120_000,
    hookTimeout: 30_000,
  },
});
