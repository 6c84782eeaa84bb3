import { describe, expect, test } from "vitest";
import { ErrorCode, MetadataArena, MmkitError, PhysicalMemory } from "@mmkit/physmem";
import { FragmentCache } from "@mmkit/frag-cache";
import { FakePageSource } from "./fake-page-source.js";

function setup() {
  const source = new FakePageSource(64);
  const arena = new MetadataArena();
  const cache = new FragmentCache(source, { arena });
  const a = cache.alloc(100);
  const b = cache.alloc(200);
  cache.free(b);
  const c = cache.alloc(300);
  return { source, arena, cache, a, b, c };
}

function snapshot(cache: FragmentCache, source: FakePageSource, arena: MetadataArena) {
  return JSON.stringify({ stats: cache.stats(), blocks: cache.blocks(), current: cache.currentBlock(), log: source.log, bytes: arena.bytes });
}

function expectMisuse(fn: () => unknown, code: string, mentions: string) {
  let error: unknown;
  try {
    fn();
  } catch (e) {
    error = e;
  }
  expect(error).toBeInstanceOf(MmkitError);
  expect((error as MmkitError).code).toBe(code);
  expect((error as MmkitError).message).toContain(mentions);
}

describe("misuse is a typed error and changes nothing", () => {
  const cases: [string, (s: ReturnType<typeof setup>) => unknown, string, string][] = [
    ["size 0", (s) => s.cache.alloc(0), ErrorCode.OutOfRange, "0"],
    ["negative size", (s) => s.cache.alloc(-5), ErrorCode.OutOfRange, "-5"],
    ["fractional size", (s) => s.cache.alloc(1.5), ErrorCode.InvalidArgument, "1.5"],
    ["NaN size", (s) => s.cache.alloc(Number.NaN), ErrorCode.InvalidArgument, "NaN"],
    ["string size", (s) => s.cache.alloc("64" as unknown as number), ErrorCode.InvalidArgument, '"64"'],
    ["size above the block", (s) => s.cache.alloc(32769), ErrorCode.OutOfRange, "32769"],
    ["huge size", (s) => s.cache.alloc(2 ** 40), ErrorCode.OutOfRange, String(2 ** 40)],
    ["align 3", (s) => s.cache.alloc(64, 3), ErrorCode.InvalidArgument, "3"],
    ["align 0", (s) => s.cache.alloc(64, 0), ErrorCode.InvalidArgument, "0"],
    ["align 0.5", (s) => s.cache.alloc(64, 0.5), ErrorCode.InvalidArgument, "0.5"],
    ["align -4", (s) => s.cache.alloc(64, -4), ErrorCode.InvalidArgument, "-4"],
    ["align above the block", (s) => s.cache.alloc(64, 65536), ErrorCode.OutOfRange, "65536"],
    ["a second free", (s) => s.cache.free(s.b), ErrorCode.NotAllocated, "112"],
    ["an address inside a fragment", (s) => s.cache.free(s.a + 1), ErrorCode.NotAllocated, "1"],
    ["a granule boundary inside a fragment", (s) => s.cache.free(s.a + 16), ErrorCode.NotAllocated, "16"],
    ["the last granule of a fragment", (s) => s.cache.free(s.c + 288), ErrorCode.NotAllocated, String(320 + 288)],
    ["past the carved part of the block", (s) => s.cache.free(640), ErrorCode.NotAllocated, "640"],
    ["in the block's last granule", (s) => s.cache.free(32752), ErrorCode.NotAllocated, "32752"],
    ["a page next to the block", (s) => s.cache.free(32768), ErrorCode.NotAllocated, "32768"],
    ["a huge address", (s) => s.cache.free(2 ** 52), ErrorCode.NotAllocated, String(2 ** 52)],
    ["Infinity", (s) => s.cache.free(Number.POSITIVE_INFINITY), ErrorCode.InvalidArgument, "Infinity"],
    ["an address never handed out", (s) => s.cache.free(123456), ErrorCode.NotAllocated, "123456"],
    ["a negative address", (s) => s.cache.free(-1), ErrorCode.NotAllocated, "-1"],
    ["a fractional address", (s) => s.cache.free(100.5), ErrorCode.InvalidArgument, "100.5"],
    ["a string address", (s) => s.cache.free("0" as unknown as number), ErrorCode.InvalidArgument, '"0"'],
    ["undefined address", (s) => s.cache.free(undefined as unknown as number), ErrorCode.InvalidArgument, "undefined"],
    ["view of a freed fragment", (s) => s.cache.view(s.b), ErrorCode.NotAllocated, "112"],
    ["view longer than the fragment", (s) => s.cache.view(s.a, 113), ErrorCode.OutOfRange, "113"],
    ["view of a negative length", (s) => s.cache.view(s.a, -1), ErrorCode.OutOfRange, "-1"],
    ["view of a fractional length", (s) => s.cache.view(s.a, 1.5), ErrorCode.OutOfRange, "1.5"],
    ["isLive of a string is false, sizeOf throws", (s) => (s.cache.isLive("0" as never) ? 0 : s.cache.sizeOf("0" as never)), ErrorCode.InvalidArgument, '"0"'],
    ["view without backing", (s) => s.cache.view(s.a), ErrorCode.InvalidState, "backing"],
    ["sizeOf a non-fragment", (s) => s.cache.sizeOf(7), ErrorCode.NotAllocated, "7"],
  ];
  test.each(cases)("%s", (_name, fn, code, mentions) => {
    const s = setup();
    const before = snapshot(s.cache, s.source, s.arena);
    expectMisuse(() => fn(s), code, mentions);
    expect(snapshot(s.cache, s.source, s.arena)).toBe(before);
    s.cache.check();
  });

  test("a second free says the address may have been freed already", () => {
    const s = setup();
    expect(() => s.cache.free(s.b)).toThrow("address 112 is not a live fragment's address (never handed out by this cache, or freed already)");
  });

  test("in poison mode a double free is ERR_DOUBLE_FREE naming address and size, until the block goes", () => {
    const source = new FakePageSource(64);
    const machine = new PhysicalMemory({ ranges: [{ base: 0, size: 64 * 4096 }], backing: "array" });
    const cache = new FragmentCache(source, { backing: machine, poison: true });
    const a = cache.alloc(100);
    const b = cache.alloc(200);
    cache.free(b);
    const before = JSON.stringify([cache.stats(), cache.blocks(), cache.currentBlock(), [...machine.bytes(0, 400)]]);
    expectMisuse(() => cache.free(b), ErrorCode.DoubleFree, "address 112 (208 bytes) was freed already");
    expectMisuse(() => cache.free(b + 1), ErrorCode.NotAllocated, "113");
    expect(JSON.stringify([cache.stats(), cache.blocks(), cache.currentBlock(), [...machine.bytes(0, 400)]])).toBe(before);
    cache.drain();
    cache.free(a); // the block goes back: its freed log with it
    expectMisuse(() => cache.free(b), ErrorCode.NotAllocated, "112");
    cache.check();
  });

  test("a sealed arena refuses block-table growth before anything changes", () => {
    const source = new FakePageSource(64);
    const arena = new MetadataArena();
    const cache = new FragmentCache(source, { arena });
    for (let i = 0; i < 4; i++) cache.alloc(32768); // four blocks held, each by one live fragment: the 4 initial slots
    const before = snapshot(cache, source, arena);
    expectMisuse(() => arena.sealWhile(() => cache.alloc(32768)), ErrorCode.ArenaSealed, "frag-cache block info");
    expect(snapshot(cache, source, arena)).toBe(before);
    expect(cache.alloc(32768)).toBe(4 * 32768);
    cache.check();
  });

  /** A page source handing out the given order-3 pfns in order, logging every call. */
  function listSource(pfns: number[]) {
    const log: string[] = [];
    return {
      log,
      allocPages: (order: number) => {
        log.push(`alloc ${order}`);
        return order === 3 ? (pfns.shift() ?? -1) : -1;
      },
      freePages: (pfn: number, order: number) => {
        log.push(`free ${pfn} ${order}`);
        pfns.unshift(pfn);
      },
    };
  }

  test("a block in a page-head chunk not seen before needs metadata: refused, its pages go back and nothing else changes", () => {
    const source = listSource([0, 8192, 4096]);
    const arena = new MetadataArena();
    const cache = new FragmentCache(source, { arena });
    const a = cache.alloc(32768);
    const state = () => JSON.stringify({ stats: cache.stats(), blocks: cache.blocks(), current: cache.currentBlock(), bytes: arena.bytes });
    let before = state();
    // pfn 8192 is past the directory (one entry, pfns 0..1023): the directory must grow.
    expectMisuse(() => arena.sealWhile(() => cache.alloc(64)), ErrorCode.ArenaSealed, "frag-cache page head directory");
    expect(state()).toBe(before);
    expect(source.log).toEqual(["alloc 3", "alloc 3", "free 8192 3"]);
    const b = cache.alloc(32768);
    expect(b).toBe(8192 * 4096);
    expect(arena.byLabel()).toMatchObject({ "frag-cache page heads": 2 * 4096, "frag-cache page head directory": 9 * 2 * 4 });
    // pfn 4096 is inside the directory, but its chunk was never allocated and the chunk array is full.
    before = state();
    expectMisuse(() => arena.sealWhile(() => cache.alloc(64)), ErrorCode.ArenaSealed, "frag-cache page heads");
    expect(state()).toBe(before);
    expect(source.log.slice(3)).toEqual(["alloc 3", "alloc 3", "free 4096 3"]);
    expect(cache.alloc(64)).toBe(4096 * 4096);
    expect(arena.byLabel()).toMatchObject({ "frag-cache page heads": 4 * 4096, "frag-cache page head directory": 9 * 2 * 4 });
    cache.free(a);
    cache.free(b);
    cache.check();
    // drain takes the chunks no block uses (pfn 0's and 8192's) out of the directory, for reuse...
    cache.drain();
    cache.check();
    expect(arena.byLabel()).toMatchObject({ "frag-cache page heads": 4 * 4096, "frag-cache page head directory": 9 * 2 * 4 });
    // ... and gives everything back once no block is held.
    cache.free(4096 * 4096);
    cache.drain();
    cache.check();
    expect(arena.labelBytes("frag-cache page heads") + arena.labelBytes("frag-cache page head directory")).toBe(0);
  });

  test("pages more than 2^31 pages apart are refused with ERR_OUT_OF_RANGE, the far block given back", () => {
    const source = listSource([0, 2 ** 31 + 8]);
    const cache = new FragmentCache(source);
    cache.alloc(32768);
    const before = JSON.stringify([cache.stats(), cache.blocks(), cache.currentBlock()]);
    expectMisuse(() => cache.alloc(64), ErrorCode.OutOfRange, String(2 ** 31 + 8));
    expect(JSON.stringify([cache.stats(), cache.blocks(), cache.currentBlock()])).toBe(before);
    expect(source.log.at(-1)).toBe(`free ${2 ** 31 + 8} 3`);
    cache.check();
  });

  test("free never allocates metadata", () => {
    const s = setup();
    s.arena.sealWhile(() => {
      s.cache.free(s.a);
      s.cache.free(s.c);
      s.cache.drain();
    });
    expect(s.source.outstanding).toBe(0);
  });

  test("constructor arguments are checked", () => {
    const source = new FakePageSource(8);
    expectMisuse(() => new FragmentCache({} as never), ErrorCode.InvalidArgument, "allocPages");
    expectMisuse(() => new FragmentCache(source, { pageSize: 3000 }), ErrorCode.InvalidArgument, "3000");
    expectMisuse(() => new FragmentCache(source, { pageSize: 8 }), ErrorCode.OutOfRange, "8");
    expectMisuse(() => new FragmentCache(source, { blockBytes: 2 ** 31 }), ErrorCode.OutOfRange, String(2 ** 31));
    expectMisuse(() => new FragmentCache(source, { zeroOnAlloc: true }), ErrorCode.InvalidArgument, "zeroOnAlloc");
    expectMisuse(() => new FragmentCache(source, { poison: true }), ErrorCode.InvalidArgument, "poison");
    expectMisuse(() => new FragmentCache(source, { backing: {} as never }), ErrorCode.InvalidArgument, "bytes");
    const machine = new PhysicalMemory({ ranges: [{ base: 0, size: 1 << 20 }], backing: "array" });
    expect(() => new FragmentCache(source, { backing: machine, clearOnFree: true })).not.toThrow();
  });
});
