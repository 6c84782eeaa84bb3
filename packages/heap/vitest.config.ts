import { fileURLToPath } from "node:url";
import { defineConfig } from "vitest/config";

export default defineConfig({
  resolve: {
    // Tests and examples import the package by its published name; point it at the source.
    alias: { "@mmkit/heap": fileURLToPath(new URL("./src/index.ts", import.meta.url)) },
  },
  test: {
    include: ["test/**/*.test.ts"],
    // Property tests run for seconds on a loaded 2-core machine; speed is measured in the bench.
    testTimeout: 60_000,
  },
});
