import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    testTimeout: 60_000,
    hookTimeout: 600_000,
    // Container tests share one engine on a 2-core machine: keep files parallel but bounded.
    maxWorkers: 2,
    reporters: ["default"],
  },
});
