import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { expect, test } from "vitest";
import { freshLoop } from "../src/harness/fresh-loop.js";

function sumLoop(values: Int32Array, cursor: Int32Array, ops: number): number {
  const mask = values.length - 1;
  let c = cursor[0]!;
  let sum = 0;
  for (let i = 0; i < ops; i++) {
    sum = (sum + values[c]!) | 0;
    c = (c + 1) & mask;
  }
  cursor[0] = c;
  return sum;
}

test("a fresh copy is a different function that computes exactly what the original does", () => {
  const copy = freshLoop(sumLoop);
  expect(copy).not.toBe(sumLoop);
  expect(freshLoop(sumLoop)).not.toBe(copy);
  const values = Int32Array.from({ length: 8 }, (_, i) => i * 3 + 1);
  const a = Int32Array.of(5);
  const b = Int32Array.of(5);
  expect(copy(values, a, 21)).toBe(sumLoop(values, b, 21));
  expect(a[0]).toBe(b[0]);
});

test("a loop that uses anything but its parameters and globals fails loudly in the copy", () => {
  const outside = 7;
  const leaky = (n: number): number => n + outside;
  expect(leaky(1)).toBe(8);
  expect(() => freshLoop(leaky)(1)).toThrow(ReferenceError);
});

test("every copy has its own feedback and code, the third as much as the second (V8's source cache would share them)", () => {
  // In a child with natives syntax: optimise the second copy, call the third, ask V8 which are optimised.
  const here = fileURLToPath(new URL("../src/harness/fresh-loop.ts", import.meta.url));
  const script = `
    const { freshLoop } = await import(${JSON.stringify(here)});
    const loop = (o, n) => { let s = 0; for (let i = 0; i < n; i++) s += o.a; return s; };
    const natives = new Function("f", "o", "%PrepareFunctionForOptimization(f); f(o, 2); f(o, 2); %OptimizeFunctionOnNextCall(f); f(o, 2);");
    const status = new Function("f", "return (%GetOptimizationStatus(f) & 16) !== 0;");
    const copies = [freshLoop(loop), freshLoop(loop), freshLoop(loop)];
    for (const c of copies) c({ a: 1 }, 2);
    natives(copies[1], { a: 1 });
    copies[2]({ a: 1 }, 2);
    console.log(JSON.stringify(copies.map((c) => status(c))));
  `;
  const out = spawnSync(process.execPath, ["--allow-natives-syntax", "--import", "tsx", "--input-type=module", "-e", script], { encoding: "utf8", cwd: fileURLToPath(new URL("..", import.meta.url)) });
  expect(out.stderr).toBe("");
  expect(out.stdout.trim()).toBe("[false,true,false]");
});
