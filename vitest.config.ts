import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    // builds dist/ for the tests that spawn the CLI; fetches or reports missing data (test/support/env.ts)
    globalSetup: ["test/support/global-setup.ts"],
    // Timeouts only catch hangs: a test never depends on how fast a loaded machine runs it.
    testTimeout: 600_000,
    hookTimeout: 600_000,
    // Two cores: run test files in forks, at most two at a time, so CPU-heavy suites do not starve each other.
    pool: "forks",
    maxWorkers: 2,
  },
});
