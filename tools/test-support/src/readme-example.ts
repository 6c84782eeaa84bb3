import { expect, test, vi } from "vitest";

/** The body of the first ```ts block of a markdown text, or undefined. */
export function firstTsBlock(markdown: string): string | undefined {
  return /```ts\n([\s\S]*?)```/.exec(markdown)?.[1];
}

/** What an example says it prints: the text after each `// =>` comment, in order. */
export function expectedPrints(example: string): string[] {
  return [...example.matchAll(/\/\/ => (.*)$/gm)].map((m) => m[1]!.trim());
}

// Printed objects are compared as JSON, with quotes and whitespace folded, so a comment can show
// `{ a: 1 }` for what prints as {"a":1}.
function normalise(text: string): string {
  return text.replace(/\s+/g, "").replace(/"/g, "");
}

/**
 * Declares the two tests every mmkit package has for its README: the first ```ts block is the example
 * file verbatim (so the README cannot drift from code that runs), and running the example prints
 * exactly what its `// =>` comments say.
 *
 * @example
 * ```ts
 * import readme from "../README.md?raw";
 * import example from "../examples/readme.ts?raw";
 * readmeExampleTests({ readme, example, run: () => import("../examples/readme.ts") });
 * ```
 */
export function readmeExampleTests(options: { readme: string; example: string; run: () => Promise<unknown> }): void {
  test("README's first example is examples/readme.ts", () => {
    expect(firstTsBlock(options.readme)).toBe(options.example);
  });

  test("the README example runs and prints what its comments say", async () => {
    const printed: string[] = [];
    const spy = vi.spyOn(console, "log").mockImplementation((...args: unknown[]) => {
      printed.push(args.map((a) => (typeof a === "object" ? JSON.stringify(a) : String(a))).join(" "));
    });
    try {
      await options.run();
    } finally {
      spy.mockRestore();
    }
    expect(printed.map(normalise)).toEqual(expectedPrints(options.example).map(normalise));
  });
}
