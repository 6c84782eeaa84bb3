import { Heap } from "@mmkit/heap";
import { HOSTILE_VALUES, expectEveryRefusal } from "@mmkit/test-support";
import { describe, it } from "vitest";

function world() {
  const heap = new Heap(new ArrayBuffer(128 * 1024));
  const p = heap.malloc(100); // at 0
  const big = heap.malloc(20_000);
  heap.u8(p).fill(5);
  const snapshot = () => JSON.stringify([heap.stats(), heap.slab.stats(), Array.from(heap.u8(p))]);
  return { heap, p, big, snapshot };
}
type World = ReturnType<typeof world>;

const isZero = (v: unknown) => Object.is(v, -0);
const isObject = (v: unknown) => typeof v === "object" && v !== null && !Array.isArray(v);
const buffer = () => new ArrayBuffer(64 * 1024);

/** Where a hostile value goes, and whether it is a legitimate argument there (with why). */
const POSITIONS: [string, (w: World, v: unknown) => unknown, (v: unknown) => boolean][] = [
  // A huge but well-formed size is "no memory" (-1), not misuse.
  ["malloc(size)", (w, v) => w.heap.malloc(v as number), (v) => v === Number.MAX_SAFE_INTEGER],
  ["malloc(8, align)", (w, v) => w.heap.malloc(8, v as number), (v) => v === undefined],
  ["calloc(count, 8)", (w, v) => w.heap.calloc(v as number, 8), () => false],
  ["calloc(1, size)", (w, v) => w.heap.calloc(1, v as number), (v) => v === Number.MAX_SAFE_INTEGER],
  ["realloc(address, 8)", (w, v) => w.heap.realloc(v as number, 8), isZero], // -0 is address 0: p
  ["realloc(p, size)", (w, v) => w.heap.realloc(w.p, v as number), (v) => v === Number.MAX_SAFE_INTEGER],
  ["free(address)", (w, v) => w.heap.free(v as number), isZero],
  ["sizeOf(address)", (w, v) => w.heap.sizeOf(v as number), isZero],
  ["usableSize(address)", (w, v) => w.heap.usableSize(v as number), isZero],
  ["u8(address)", (w, v) => w.heap.u8(v as number), isZero],
  ["u8(p, count)", (w, v) => w.heap.u8(w.p, v as number), (v) => v === undefined || isZero(v)],
  ["f64(address, 1)", (w, v) => w.heap.f64(v as number, 1), isZero],
  ["grow(bytes)", (w, v) => w.heap.grow(v as number), (v) => v === Number.MAX_SAFE_INTEGER], // cannot grow: -1
  ["new Heap(buffer)", (_w, v) => new Heap(v as never), () => false],
  ["new Heap(buffer, options)", (_w, v) => new Heap(buffer(), v as never), (v) => v === undefined || isObject(v)],
  ["new Heap(buffer, { pageSize })", (_w, v) => new Heap(buffer(), { pageSize: v as never }), (v) => v === undefined],
  ["new Heap(buffer, { grow })", (_w, v) => new Heap(buffer(), { grow: v as never }), (v) => v === undefined],
  ["new Heap(buffer, { classes })", (_w, v) => new Heap(buffer(), { classes: v as never }), (v) => v === undefined],
  ["new Heap(buffer, { minPartial })", (_w, v) => new Heap(buffer(), { minPartial: v as never }), (v) => v === undefined || isZero(v)],
  ["new Heap(buffer, { maxOrder })", (_w, v) => new Heap(buffer(), { maxOrder: v as never }), (v) => v === undefined || isZero(v)],
  ["new Heap(buffer, { debug })", (_w, v) => new Heap(buffer(), { debug: v as never }), (v) => v === undefined],
  ["new Heap(buffer, { maxClassSize })", (_w, v) => new Heap(buffer(), { maxClassSize: v as never }), (v) => v === undefined || v === Number.MAX_SAFE_INTEGER],
];

const subject = { make: world, state: (w: World) => w.snapshot(), check: (w: World) => w.heap.check() };

describe("bad input: every position of the heap, every hostile value", () => {
  for (const [where, call, valid] of POSITIONS) {
    it(`${where}: a typed error, and nothing changes`, () => expectEveryRefusal(subject, where, call, valid, HOSTILE_VALUES));
  }
});
