import { ErrorCode } from "@mmkit/physmem";
import { Heap } from "@mmkit/heap";
import { expectMmkitError, HOSTILE_VALUES } from "@mmkit/test-support";
import fc from "fast-check";
import { describe, expect, it } from "vitest";

function stamp(bytes: Uint8Array, seed: number): void {
  for (let i = 0; i < bytes.length; i++) bytes[i] = (seed + i * 13) & 0xff;
}
function stamped(bytes: Uint8Array, seed: number): boolean {
  for (let i = 0; i < bytes.length; i++) if (bytes[i] !== ((seed + i * 13) & 0xff)) return false;
  return true;
}

type Op =
  | { kind: "malloc"; size: number; align: number }
  | { kind: "calloc"; count: number; size: number }
  | { kind: "realloc"; pick: number; size: number }
  | { kind: "free"; pick: number };

const sizeArb = fc.oneof(fc.integer({ min: 1, max: 300 }), fc.integer({ min: 1, max: 20_000 }));
const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 5, arbitrary: fc.record({ kind: fc.constant("malloc" as const), size: sizeArb, align: fc.constantFrom(8, 8, 16, 64, 4096) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant("calloc" as const), count: fc.integer({ min: 1, max: 40 }), size: fc.integer({ min: 1, max: 100 }) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant("realloc" as const), pick: fc.nat(), size: sizeArb }) },
  { weight: 4, arbitrary: fc.record({ kind: fc.constant("free" as const), pick: fc.nat() }) },
);

describe("Heap against a model", () => {
  for (const [name, make] of [
    ["ArrayBuffer", () => new ArrayBuffer(256 * 1024)],
    ["growing WebAssembly.Memory", () => new WebAssembly.Memory({ initial: 2, maximum: 8 })],
  ] as const) {
    it(`keeps every live allocation's bytes, sizes and alignment (${name}); check() after every step`, () => {
      fc.assert(
        fc.property(fc.array(opArb, { maxLength: 120 }), fc.constantFrom("fine" as const, "kmalloc" as const), (ops, classes) => {
          const heap = new Heap(make(), { classes });
          const live: { address: number; size: number; seed: number }[] = [];
          let seed = 1;
          for (const op of ops) {
            if (op.kind === "malloc" || op.kind === "calloc") {
              const size = op.kind === "malloc" ? op.size : op.count * op.size;
              const p = op.kind === "malloc" ? heap.malloc(op.size, op.align) : heap.calloc(op.count, op.size);
              if (p >= 0) {
                if (op.kind === "malloc") expect(p % op.align).toBe(0);
                else expect(heap.u8(p).every((b) => b === 0)).toBe(true);
                expect(heap.sizeOf(p)).toBe(size);
                for (const o of live) expect(p + size <= o.address || o.address + o.size <= p).toBe(true);
                stamp(heap.u8(p), ++seed);
                live.push({ address: p, size, seed });
              }
            } else if (live.length > 0) {
              const i = op.pick % live.length;
              const o = live[i]!;
              expect(stamped(heap.u8(o.address), o.seed)).toBe(true);
              if (op.kind === "free") {
                heap.free(o.address);
                live.splice(i, 1);
              } else {
                const p = heap.realloc(o.address, op.size);
                if (p >= 0) {
                  const kept = Math.min(o.size, op.size);
                  expect(stamped(heap.u8(p, kept), o.seed)).toBe(true);
                  stamp(heap.u8(p), ++seed);
                  live[i] = { address: p, size: op.size, seed };
                } else {
                  expect(stamped(heap.u8(o.address), o.seed)).toBe(true);
                }
              }
            }
            heap.check();
            const st = heap.stats();
            expect(st.allocations).toBe(live.length);
            expect(st.requestedBytes).toBe(live.reduce((a, o) => a + o.size, 0));
            expect(st.reservedBytes).toBeGreaterThanOrEqual(st.requestedBytes);
          }
          for (const o of live) heap.free(o.address);
          heap.slab.shrink();
          heap.check();
          expect(heap.stats().reservedBytes).toBe(0);
        }),
        { numRuns: 40 },
      );
    });
  }
});

describe("Heap", () => {
  it("hands out address 0 first and says -1 when full, changing nothing", () => {
    const heap = new Heap(new ArrayBuffer(64 * 1024));
    expect(heap.malloc(16)).toBe(0);
    const before = heap.stats();
    expect(heap.malloc(100_000)).toBe(-1);
    // Two one-page slabs (the 16-byte class and the descriptors) leave 61440 bytes in one free
    // block: a range of exactly that fits, one byte more does not.
    expect(heap.malloc(61_441)).toBe(-1);
    expect(heap.stats()).toEqual(before);
    expect(heap.ranges.stats().largestFreeBytes).toBe(61_440);
    expect(heap.malloc(61_440)).toBe(4096);
    expect(heap.ranges.stats().freeBytes).toBe(0);
  });

  it("refuses misuse with typed errors naming the value, and changes nothing", () => {
    const heap = new Heap(new ArrayBuffer(64 * 1024));
    const p = heap.malloc(100);
    const big = heap.malloc(9000);
    const before = JSON.stringify(heap.stats());
    expectMmkitError(() => heap.free(p + 8), ErrorCode.NotAllocated, String(p + 8));
    expectMmkitError(() => heap.free(50_000), ErrorCode.NotAllocated, "50000");
    expectMmkitError(() => heap.free(big + 2048), ErrorCode.NotAllocated, String(big + 2048));
    expectMmkitError(() => heap.sizeOf(p + 1), ErrorCode.NotAllocated, String(p + 1));
    expectMmkitError(() => heap.f32(p, 26), ErrorCode.OutOfRange, "26");
    expectMmkitError(() => heap.malloc(10, 3), ErrorCode.InvalidArgument, "3");
    expectMmkitError(() => heap.calloc(2 ** 40, 2 ** 20), ErrorCode.OutOfRange, String(2 ** 40));
    for (const [label, bad] of HOSTILE_VALUES) {
      // -0 is the number 0 (address 0 is live here); a positive safe integer is a size that may fit.
      if (typeof bad === "number" && Number.isSafeInteger(bad) && (bad > 0 || Object.is(bad, -0))) continue;
      expect(() => heap.malloc(bad as number), label).toThrow();
      expect(() => heap.free(bad as number), label).toThrow();
    }
    expect(JSON.stringify(heap.stats())).toBe(before);
    heap.free(p);
    expectMmkitError(() => heap.free(p), ErrorCode.DoubleFree, String(p));
    heap.free(big);
    expectMmkitError(() => heap.free(big), ErrorCode.NotAllocated, String(big));
    heap.check();
  });

  it("adopts a SharedArrayBuffer", () => {
    const sab = new SharedArrayBuffer(128 * 1024);
    const heap = new Heap(sab);
    const p = heap.malloc(8);
    heap.f64(p)[0] = 2.5;
    expect(new Float64Array(sab, p, 1)[0]).toBe(2.5);
  });

  it("grows a WebAssembly.Memory when full and keeps the bytes", () => {
    const wasm = new WebAssembly.Memory({ initial: 1, maximum: 4 });
    const heap = new Heap(wasm);
    const a = heap.malloc(60_000);
    heap.u8(a).fill(3);
    const b = heap.malloc(60_000);
    expect(b).toBe(60_000); // right after a: the new bytes merged with the 5536 free before the old end
    expect(b + 60_000).toBeGreaterThan(65536);
    expect(wasm.buffer.byteLength).toBeGreaterThan(65536);
    expect(heap.u8(a)[59_999]).toBe(3);
    expect(heap.stats().bufferBytes).toBe(wasm.buffer.byteLength);
    heap.check();
    expect(new Heap(new WebAssembly.Memory({ initial: 1, maximum: 1 })).malloc(70_000)).toBe(-1);
  });

  it("after a grow, the new bytes merge with the free block before the old end", () => {
    const wasm = new WebAssembly.Memory({ initial: 1, maximum: 4 });
    const heap = new Heap(wasm);
    expect(heap.malloc(40_000)).toBe(0); // 25536 bytes stay free before 65536
    // Does not fit before the end: the memory grows by two 64 KiB pages, and the range spans the old end.
    const p = heap.malloc(50_000);
    expect(p).toBe(40_000);
    expect(wasm.buffer.byteLength).toBe(196608);
    expect(heap.ranges.stats()).toMatchObject({ size: 196608, usedBytes: 90_000, freeBlocks: 1, largestFreeBytes: 196608 - 90_000 });
    heap.free(p);
    heap.check();
    expect(heap.ranges.stats()).toMatchObject({ freeBytes: 196608 - 40_000, freeBlocks: 1, largestFreeBytes: 196608 - 40_000 });
  });

  it("keeps the exact size and hands out typed views of exactly it", () => {
    const heap = new Heap(new ArrayBuffer(64 * 1024));
    const p = heap.malloc(10);
    expect(heap.sizeOf(p)).toBe(10);
    expect(heap.usableSize(p)).toBe(16);
    expect(heap.u8(p).length).toBe(10);
    expect(heap.u16(p).length).toBe(5);
    expect(heap.f64(p).length).toBe(1);
    expect(heap.i32(p, 2).length).toBe(2);
  });
});
