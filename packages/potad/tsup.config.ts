import { defineConfig } from "tsup";

export default defineConfig({
  entry: ["src/index.ts"],
  format: ["esm", "cjs"],
  dts: true,
  clean: true,
  target: "es2022",
  platform: "neutral",
  // Inline the layout constants (R_ADDR, HEADER_STRIDE, ...) at their uses: V8 does not fold a
  // module-level const into the code that reads it, and the hot paths read dozens of them.
  esbuildOptions(options) {
    options.minifySyntax = true;
  },
});
