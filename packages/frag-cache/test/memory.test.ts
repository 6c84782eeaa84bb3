import { describe, expect, test } from "vitest";
import { MmkitError, PhysicalMemory, ProbingArena, MetadataArena } from "@mmkit/physmem";
import { FragmentCache, POISON_BYTE, type PoisonReport } from "@mmkit/frag-cache";
import { FakePageSource } from "./fake-page-source.js";

function machine() {
  return new PhysicalMemory({ ranges: [{ base: 0, size: 64 * 4096 }], backing: "array" });
}

describe("backed fragments", () => {
  test("a fragment's view reads and writes the backing bytes, and only its own", () => {
    const m = machine();
    const cache = new FragmentCache(new FakePageSource(64), { backing: m });
    const a = cache.alloc(4);
    const b = cache.alloc(4);
    expect(b).toBe(16); // a's 4 bytes rounded up to the 16-byte granule
    cache.view(a, 4).set([1, 2, 3, 4]);
    cache.view(b).fill(9);
    expect([...m.bytes(a, 32)]).toEqual([1, 2, 3, 4, ...new Array(12).fill(0), ...new Array(16).fill(9)]);
    expect(cache.view(a).length).toBe(16);
    expect(cache.view(a, 4).length).toBe(4);
    expect(cache.view(a, 0).length).toBe(0);
    expect(cache.sizeOf(b)).toBe(16);
    expect(cache.stats()).toMatchObject({ liveBytes: 32, bytesWastedRounding: 24 });
    expect(cache.isLive(a)).toBe(true);
    cache.free(a);
    expect(cache.isLive(a)).toBe(false);
  });

  test("without options, freed bytes stay as they were and new fragments see them (as in the kernel)", () => {
    const m = machine();
    const cache = new FragmentCache(new FakePageSource(64), { backing: m });
    const a = cache.alloc(32768);
    cache.view(a).fill(7);
    cache.free(a);
    const b = cache.alloc(16);
    expect(b).toBe(a);
    expect([...cache.view(b)]).toEqual(new Array(16).fill(7));
  });

  test("zeroOnAlloc hands out zeroed fragments", () => {
    const m = machine();
    m.bytes(0, 32768).fill(0xee);
    const cache = new FragmentCache(new FakePageSource(64), { backing: m, zeroOnAlloc: true });
    const a = cache.alloc(100);
    expect(cache.view(a).every((x) => x === 0)).toBe(true);
    expect(cache.view(a).length).toBe(112);
    expect(m.bytes(112, 1)[0]).toBe(0xee); // only the fragment (rounded to 16 bytes) is zeroed
  });

  test("clearOnFree zeroes a fragment when it is freed", () => {
    const m = machine();
    const cache = new FragmentCache(new FakePageSource(64), { backing: m, clearOnFree: true });
    const a = cache.alloc(100);
    const b = cache.alloc(100);
    cache.view(a).fill(0x55);
    cache.view(b).fill(0x66);
    cache.free(a);
    expect(m.bytes(a, 100).every((x) => x === 0)).toBe(true);
    expect(cache.view(b).every((x) => x === 0x66)).toBe(true);
  });
});

describe("poison mode", () => {
  function poisoned() {
    const m = machine();
    const reports: PoisonReport[] = [];
    const cache = new FragmentCache(new FakePageSource(64), { backing: m, poison: true, onPoison: (r) => reports.push(r) });
    return { m, cache, reports };
  }

  test("freed fragments and fresh blocks hold the pattern; clean use reports nothing", () => {
    const { m, cache, reports } = poisoned();
    const a = cache.alloc(64);
    expect(m.bytes(0, 32768).every((x) => x === POISON_BYTE)).toBe(true);
    cache.view(a).fill(1);
    cache.free(a);
    expect(m.bytes(a, 64).every((x) => x === POISON_BYTE)).toBe(true);
    cache.drain();
    expect(reports).toEqual([]);
    expect(cache.stats().poisonReports).toBe(0);
  });

  test("a write after free is reported with its address when the block goes back", () => {
    const { m, cache, reports } = poisoned();
    const a = cache.alloc(64);
    const b = cache.alloc(128);
    cache.free(a);
    m.bytes(a + 3, 2).set([1, 2]); // use after free
    cache.drain();
    expect(reports).toEqual([]); // b still holds the block
    cache.free(b);
    expect(reports).toEqual([{ address: 3, bytes: 2, fragment: 0, fragmentSize: 64, pfn: 0, when: "return" }]);
    expect(cache.stats().poisonReports).toBe(1);
  });

  test("a write into padding or the tail is reported with fragment -1; recycling checks too", () => {
    const { m, cache, reports } = poisoned();
    const a = cache.alloc(10);
    const b = cache.alloc(10, 64); // padding 10..63
    cache.free(a);
    cache.free(b);
    m.bytes(20, 1)[0] = 0; // padding
    m.bytes(30000, 1)[0] = 0; // tail never carved
    m.bytes(b + 9, 1)[0] = 0; // inside b
    cache.alloc(32768); // recycles the block in place
    expect(reports).toEqual([
      { address: 20, bytes: 1, fragment: -1, fragmentSize: 0, pfn: 0, when: "recycle" },
      { address: 73, bytes: 1, fragment: 64, fragmentSize: 16, pfn: 0, when: "recycle" },
      { address: 30000, bytes: 1, fragment: -1, fragmentSize: 0, pfn: 0, when: "recycle" },
    ]);
    expect(cache.stats().blocksRecycled).toBe(1);
    expect(m.bytes(0, 32768).every((x) => x === POISON_BYTE)).toBe(true); // re-poisoned
  });

  test("without a handler, reports are kept for takePoisonReports", () => {
    const m = machine();
    const cache = new FragmentCache(new FakePageSource(64), { backing: m, poison: true });
    const a = cache.alloc(8);
    cache.free(a);
    m.bytes(a, 1)[0] = 1;
    cache.drain();
    expect(cache.takePoisonReports()).toMatchObject([{ address: 0, fragment: 0, when: "return" }]);
    expect(cache.takePoisonReports()).toEqual([]);
  });
});

describe("metadata", () => {
  const EMPTY = {
    "frag-cache block info": 4 * 16, // 4 slots: address and count, 16 bytes each
    "frag-cache fragment start bitmap": 4 * 256, // a bit per 16 bytes of a 32 KiB block
    "frag-cache fragment end bitmap": 4 * 256,
    "frag-cache block order": 4 * 4,
    "frag-cache block next free": 4 * 4,
  };

  test("metadata is per block slot and per 1024-page chunk holding a block, never per page of memory", () => {
    const arena = new MetadataArena();
    const cache = new FragmentCache(new FakePageSource(8), { arena });
    expect(arena.byLabel()).toEqual(EMPTY);
    expect(arena.bytes).toBe(2144);
    cache.alloc(64);
    // One page-head chunk (4 bytes for each of 1024 pages) and a one-entry directory.
    expect(arena.byLabel()).toEqual({ ...EMPTY, "frag-cache page heads": 4096, "frag-cache page head directory": 8 });
    const big = new MetadataArena();
    const far = new FragmentCache({ allocPages: () => 1 << 30, freePages: () => {} }, { arena: big });
    const a = far.alloc(64);
    expect(a).toBe(2 ** 42);
    expect(big.bytes).toBe(arena.bytes); // the same whatever the pfn and the memory behind the source
    expect(() => far.free(a + 16)).toThrow(MmkitError);
    far.free(a);
    far.check();
    expect(far.stats()).toMatchObject({ liveFragments: 0, fragmentsFreed: 1 });
  });

  test("tables grow with the blocks in use and give old arrays back; drain gives back unused page-head chunks", () => {
    const arena = new MetadataArena();
    const cache = new FragmentCache(new FakePageSource(256), { arena });
    const live: number[] = [];
    for (let i = 0; i < 1000; i++) live.push(cache.alloc(200)); // 208 bytes each: 157 per block
    expect(cache.stats().blocksInUse).toBe(7);
    expect(arena.byLabel()).toEqual({
      // 4 slots, then 6, then 9: each growth adds half as much again.
      "frag-cache block info": 9 * 16,
      "frag-cache fragment start bitmap": 9 * 256,
      "frag-cache fragment end bitmap": 9 * 256,
      "frag-cache block order": 9 * 4,
      "frag-cache block next free": 9 * 4,
      "frag-cache page heads": 4096,
      "frag-cache page head directory": 8,
    });
    for (const a of live) cache.free(a);
    cache.check();
    expect(cache.stats().blocksInUse).toBe(1);
    cache.drain();
    cache.check();
    expect(arena.bytes).toBe(9 * (16 + 512 + 4 + 4)); // slots stay; the page heads go with the last block
    expect(cache.alloc(64)).toBe(0);
    cache.check();
  });

  test("carving touches a start and an end bit and no refcount (the bias trick); a free touches directory, page head, block record, start bit", () => {
    const probe = new ProbingArena();
    const cache = new FragmentCache(new FakePageSource(64), { arena: probe });
    const first = cache.alloc(64);
    const carve = probe.measure(() => cache.alloc(4000));
    expect(carve.linesByLabel).toEqual({ "frag-cache fragment start bitmap": 1, "frag-cache fragment end bitmap": 1 });
    expect(carve.lines).toBe(2);
    const free = probe.measure(() => cache.free(first));
    expect(free.linesByLabel).toEqual({
      "frag-cache page head directory": 1,
      "frag-cache page heads": 1,
      "frag-cache block info": 1,
      "frag-cache fragment start bitmap": 1,
    });
    expect(free.lines).toBe(4);
    expect(free.linesWritten).toBe(2); // the count and the start bit; the end bit stays until the block is recycled
    // Asking for a size reads the end bitmap too.
    expect(probe.measure(() => cache.sizeOf(64)).linesByLabel).toMatchObject({ "frag-cache fragment end bitmap": 1 });
  });
});
