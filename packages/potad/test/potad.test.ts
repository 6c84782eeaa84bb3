import { KiB, MetadataArena, MiB } from "@mmkit/physmem";
import { type DescriptorIndex, Potad } from "@mmkit/potad";
import { describe, expect, test } from "vitest";

function freeByOrder(potad: Potad, space: number): Record<number, number> {
  const out: Record<number, number> = {};
  potad.stats(space).freeBytesByOrder.forEach((bytes, order) => {
    if (bytes > 0) out[order] = bytes / (potad.stats(space).granule * 2 ** order);
  });
  return out; // order -> number of free blocks
}

describe("spaces", () => {
  test("a space is covered with the largest aligned blocks", () => {
    const potad = new Potad();
    // [12 KiB, 64 KiB) at 4 KiB: 4 KiB @12K, 16 KiB @16K, 32 KiB @32K.
    const s = potad.addSpace({ base: 12 * KiB, size: 52 * KiB, granule: 4 * KiB });
    expect(freeByOrder(potad, s)).toEqual({ 0: 1, 2: 1, 3: 1 });
    expect(potad.blockCount).toBe(3);
    expect(potad.alloc(s, 4 * KiB)).toBe(12 * KiB);
    expect(potad.alloc(s, 32 * KiB)).toBe(32 * KiB);
    expect(potad.alloc(s, 16 * KiB)).toBe(16 * KiB);
    expect(potad.alloc(s, 4 * KiB)).toBe(-1);
    potad.check();
  });

  test("1.5 TiB starts as a 1 TiB block and a 512 GiB block", () => {
    const potad = new Potad();
    const s = potad.addSpace({ base: 0, size: 1.5 * 2 ** 40, granule: 4096 });
    const stats = potad.stats(s);
    expect(stats.freeBlocks).toBe(2);
    expect(stats.largestFreeBlock).toBe(2 ** 40);
    expect(stats.freeBytesByOrder[28]).toBe(2 ** 40);
    expect(stats.freeBytesByOrder[27]).toBe(2 ** 39);
  });

  test("ids are reused after a space is removed; a removed space is gone", () => {
    const potad = new Potad();
    const a = potad.addSpace({ base: 0, size: MiB, granule: 4096 });
    const b = potad.addSpace({ base: MiB, size: MiB, granule: 4096 });
    expect([a, b]).toEqual([0, 1]);
    const x = potad.alloc(a, 4096);
    potad.free(x);
    potad.removeSpace(a);
    expect(potad.spaces()).toEqual([1]);
    expect(potad.blockCount).toBe(1);
    expect(() => potad.alloc(a, 4096)).toThrow(/space 0 does not exist/);
    expect(potad.addSpace({ base: 8 * MiB, size: MiB, granule: 512 })).toBe(0);
    potad.check();
  });

  test("blocks of two touching spaces never merge across the border", () => {
    const potad = new Potad();
    const a = potad.addSpace({ base: 0, size: 3 * MiB, granule: MiB }); // 2 MiB @0, 1 MiB @2M
    const b = potad.addSpace({ base: 3 * MiB, size: MiB, granule: MiB }); // 1 MiB @3M
    const x = potad.alloc(a, MiB);
    expect(x).toBe(2 * MiB);
    potad.free(x);
    expect(freeByOrder(potad, a)).toEqual({ 0: 1, 1: 1 });
    expect(freeByOrder(potad, b)).toEqual({ 0: 1 });
    // A contiguous run may not reach into the neighbour either.
    expect(potad.alloc(a, 2 * MiB)).toBe(0);
    expect(potad.alloc(a, 2 * MiB, { alignment: MiB })).toBe(-1);
    potad.check();
  });
});

describe("alloc and free", () => {
  test("exact addresses, splits and merges (no fronts: every free merges at once)", () => {
    const potad = new Potad({ frontHigh: 0 });
    const s = potad.addSpace({ base: 0, size: 64 * KiB, granule: 4 * KiB });
    expect(potad.alloc(s, 1)).toBe(0); // rounded up to the granule; splits 64 -> 32,16,8,4,4
    expect(potad.blockCount).toBe(5);
    expect(freeByOrder(potad, s)).toEqual({ 0: 1, 1: 1, 2: 1, 3: 1 });
    expect(potad.alloc(s, 4096)).toBe(4 * KiB);
    expect(potad.alloc(s, 5000)).toBe(8 * KiB); // 8 KiB block
    expect(potad.sizeOf(8 * KiB)).toBe(8 * KiB);
    expect(potad.allocOrder(s, 2)).toBe(16 * KiB);
    expect(potad.stats(s)).toMatchObject({ allocatedBytes: 32 * KiB, freeBytes: 32 * KiB, allocations: 4, freeBlocks: 1, blocks: 5 });
    potad.free(4 * KiB);
    potad.free(0); // merges with 4K into 8K, not further (8K..16K is allocated)
    expect(freeByOrder(potad, s)).toEqual({ 1: 1, 3: 1 });
    potad.free(8 * KiB); // 0..16K merges
    potad.free(16 * KiB); // everything merges back
    expect(freeByOrder(potad, s)).toEqual({ 4: 1 });
    expect(potad.blockCount).toBe(1);
    potad.check();
  });

  test("fronts: a freed small block waits unmerged on its order's LIFO front and is handed out next", () => {
    const potad = new Potad({ frontHigh: 2 });
    const s = potad.addSpace({ base: 0, size: 64 * KiB, granule: 4 * KiB });
    const [a, b, c] = [potad.alloc(s, 4096), potad.alloc(s, 4096), potad.alloc(s, 4096)];
    expect([a, b, c]).toEqual([0, 4 * KiB, 8 * KiB]);
    potad.free(a);
    potad.free(b); // a's buddy: not merged, both wait on order 0's front
    expect(freeByOrder(potad, s)).toEqual({ 0: 3, 2: 1, 3: 1 }); // 0, 4K cached; 12K free
    expect(potad.stats(s)).toMatchObject({ freeBlocks: 5, cachedBlocks: 2, allocatedBytes: 4 * KiB, allocations: 1 });
    expect(() => potad.free(a)).toThrow(/address 0 is free already/);
    potad.check();
    expect(potad.alloc(s, 4096)).toBe(b); // LIFO: the last freed comes back first
    potad.free(b);
    potad.free(c); // the front is full (2): half of it (b) goes to the free lists first, then c waits
    expect(potad.stats(s)).toMatchObject({ freeBlocks: 6, cachedBlocks: 2 });
    expect(freeByOrder(potad, s)).toEqual({ 0: 4, 2: 1, 3: 1 }); // b cannot merge: its buddy a is cached
    potad.check();
    expect(() => potad.drain(7)).toThrow(/space 7 does not exist/);
    potad.drain(s);
    expect(freeByOrder(potad, s)).toEqual({ 4: 1 }); // completely coalesced
    expect(potad.stats(s).cachedBlocks).toBe(0);
    expect(potad.blockCount).toBe(1);
    potad.check();
  });

  test("fronts: when nothing fits, the cached blocks are merged and the fit is tried again", () => {
    const potad = new Potad();
    const s = potad.addSpace({ base: 0, size: 64 * KiB, granule: 4 * KiB });
    const blocks = Array.from({ length: 16 }, () => potad.alloc(s, 4096));
    for (const a of blocks) potad.free(a); // 16 blocks cached at order 0, nothing on the free lists
    expect(potad.stats(s)).toMatchObject({ cachedBlocks: 16, largestFreeBlock: 4 * KiB });
    expect(potad.alloc(s, 64 * KiB)).toBe(0); // drains, merges back to one 64 KiB block
    expect(potad.stats(s)).toMatchObject({ cachedBlocks: 0, allocations: 1, freeBytes: 0 });
    potad.check();
  });

  test("frontHigh must be an integer in [0, 255]", () => {
    expect(() => new Potad({ frontHigh: 256 })).toThrow(/frontHigh must be in \[0, 255\], got 256/);
    expect(() => new Potad({ frontHigh: 1.5 })).toThrow(/frontHigh must be an integer, got 1.5/);
    expect(new Potad().frontHigh).toBe(64);
  });

  test("no MAX_ORDER: 1 TiB out of a 1.5 TiB space", () => {
    const potad = new Potad();
    const s = potad.addSpace({ base: 0, size: 1.5 * 2 ** 40, granule: 512 });
    expect(potad.alloc(s, 2 ** 40)).toBe(0);
    expect(potad.alloc(s, 2 ** 39)).toBe(2 ** 40);
    expect(potad.alloc(s, 512)).toBe(-1);
    expect(potad.free(0)).toBe(-1);
    expect(potad.alloc(s, 512)).toBe(0);
    potad.check();
  });

  test("descriptors: any byte finds its allocation's descriptor; free returns it", () => {
    const potad = new Potad();
    const s = potad.addSpace({ base: 0, size: MiB, granule: 512 });
    const a = potad.alloc(s, 512, { descriptor: 11, descriptorBytes: 360 });
    const b = potad.alloc(s, 64 * KiB, { descriptor: 12, descriptorBytes: 360 });
    const c = potad.alloc(s, 4 * KiB);
    expect([a, b, c]).toEqual([0, 64 * KiB, 4 * KiB]);
    expect(potad.descriptorOf(0)).toBe(11);
    expect(potad.descriptorOf(511)).toBe(11);
    expect(potad.descriptorOf(512)).toBe(-1);
    expect(potad.descriptorOf(b + 65535)).toBe(12);
    expect(potad.descriptorOf(c)).toBe(-1);
    expect(potad.allocationAt(b + 1000)).toBe(b);
    expect(potad.allocationAt(600)).toBe(-1);
    expect(potad.stats(s).descriptorBytes).toBe(720);
    expect(potad.free(b)).toBe(12);
    expect(potad.descriptorOf(b + 10)).toBe(-1);
    expect(potad.free(c)).toBe(-1);
    expect(potad.stats(s).descriptorBytes).toBe(360);
    potad.check();
  });

  test("any DescriptorIndex fits: a Map-backed fake sees every store and erase", () => {
    const calls: string[] = [];
    const ranges = new Map<number, [number, number]>();
    const index: DescriptorIndex = {
      store: (first, last, value) => {
        calls.push(`store ${first}..${last}=${value}`);
        ranges.set(first, [last, value]);
      },
      erase: (at) => {
        calls.push(`erase ${at}`);
        for (const [first, [last]] of ranges) if (first <= at && at <= last) ranges.delete(first);
      },
      load: (at) => {
        for (const [first, [last, value]] of ranges) if (first <= at && at <= last) return value;
        return undefined;
      },
    };
    const potad = new Potad({ descriptorIndex: index });
    const s = potad.addSpace({ base: 0, size: 16 * MiB, granule: MiB });
    const a = potad.alloc(s, 2 * MiB, { descriptor: 5 });
    const b = potad.alloc(s, 3 * MiB, { alignment: MiB, descriptor: 6 });
    expect(potad.descriptorOf(b + 3 * MiB - 1)).toBe(6);
    potad.check();
    potad.free(a);
    potad.free(b);
    expect(calls).toEqual([`store 0..${2 * MiB - 1}=5`, `store ${4 * MiB}..${7 * MiB - 1}=6`, "erase 0", `erase ${4 * MiB}`]);
  });
});

describe("contiguous allocation with a weaker alignment", () => {
  test("8 MiB at 1 MiB after fragmentation: three pieces, one range, freed as one", () => {
    const potad = new Potad();
    const s = potad.addSpace({ base: 0, size: 32 * MiB, granule: MiB });
    const all = Array.from({ length: 32 }, () => potad.alloc(s, MiB));
    expect(all).toEqual(Array.from({ length: 32 }, (_, i) => i * MiB));
    for (const a of all) if (![5, 15, 23, 31].includes(a / MiB)) potad.free(a);
    expect(potad.alloc(s, 8 * MiB)).toBe(-1); // no free 8 MiB block
    const blocksBefore = potad.blockCount;
    // No 4 MiB-aligned window fits; the 2 MiB block at 6 MiB starts 6..14 = 2 + 4 + 2 MiB.
    const r = potad.alloc(s, 8 * MiB, { alignment: MiB, descriptor: 99 });
    expect(r).toBe(6 * MiB);
    expect(potad.sizeOf(r)).toBe(8 * MiB);
    expect(potad.blockCount).toBe(blocksBefore); // the 2 MiB at 12 MiB was a whole free block
    expect(potad.allocationAt(13 * MiB)).toBe(6 * MiB);
    expect(potad.descriptorOf(13 * MiB)).toBe(99);
    expect(() => potad.free(8 * MiB)).toThrow(/inside the allocation at 6291456/);
    expect(potad.stats(s).allocatedBytes).toBe(12 * MiB);
    potad.check();
    expect(potad.free(r)).toBe(99);
    expect(potad.stats(s).allocatedBytes).toBe(4 * MiB);
    potad.check();
  });

  test("a window ending inside a free block splits it; the rest stays free", () => {
    const potad = new Potad();
    const s = potad.addSpace({ base: 0, size: 8 * MiB, granule: MiB });
    const r = potad.alloc(s, 3 * MiB, { alignment: MiB });
    expect(r).toBe(0);
    expect(potad.sizeOf(r)).toBe(3 * MiB);
    expect(freeByOrder(potad, s)).toEqual({ 0: 1, 2: 1 }); // 1 MiB @3M, 4 MiB @4M
    expect(potad.blockCount).toBe(4); // pieces 0..2M, 2..3M and the two free blocks
    potad.check();
    potad.free(r);
    expect(freeByOrder(potad, s)).toEqual({ 3: 1 });
    expect(potad.blockCount).toBe(1);
  });

  test("sizes round up to the alignment; an alignment at the size is a plain block", () => {
    const potad = new Potad();
    const s = potad.addSpace({ base: 0, size: 16 * MiB, granule: 4096 });
    const r = potad.alloc(s, 5 * MiB + 1, { alignment: MiB });
    expect(potad.sizeOf(r)).toBe(6 * MiB);
    const q = potad.alloc(s, 2 * MiB, { alignment: 2 * MiB });
    expect(q % (2 * MiB)).toBe(0);
    expect(potad.sizeOf(q)).toBe(2 * MiB);
    potad.check();
  });

  test("fails (-1) when no aligned window is free", () => {
    const potad = new Potad({ frontHigh: 0 }); // frees go straight to the LIFO free lists
    const s = potad.addSpace({ base: 0, size: 8 * MiB, granule: MiB });
    const blocks = Array.from({ length: 8 }, () => potad.alloc(s, MiB));
    potad.free(blocks[1]!);
    potad.free(blocks[2]!);
    potad.free(blocks[5]!);
    potad.free(blocks[6]!);
    expect(potad.alloc(s, 3 * MiB, { alignment: MiB })).toBe(-1);
    // Order 0's list is LIFO (6, 5, 2, 1): the run from 6 MiB ends at 7 MiB; the one from 5 MiB fits.
    expect(potad.alloc(s, 2 * MiB, { alignment: MiB })).toBe(5 * MiB);
    potad.check();
  });
});

describe("metadata", () => {
  test("the arena sees only POTAD's labelled arrays; bytes follow the table's capacity", () => {
    const arena = new MetadataArena();
    const potad = new Potad({ arena });
    expect(arena.byLabel()).toEqual({ "potad blocks": 64 }); // one empty slot
    const s = potad.addSpace({ base: 0, size: 2 ** 30, granule: 4096 });
    // 4 headers of 576 B; 256 slots of 64 B (addSpace reserves 2 x 54 records, at a load of at most 1/2).
    expect(arena.byLabel()).toEqual({ "potad spaces": 2304, "potad blocks": 256 * 64 });
    expect(potad.metadataBytes).toBe(2304 + 256 * 64);
    for (let i = 0; i < 200; i++) potad.alloc(s, 4096);
    // 200 allocated + 13 free blocks for the rest: 8, 16, 32 granules, then 2^8 .. 2^17.
    expect(potad.blockCount).toBe(200 + 13);
    expect(arena.byLabel()).toEqual({ "potad spaces": 2304, "potad blocks": 512 * 64 });
    expect(potad.stats(s).metadataBytes).toBe(213 * 128 + 576);
  });
});
