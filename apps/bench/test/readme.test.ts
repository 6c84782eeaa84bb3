import { readFileSync } from "node:fs";
import { expect, test } from "vitest";
import { createContext } from "../src/harness/runner.js";
import type { Measurement } from "../src/harness/types.js";
import { DEFAULT_SEED } from "../src/workloads/random.js";

const read = (path: string) => readFileSync(new URL(path, import.meta.url), "utf8");

// The README's first ts block is examples/suite.ts, verbatim, and it is a suite that runs.
test("README's first example is examples/suite.ts", () => {
  const block = /```ts\n([\s\S]*?)```/.exec(read("../README.md"))?.[1];
  expect(block).toBe(read("../examples/suite.ts"));
});

test("the README's example suite runs and records what it says", async () => {
  const { default: suite } = await import("../examples/suite.js");
  const into = { measurements: [] as Measurement[], log: [] as string[] };
  await suite.run(createContext(suite.name, { quick: true, seed: DEFAULT_SEED }, into));
  expect(into.measurements.map((m) => `${m.system} ${m.metric} ${m.ratioTo ?? ""}`)).toEqual([
    "Int32Array stack ns/op Int32Array stack",
    "Array pop/push ns/op Int32Array stack",
    "Array pop/push blocks ",
  ]);
  expect(into.log).toHaveLength(1);
  expect(into.log[0]).toMatch(/^Array pop\/push: [\d.]+x the floor \([\d.]+ ns\)$/);
});

test("the README documents every flag the CLI has and every JSON field", async () => {
  const readme = read("../README.md");
  for (const flag of ["--suite <name>", "--quick", "--json <file>", "--seed <n>", "--list", "--help"]) expect(readme).toContain(`\`${flag}\``);
  for (const field of ["schema", "version", "date", "node", "v8", "platform", "arch", "cpuModel", "cpuCount", "argv", "quick", "seed", "suites", "measurements"]) expect(readme).toContain(`| \`${field}\``);
  for (const field of ["suite", "system", "workload", "metric", "value", "unit", "spread", "ratio", "ratioTo", "note"]) expect(readme).toContain(`| \`${field}\``);
});
