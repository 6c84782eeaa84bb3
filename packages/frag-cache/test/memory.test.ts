import { describe, expect, test } from "vitest";
import { PhysicalMemory, ProbingArena, MetadataArena } from "@mmkit/physmem";
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
    cache.view(a).set([1, 2, 3, 4]);
    cache.view(b).fill(9);
    expect([...m.bytes(a, 8)]).toEqual([1, 2, 3, 4, 9, 9, 9, 9]);
    expect(cache.view(a).length).toBe(4);
    expect(cache.sizeOf(b)).toBe(4);
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
    expect(m.bytes(100, 1)[0]).toBe(0xee); // only the fragment is zeroed
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
      { address: 73, bytes: 1, fragment: 64, fragmentSize: 10, pfn: 0, when: "recycle" },
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
  test("metadata is per block and per live fragment, never per page", () => {
    const arena = new MetadataArena();
    new FragmentCache(new FakePageSource(8), { arena });
    expect(arena.byLabel()).toEqual({
      "frag-cache block pfn": 128,
      "frag-cache block order": 64,
      "frag-cache block refcount": 64,
      "frag-cache block next free": 64,
      "frag-cache fragment table": 4096,
    });
    expect(arena.bytes).toBe(4416);
    const big = new MetadataArena();
    new FragmentCache({ allocPages: () => 1 << 30, freePages: () => {} }, { arena: big });
    expect(big.bytes).toBe(4416); // the same whatever the memory behind the source
  });

  test("tables grow with the live fragments and give old arrays back", () => {
    const arena = new MetadataArena();
    const cache = new FragmentCache(new FakePageSource(256), { arena });
    const live: number[] = [];
    for (let i = 0; i < 1000; i++) live.push(cache.alloc(200));
    expect(arena.labelBytes("frag-cache fragment table")).toBe(2048 * 16);
    expect(arena.labelBytes("frag-cache block pfn")).toBe(16 * 8);
    expect(cache.stats().blocksInUse).toBe(7);
    // Freed fragments leave the table at once: it is sized by live fragments, not by history.
    for (const a of live) cache.free(a);
    cache.check();
    expect(cache.stats().blocksInUse).toBe(1);
  });

  test("carving a fragment touches no block refcount line (the bias trick); freeing touches it once", () => {
    const probe = new ProbingArena();
    const cache = new FragmentCache(new FakePageSource(64), { arena: probe });
    const first = cache.alloc(64);
    const carve = probe.measure(() => cache.alloc(64));
    expect(carve.linesByLabel).toEqual({ "frag-cache fragment table": 1 });
    expect(carve.lines).toBe(1);
    const free = probe.measure(() => cache.free(first));
    expect(free.linesByLabel).toEqual({ "frag-cache block refcount": 1, "frag-cache fragment table": 1 });
    expect(free.lines).toBe(2);
  });
});
