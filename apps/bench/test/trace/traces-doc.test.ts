import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { expect, test, vi } from "vitest";

const doc = readFileSync(fileURLToPath(new URL("../../TRACES.md", import.meta.url)), "utf8");
const example = readFileSync(fileURLToPath(new URL("./traces-md-example.ts", import.meta.url)), "utf8");

// TRACES.md's first example is test/trace/traces-md-example.ts verbatim, except that the doc
// imports from ./src/trace (paths relative to apps/bench, where the doc lives).
test("TRACES.md's first example is traces-md-example.ts", () => {
  const block = /```ts\n([\s\S]*?)```/.exec(doc)?.[1];
  expect(block).toBe(example.replace('from "../../src/trace/index.js"', 'from "./src/trace/index.js"'));
});

test("the TRACES.md example runs and prints what its comments say", async () => {
  const printed: string[] = [];
  const spy = vi.spyOn(console, "log").mockImplementation((...args: unknown[]) => {
    printed.push(args.map((a) => (typeof a === "object" ? JSON.stringify(a) : String(a))).join(" "));
  });
  const cwd = process.cwd();
  try {
    process.chdir(fileURLToPath(new URL("../..", import.meta.url))); // the example's file path is relative to apps/bench
    await import("./traces-md-example.ts");
  } finally {
    process.chdir(cwd);
    spy.mockRestore();
  }
  const expected = [...example.matchAll(/\/\/ => (.*)$/gm)].map((m) => m[1]!.trim());
  const normalise = (s: string) => s.replace(/\s+/g, "").replace(/"/g, "");
  expect(printed.map(normalise)).toEqual(expected.map(normalise));
});
