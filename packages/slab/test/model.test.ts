import { SlabAllocator, Kmalloc, type RangeSource } from "@mmkit/slab";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { machine, PackedMemory, TestPages } from "./fakes.js";

type Op =
  | { kind: "alloc"; cache: number; cpu: number }
  | { kind: "free"; pick: number; cpu: number }
  | { kind: "shrink" };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 6, arbitrary: fc.record({ kind: fc.constant("alloc" as const), cache: fc.nat(3), cpu: fc.nat(1) }) },
  { weight: 5, arbitrary: fc.record({ kind: fc.constant("free" as const), pick: fc.nat(), cpu: fc.nat(1) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant("shrink" as const) }) },
);

/** Fills an object with a pattern derived from its address, so a later check finds any overwrite. */
function stamp(bytes: Uint8Array, address: number): void {
  for (let i = 0; i < bytes.length; i++) bytes[i] = (address + i * 7) & 0xff;
}
function stamped(bytes: Uint8Array, address: number): boolean {
  for (let i = 0; i < bytes.length; i++) if (bytes[i] !== ((address + i * 7) & 0xff)) return false;
  return true;
}

describe("slab allocator against a model", () => {
  for (const [debug, packed] of [["", false], ["FZP", false], ["", true], ["FZP", true]] as const) {
    it(`keeps live objects disjoint and intact, check() after every step (debug "${debug}"${packed ? ", pages packed out of order behind whole() + offsetOf" : ""})`, () => {
      fc.assert(
        fc.property(fc.array(opArb, { maxLength: 300 }), (ops) => {
          const { pages, memory } = packed ? { pages: new TestPages(48), memory: new PackedMemory(48) } : machine(48);
          const slab = new SlabAllocator({ pages, memory, cpus: 2, debug });
          const sizes = [24, 64, 200, 3000];
          const caches = sizes.map((size, i) => slab.createCache(`c${i}`, size, { minPartial: i, cpuPartial: i % 2 === 0 ? 0 : 2 }));
          const live: { address: number; cache: number }[] = [];
          for (const op of ops) {
            if (op.kind === "alloc") {
              const c = caches[op.cache]!;
              const x = c.alloc(op.cpu);
              if (x < 0) {
                // Out of pages: only when the page source is really empty for this order.
                expect(pages.allocPages(c.order)).toBe(-1);
              } else {
                expect(x % c.align).toBe(0);
                for (const o of live) {
                  const size = sizes[o.cache]!;
                  expect(x + sizes[op.cache]! <= o.address || o.address + size <= x).toBe(true);
                }
                stamp(memory.bytes(x, sizes[op.cache]!), x);
                live.push({ address: x, cache: op.cache });
              }
            } else if (op.kind === "free") {
              if (live.length === 0) continue;
              const [o] = live.splice(op.pick % live.length, 1);
              expect(stamped(memory.bytes(o!.address, sizes[o!.cache]!), o!.address)).toBe(true);
              slab.free(o!.address, op.cpu);
            } else {
              slab.shrink();
            }
            slab.check();
            for (const [i, c] of caches.entries()) expect(c.activeObjects).toBe(live.filter((o) => o.cache === i).length);
          }
          for (const o of live) expect(stamped(memory.bytes(o.address, sizes[o.cache]!), o.address)).toBe(true);
          for (const o of live) slab.free(o.address);
          slab.shrink();
          slab.check();
          // Everything given back: no page stays out.
          expect(pages.allocated).toBe(0);
        }),
        { numRuns: 60 },
      );
    });
  }

  it("kmalloc: every size class and large requests, against a model", () => {
    fc.assert(
      fc.property(
        fc.array(fc.oneof(fc.record({ size: fc.integer({ min: 1, max: 20000 }), align: fc.constantFrom(8, 16, 64, 4096) }), fc.nat()), { maxLength: 200 }),
        fc.constantFrom("kmalloc" as const, "fine" as const),
        fc.boolean(),
        (ops, classes, withRange) => {
          const { pages, memory } = machine(256);
          // A range source over its own pages of the same machine: whole pages, first fit.
          const ranges = new Map<number, number>();
          const large: RangeSource | undefined = withRange
            ? {
                allocRange(size, alignment) {
                  const n = size / 4096;
                  const order = Math.ceil(Math.log2(n));
                  const pfn = pages.allocPages(Math.max(order, Math.log2(alignment / 4096)));
                  if (pfn < 0) return -1;
                  ranges.set(pfn * 4096, Math.max(order, Math.log2(alignment / 4096)));
                  return pfn * 4096;
                },
                freeRange(address) {
                  pages.freePages(address / 4096, ranges.get(address)!);
                  ranges.delete(address);
                },
              }
            : undefined;
          const slab = new SlabAllocator({ pages, memory });
          const km = new Kmalloc(slab, { classes, ...(large ? { large } : {}) });
          const live: { address: number; size: number }[] = [];
          for (const op of ops) {
            if (typeof op === "number") {
              if (live.length === 0) continue;
              const [o] = live.splice(op % live.length, 1);
              expect(stamped(memory.bytes(o!.address, o!.size), o!.address)).toBe(true);
              km.free(o!.address);
            } else {
              const x = km.alloc(op.size, op.align);
              if (x < 0) continue;
              expect(x % op.align).toBe(0);
              expect(km.usableSize(x)).toBeGreaterThanOrEqual(op.size);
              for (const o of live) expect(x + op.size <= o.address || o.address + o.size <= x).toBe(true);
              stamp(memory.bytes(x, op.size), x);
              live.push({ address: x, size: op.size });
            }
            slab.check();
          }
          for (const o of live) km.free(o.address);
          slab.shrink();
          slab.check();
          expect(pages.allocated).toBe(0);
        },
      ),
      { numRuns: 40 },
    );
  });
});

describe("TestPages", () => {
  it("aligns blocks to their size", () => {
    const p = new TestPages(8);
    expect(p.allocPages(0)).toBe(0);
    expect(p.allocPages(1)).toBe(2);
    expect(p.allocPages(2)).toBe(4);
    expect(p.allocPages(0)).toBe(1);
    expect(p.allocPages(0)).toBe(-1);
  });
});
