import { ErrorCode, MetadataArena } from "@mmkit/physmem";
import { Potad } from "@mmkit/potad";
import { expectMmkitError } from "@mmkit/test-support";
import fc from "fast-check";
import { describe, expect, it } from "vitest";

describe("Potad.growSpace", () => {
  it("merges the new bytes with the free blocks before the old end, so a block spans it", () => {
    const potad = new Potad({ frontHigh: 0 });
    const s = potad.addSpace({ base: 0, size: 12288, granule: 4096 });
    expect(potad.stats(s).freeBytesByOrder).toEqual([4096, 8192]);
    expect(potad.alloc(s, 8192)).toBe(0);
    potad.free(0);
    potad.growSpace(s, 16384);
    potad.check();
    expect(potad.stats(s).largestFreeBlock).toBe(16384);
    expect(potad.alloc(s, 16384)).toBe(0);
    potad.check();
  });

  it("keeps allocations where they are and lets a contiguous range cross the old end", () => {
    const potad = new Potad({ frontHigh: 0 });
    const s = potad.addSpace({ base: 65536, size: 20480, granule: 4096 }); // 16 KiB at 65536, 4 KiB at 81920
    const a = potad.alloc(s, 16384);
    expect(a).toBe(65536);
    potad.growSpace(s, 40960);
    potad.check();
    // 24 KiB at 4 KiB alignment: from 81920 across the old end at 86016.
    const r = potad.alloc(s, 24576, { alignment: 4096 });
    expect(r).toBe(81920);
    expect(potad.sizeOf(r)).toBe(24576);
    potad.free(r);
    potad.free(a);
    potad.check();
    expect(potad.stats(s).freeBytes).toBe(40960);
  });

  it("refuses a size that does not grow, is not a granule multiple, or overlaps the next space; changes nothing", () => {
    const potad = new Potad({ arena: new MetadataArena() });
    const s = potad.addSpace({ base: 0, size: 8192, granule: 4096 });
    potad.addSpace({ base: 16384, size: 4096, granule: 4096 });
    const before = JSON.stringify(potad.stats(s));
    expectMmkitError(() => potad.growSpace(s, 8192), ErrorCode.OutOfRange, "8192");
    expectMmkitError(() => potad.growSpace(s, 10000), ErrorCode.NotAligned, "10000");
    expectMmkitError(() => potad.growSpace(s, 20480), ErrorCode.Overlap, "20480");
    expectMmkitError(() => potad.growSpace(7, 20480), ErrorCode.InvalidArgument, "7");
    expect(JSON.stringify(potad.stats(s))).toBe(before);
    potad.growSpace(s, 16384);
    potad.check();
  });

  it("random allocations, frees and grows keep every invariant", () => {
    fc.assert(
      fc.property(fc.array(fc.oneof(fc.record({ alloc: fc.integer({ min: 1, max: 40_000 }) }), fc.record({ free: fc.nat() }), fc.record({ grow: fc.integer({ min: 1, max: 12 }) })), { maxLength: 80 }), fc.constantFrom(0, 4), (ops, frontHigh) => {
        const potad = new Potad({ frontHigh });
        const s = potad.addSpace({ base: 4096 * 3, size: 4096 * 5, granule: 4096 });
        let size = 4096 * 5;
        const live: number[] = [];
        for (const op of ops) {
          if ("alloc" in op) {
            if (2 ** Math.ceil(Math.log2(op.alloc)) > size) continue;
            const p = op.alloc % 3 === 0 ? potad.alloc(s, op.alloc, { alignment: 4096 }) : potad.alloc(s, op.alloc);
            if (p >= 0) live.push(p);
          } else if ("free" in op) {
            if (live.length > 0) potad.free(live.splice(op.free % live.length, 1)[0]!);
          } else {
            size += op.grow * 4096;
            potad.growSpace(s, size);
          }
          potad.check();
        }
        for (const p of live) potad.free(p);
        potad.drain();
        potad.check();
        expect(potad.stats(s).freeBytes).toBe(size);
      }),
      { numRuns: 100 },
    );
  });
});
