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
    ["a second free", (s) => s.cache.free(s.b), ErrorCode.NotAllocated, "100"],
    ["an address inside a fragment", (s) => s.cache.free(s.a + 1), ErrorCode.NotAllocated, "1"],
    ["an address never handed out", (s) => s.cache.free(123456), ErrorCode.NotAllocated, "123456"],
    ["a negative address", (s) => s.cache.free(-1), ErrorCode.NotAllocated, "-1"],
    ["a fractional address", (s) => s.cache.free(100.5), ErrorCode.InvalidArgument, "100.5"],
    ["a string address", (s) => s.cache.free("0" as unknown as number), ErrorCode.InvalidArgument, '"0"'],
    ["undefined address", (s) => s.cache.free(undefined as unknown as number), ErrorCode.InvalidArgument, "undefined"],
    ["view of a freed fragment", (s) => s.cache.view(s.b), ErrorCode.NotAllocated, "100"],
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
    expect(() => s.cache.free(s.b)).toThrow("address 100 is not a live fragment's address (never handed out by this cache, or freed already)");
  });

  test("in poison mode a double free is ERR_DOUBLE_FREE naming address and size, until the block goes", () => {
    const source = new FakePageSource(64);
    const machine = new PhysicalMemory({ ranges: [{ base: 0, size: 64 * 4096 }], backing: "array" });
    const cache = new FragmentCache(source, { backing: machine, poison: true });
    const a = cache.alloc(100);
    const b = cache.alloc(200);
    cache.free(b);
    const before = JSON.stringify([cache.stats(), cache.blocks(), cache.currentBlock(), [...machine.bytes(0, 400)]]);
    expectMisuse(() => cache.free(b), ErrorCode.DoubleFree, "address 100 (200 bytes) was freed already");
    expectMisuse(() => cache.free(b + 1), ErrorCode.NotAllocated, "101");
    expect(JSON.stringify([cache.stats(), cache.blocks(), cache.currentBlock(), [...machine.bytes(0, 400)]])).toBe(before);
    cache.drain();
    cache.free(a); // the block goes back: its freed log with it
    expectMisuse(() => cache.free(b), ErrorCode.NotAllocated, "100");
    cache.check();
  });

  test("a sealed arena refuses growth before anything changes", () => {
    const source = new FakePageSource(64);
    const arena = new MetadataArena();
    const cache = new FragmentCache(source, { arena });
    for (let i = 0; i < 128; i++) cache.alloc(8); // half of the 256 initial table entries
    const before = snapshot(cache, source, arena);
    expectMisuse(() => arena.sealWhile(() => cache.alloc(8)), ErrorCode.ArenaSealed, "frag-cache fragment table");
    expect(snapshot(cache, source, arena)).toBe(before);
    expect(cache.alloc(8)).toBe(1024);
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
    expectMisuse(() => new FragmentCache(source, { blockBytes: 2 ** 31 }), ErrorCode.OutOfRange, String(2 ** 31));
    expectMisuse(() => new FragmentCache(source, { zeroOnAlloc: true }), ErrorCode.InvalidArgument, "zeroOnAlloc");
    expectMisuse(() => new FragmentCache(source, { poison: true }), ErrorCode.InvalidArgument, "poison");
    expectMisuse(() => new FragmentCache(source, { backing: {} as never }), ErrorCode.InvalidArgument, "bytes");
    const machine = new PhysicalMemory({ ranges: [{ base: 0, size: 1 << 20 }], backing: "array" });
    expect(() => new FragmentCache(source, { backing: machine, clearOnFree: true })).not.toThrow();
  });
});
