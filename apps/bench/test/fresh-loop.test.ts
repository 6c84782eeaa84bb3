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
