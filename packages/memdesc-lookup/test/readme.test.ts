import { expect, test, vi } from "vitest";
import readme from "../README.md?raw";
import example from "../examples/readme.ts?raw";

// The README's first example is examples/readme.ts, verbatim, and its `// =>` comments are what it prints.
test("README's first example is examples/readme.ts", () => {
  const block = /```ts\n([\s\S]*?)```/.exec(readme)?.[1];
  expect(block).toBe(example);
});

test("the README example runs and prints what its comments say", async () => {
  const printed: string[] = [];
  const spy = vi.spyOn(console, "log").mockImplementation((...args: unknown[]) => {
    printed.push(args.map((a) => (typeof a === "object" ? JSON.stringify(a) : String(a))).join(" "));
  });
  try {
    await import("../examples/readme.ts");
  } finally {
    spy.mockRestore();
  }
  const expected = [...example.matchAll(/\/\/ => (.*)$/gm)].map((m) => m[1]!.trim());
  const normalise = (s: string) => s.replace(/\s+/g, "").replace(/"/g, "");
  expect(printed.map(normalise)).toEqual(expected.map(normalise));
});
