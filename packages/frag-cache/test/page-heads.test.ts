import fc from "fast-check";
import { expect, test } from "vitest";
import { ErrorCode, MetadataArena, MmkitError } from "@mmkit/physmem";
import { PageHeads } from "../src/page-heads.js";

test("lookup by pfn after map; unmapped, negative, NaN and far pfns find nothing", () => {
  const arena = new MetadataArena();
  const heads = new PageHeads(arena, 3);
  expect(heads.lookup(0)).toBe(-1);
  heads.prepare(4096, 8);
  heads.map(4096, 8, 5);
  expect([4095, 4096, 4099, 4103, 4104].map((p) => heads.lookup(p))).toEqual([-1, 5, 5, 5, -1]);
  expect([-1, Number.NaN, 2 ** 40, 5119, 5120].map((p) => heads.lookup(p))).toEqual([-1, -1, -1, -1, -1]);
  // Entries are slot x 2^3 + page index + 1: the offset in the block follows from the entry alone.
  expect([...heads.heads.subarray(heads.dir[0]!, heads.dir[0]! + 9)]).toEqual([41, 42, 43, 44, 45, 46, 47, 48, 0]);
  expect(arena.byLabel()).toEqual({ "frag-cache page heads": 4096, "frag-cache page head directory": 8 });
  expect(heads.chunks).toBe(1);
  heads.unmap(4096, 8);
  expect(heads.lookup(4096)).toBe(-1);
  heads.releaseEmpty();
  expect(arena.bytes).toBe(0);
  expect(heads.chunks).toBe(0);
});

test("the directory grows upwards and downwards, twofold, keeping what is mapped; a block may straddle chunks", () => {
  const arena = new MetadataArena();
  const heads = new PageHeads(arena, 3);
  heads.prepare(10 * 1024, 8);
  heads.map(10 * 1024, 8, 0);
  heads.prepare(11 * 1024 + 1020, 8); // straddles chunks 11 and 12: directory [10, 13)
  heads.map(11 * 1024 + 1020, 8, 1);
  expect(arena.labelBytes("frag-cache page head directory")).toBe(3 * 8);
  expect(heads.chunks).toBe(3);
  heads.prepare(3 * 1024, 1); // below: directory [3, 13)
  heads.map(3 * 1024, 1, 2);
  expect(arena.labelBytes("frag-cache page head directory")).toBe(10 * 8);
  expect(arena.labelBytes("frag-cache page heads")).toBe(6 * 4096); // room for 1, then 3, then 6 chunks
  expect([10 * 1024 + 7, 11 * 1024 + 1023, 12 * 1024 + 3, 12 * 1024 + 4, 3 * 1024].map((p) => heads.lookup(p))).toEqual([0, 1, 1, -1, 2]);
  const seen: [number, number][] = [];
  expect(heads.forEachMapped((pfn, slot) => seen.push([pfn, slot]))).toBe(17);
  expect(seen[0]).toEqual([3 * 1024, 2]);
  expect(seen.at(-1)).toEqual([12 * 1024 + 3, 1]);
});

test("refusals change nothing: a sealed arena, a span past 2^31 pages", () => {
  const arena = new MetadataArena();
  const heads = new PageHeads(arena, 3);
  heads.prepare(0, 8);
  heads.map(0, 8, 0);
  let error: unknown;
  try {
    arena.sealWhile(() => heads.prepare(1024, 8));
  } catch (e) {
    error = e;
  }
  expect((error as MmkitError).code).toBe(ErrorCode.ArenaSealed);
  expect(() => heads.prepare(2 ** 31, 8)).toThrow(MmkitError);
  try {
    heads.prepare(2 ** 31, 8);
  } catch (e) {
    expect((e as MmkitError).code).toBe(ErrorCode.OutOfRange);
    expect((e as MmkitError).message).toContain(String(2 ** 31));
  }
  expect(arena.byLabel()).toEqual({ "frag-cache page heads": 4096, "frag-cache page head directory": 8 });
  expect(heads.forEachMapped(() => {})).toBe(8);
  expect(heads.lookup(3)).toBe(0);
  heads.prepare(2 ** 31 - 8, 8); // just inside the limit
  heads.map(2 ** 31 - 8, 8, 1);
  expect(heads.lookup(2 ** 31 - 1)).toBe(1);
});

test("model: random blocks mapped and unmapped over a wide pfn range", () => {
  fc.assert(
    fc.property(fc.array(fc.tuple(fc.boolean(), fc.oneof(fc.integer({ min: 0, max: 4096 }), fc.integer({ min: 0, max: 1 << 20 })), fc.constantFrom(1, 8)), { minLength: 20, maxLength: 120 }), (ops) => {
      const arena = new MetadataArena();
      const heads = new PageHeads(arena, 3);
      const model = new Map<number, [number, number]>(); // first pfn -> [pages, slot]
      const owner = (pfn: number) => {
        for (const [first, [pages, slot]] of model) if (pfn >= first && pfn < first + pages) return slot;
        return -1;
      };
      let slot = 0;
      for (const [add, pfn, pages] of ops) {
        if (add || model.size === 0) {
          let taken = false;
          for (let p = pfn; p < pfn + pages; p++) if (owner(p) !== -1) taken = true;
          if (taken) continue;
          heads.prepare(pfn, pages);
          heads.map(pfn, pages, slot);
          model.set(pfn, [pages, slot++]);
        } else {
          const keys = [...model.keys()];
          const first = keys[pfn % keys.length]!;
          heads.unmap(first, model.get(first)![0]);
          model.delete(first);
          if (pfn % 3 === 0) heads.releaseEmpty();
        }
        for (const [first, [pages, s]] of model) {
          expect(heads.lookup(first)).toBe(s);
          expect(heads.lookup(first + pages - 1)).toBe(s);
          expect(heads.lookup(first + pages)).toBe(owner(first + pages));
        }
      }
      let mapped = 0;
      heads.forEachMapped((p, s, index) => {
        expect(owner(p)).toBe(s);
        expect(model.get(p - index)?.[1]).toBe(s);
        mapped++;
      });
      expect(mapped).toBe([...model.values()].reduce((n, [pages]) => n + pages, 0));
      for (const [first, [pages]] of model) heads.unmap(first, pages);
      heads.releaseEmpty();
      expect(arena.bytes).toBe(0);
    }),
    { numRuns: 60 },
  );
});
