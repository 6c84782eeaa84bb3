import { DirectMap, ErrorCode, MemoryMap, MiB, MmkitError } from "@mmkit/physmem";
import { PteMappedCache } from "@mmkit/pte-cache";
import { describe, expect, test } from "vitest";
import { FakePageSource } from "./fake-page-source.js";
import { makeSystem, snapshot } from "./setup.js";

function expectMisuse(sys: ReturnType<typeof makeSystem>, fn: () => unknown, code: string, named: string): void {
  const before = snapshot(sys);
  let error: unknown;
  try {
    fn();
  } catch (e) {
    error = e;
  }
  expect(error).toBeInstanceOf(MmkitError);
  expect((error as MmkitError).code).toBe(code);
  expect((error as MmkitError).message).toContain(named);
  expect(snapshot(sys)).toEqual(before);
  sys.cache.check();
}

/**
 * A cache holding a fallback region (region 0: pfn 0 someone else's, pfn 1 handed out by the cache)
 * and a partly used block (region 1: pfns 512..531 handed out, 516 freed again).
 */
function busySystem() {
  const sys = makeSystem({ mib: 8 });
  sys.source.failOrder9 = true;
  const other = sys.source.allocPages(0);
  const fb = sys.cache.alloc();
  sys.source.failOrder9 = false;
  const a = Array.from({ length: 20 }, () => sys.cache.alloc());
  sys.cache.free(a[4]!);
  return { ...sys, other, fb, block: a };
}

describe("misuse is a typed error and changes nothing", () => {
  test("free of a page never handed out, in a region the cache does not know", () => {
    const sys = busySystem();
    expectMisuse(sys, () => sys.cache.free(1500), ErrorCode.NotAllocated, "1500");
    expectMisuse(sys, () => sys.cache.free(2 ** 40), ErrorCode.NotAllocated, String(2 ** 40));
  });

  test("free of a page of a known region that the cache does not hold", () => {
    const sys = busySystem();
    expect([sys.other, sys.fb, sys.block[4]]).toEqual([0, 1, 516]);
    expectMisuse(sys, () => sys.cache.free(sys.other), ErrorCode.NotAllocated, "0");
    expectMisuse(sys, () => sys.cache.free(2), ErrorCode.NotAllocated, "2");
  });

  test("double free, of a page freed once and of a cached page never handed out", () => {
    const sys = busySystem();
    expectMisuse(sys, () => sys.cache.free(516), ErrorCode.DoubleFree, "516");
    expectMisuse(sys, () => sys.cache.free(800), ErrorCode.DoubleFree, "800");
  });

  test.each([
    [Number.NaN, ErrorCode.InvalidArgument, "NaN"],
    [1.5, ErrorCode.InvalidArgument, "1.5"],
    [-1, ErrorCode.OutOfRange, "-1"],
    ["7", ErrorCode.InvalidArgument, '"7"'],
    [2 ** 53, ErrorCode.InvalidArgument, String(2 ** 53)],
  ])("free(%s) is rejected", (value, code, named) => {
    const sys = busySystem();
    expectMisuse(sys, () => sys.cache.free(value as number), code, named);
    expectMisuse(sys, () => sys.cache.adopt(value as number), code, named);
    expectMisuse(sys, () => sys.cache.pageState(value as number), code, named);
  });

  test("adopt() of a page the cache holds", () => {
    const sys = busySystem();
    expectMisuse(sys, () => sys.cache.adopt(516), ErrorCode.DoubleFree, "516");
    expectMisuse(sys, () => sys.cache.adopt(517), ErrorCode.InvalidState, "517");
    expectMisuse(sys, () => sys.cache.adopt(sys.fb), ErrorCode.InvalidState, "1");
  });

  test("bad node ids and counts", () => {
    const sys = busySystem();
    expectMisuse(sys, () => sys.cache.alloc(1024), ErrorCode.OutOfRange, "1024");
    expectMisuse(sys, () => sys.cache.alloc(0.5), ErrorCode.InvalidArgument, "0.5");
    expectMisuse(sys, () => sys.cache.alloc(-2), ErrorCode.OutOfRange, "-2");
    expectMisuse(sys, () => sys.cache.shrink(-1), ErrorCode.OutOfRange, "-1");
    expectMisuse(sys, () => sys.cache.shrink(Number.NaN), ErrorCode.InvalidArgument, "NaN");
    expectMisuse(sys, () => sys.cache.shrink(10, 2000), ErrorCode.OutOfRange, "2000");
    expectMisuse(sys, () => sys.cache.freeablePages(1.25), ErrorCode.InvalidArgument, "1.25");
    expectMisuse(sys, () => sys.cache.shrinker.scan({ nid: 0, nrToScan: -5 }), ErrorCode.OutOfRange, "-5");
    expectMisuse(sys, () => sys.cache.shrinker.scan({ nid: Number.NaN, nrToScan: 5 }), ErrorCode.InvalidArgument, "NaN");
    expectMisuse(sys, () => sys.cache.shrinker.count({ nid: -1 }), ErrorCode.OutOfRange, "-1");
  });

  test("a nodeOf that returns garbage fails the refill and gives the block back", () => {
    const map = MemoryMap.uniform(8 * MiB);
    const source = new FakePageSource(map.presentPages);
    const directMap = new DirectMap(map, { largestLeaf: "2M" });
    const cache = new PteMappedCache({ source, directMap, nodeOf: () => 5000 });
    expect(() => cache.alloc()).toThrow(expect.objectContaining({ code: ErrorCode.OutOfRange, message: expect.stringContaining("5000") }));
    expect(source.usedPages).toBe(0);
    expect(directMap.counters().level2Splits).toBe(0);
    expect(cache.stats()).toMatchObject({ refills: 0, regions: 0 });
    cache.check();
  });

  test("a page source that returns a misaligned block fails the refill and gets the block back", () => {
    const map = MemoryMap.uniform(8 * MiB);
    const inner = new FakePageSource(map.presentPages);
    const freed: string[] = [];
    const source = { allocPages: (o: number) => (o === 9 ? 7 : inner.allocPages(o)), freePages: (p: number, o: number) => void freed.push(`${p}/${o}`) };
    const cache = new PteMappedCache({ source, directMap: new DirectMap(map) });
    expect(() => cache.alloc()).toThrow(expect.objectContaining({ code: ErrorCode.NotAligned, message: expect.stringContaining("7") }));
    expect(freed).toEqual(["7/9"]);
    cache.check();
  });

  const source = { allocPages: (): number => -1, freePages: (): void => {} };
  const directMap = { splitToPages: (): number => 0, collapse: (): boolean => false };
  test.each<[unknown, string]>([
    [null, "options"],
    [{ directMap }, "source"],
    [{ source, directMap: { splitToPages: 1 } }, "directMap"],
    [{ source, directMap, shrinkerHost: {} }, "shrinkerHost"],
    [{ source, directMap, nodeOf: 3 }, "nodeOf"],
    [{ source, directMap, name: 3 }, "name"],
  ])("constructor rejects %j", (options, named) => {
    expect(() => new PteMappedCache(options as never)).toThrow(expect.objectContaining({ code: ErrorCode.InvalidArgument, message: expect.stringContaining(named) }));
  });
});
