import { describe, expect, test } from "vitest";
import { ErrorCode } from "@mmkit/physmem";
import { DirectReclaim, ListLru, LruWalk, ShrinkerRegistry, type PageAllocator, type Shrinker } from "@mmkit/shrinker";
import { expectMmkitError } from "./helpers.js";

/** Order-0 pages on an Int32Array stack; higher orders always fail. Counts its calls. */
class StackPages implements PageAllocator {
  readonly stack: Int32Array;
  top: number;
  allocCalls = 0;
  constructor(pages: number) {
    this.stack = new Int32Array(pages);
    for (let i = 0; i < pages; i++) this.stack[i] = pages - 1 - i;
    this.top = pages;
  }
  allocPages(order: number): number {
    this.allocCalls++;
    if (order !== 0 || this.top === 0) return -1;
    return this.stack[--this.top]!;
  }
  freePages(pfn: number, _order: number): void {
    this.stack[this.top++] = pfn;
  }
}

/** A cache holding `n` pages from `pages` on a ListLru, with its shrinker. */
function pageCache(pages: PageAllocator, n: number, registry: ShrinkerRegistry) {
  const lru = new ListLru<number>();
  for (let i = 0; i < n; i++) lru.add(pages.allocPages(0), 0);
  const shrinker: Shrinker = {
    name: "page-cache",
    count: () => lru.count(0),
    scan: (sc) => lru.shrinkWalk(sc, (pfn) => (pages.freePages(pfn, 0), LruWalk.Removed)),
  };
  registry.register(shrinker);
  return { lru, shrinker };
}

describe("DirectReclaim", () => {
  test("turns failures into successes by shrinking the caches, and counts what it did", () => {
    const pages = new StackPages(256);
    const registry = new ShrinkerRegistry();
    const { lru } = pageCache(pages, 200, registry);
    const plain: number[] = [];
    // Without the wrapper: 56 pages, then -1.
    const bare = new StackPages(256);
    for (let i = 0; i < 200; i++) bare.allocPages(0);
    for (let i = 0; i < 100; i++) plain.push(bare.allocPages(0));
    expect(plain.filter((p) => p >= 0).length).toBe(56);

    const allocator = new DirectReclaim(pages, registry);
    const got: number[] = [];
    for (let i = 0; i < 100; i++) got.push(allocator.allocPages(0));
    expect(got.every((p) => p >= 0)).toBe(true);
    expect(new Set(got).size).toBe(100);
    const s = allocator.stats();
    expect(s.allocations).toBe(100);
    expect(s.fastPath + s.succeededAfterReclaim).toBe(100);
    expect(s.failed).toBe(0);
    expect(s.reclaimed).toBe(200 - lru.count(0));
    expect(s.slowPath).toBe(s.succeededAfterReclaim);
    registry.check();
    lru.check();
  });

  test("fails after a round that frees nothing", () => {
    const pages = new StackPages(4);
    const registry = new ShrinkerRegistry();
    const allocator = new DirectReclaim(pages, registry);
    for (let i = 0; i < 4; i++) allocator.allocPages(0);
    expect(allocator.allocPages(0)).toBe(-1);
    expect(allocator.stats()).toEqual({ allocations: 5, fastPath: 4, slowPath: 1, reclaimRounds: 1, reclaimed: 0, succeededAfterReclaim: 0, failed: 1, nested: 0 });
  });

  test("retries at most maxRetries rounds while shrinkers free objects that are not pages", () => {
    const pages = new StackPages(0);
    const registry = new ShrinkerRegistry();
    let objects = 1_000_000;
    registry.register({ name: "dentries", count: () => objects, scan: (sc) => ((objects -= sc.nrToScan), sc.nrToScan), seeks: 0 });
    const allocator = new DirectReclaim(pages, registry, { maxRetries: 3 });
    expect(allocator.allocPages(0)).toBe(-1);
    expect(allocator.stats()).toMatchObject({ reclaimRounds: 3, failed: 1 });
    // one fast-path attempt and one after each round
    expect(pages.allocCalls).toBe(4);
    const none = new DirectReclaim(pages, registry, { maxRetries: 0 });
    expect(none.allocPages(0)).toBe(-1);
    expect(none.stats()).toMatchObject({ slowPath: 1, reclaimRounds: 0, failed: 1 });
  });

  test("asks for max(minTarget, 2^order) and for the configured node", () => {
    const targets: [number, number | undefined][] = [];
    const registry = new ShrinkerRegistry({ nodes: 2 });
    const spy = Object.create(registry) as ShrinkerRegistry;
    spy.reclaim = (target, nid) => {
      targets.push([target, nid]);
      return { freed: 0, passes: 13, priority: 0, reachedTarget: false };
    };
    Object.defineProperty(spy, "nodes", { value: 2 });
    const dry: PageAllocator = { allocPages: () => -1, freePages: () => {} };
    new DirectReclaim(dry, spy).allocPages(0);
    new DirectReclaim(dry, spy).allocPages(9);
    new DirectReclaim(dry, spy, { minTarget: 4, nid: 1 }).allocPages(1);
    expect(targets).toEqual([
      [32, undefined],
      [512, undefined],
      [4, 1],
    ]);
  });

  test("an allocation from inside reclaim does not reclaim again", () => {
    const pages = new StackPages(1);
    const registry = new ShrinkerRegistry();
    let allocator!: DirectReclaim;
    let inner = -2;
    let held = pages.allocPages(0);
    registry.register({
      name: "allocating-shrinker",
      count: () => (held >= 0 ? 1 : 0),
      scan: () => {
        inner = allocator.allocPages(0); // nothing free yet: fails at once, no nested reclaim
        pages.freePages(held, 0);
        held = -1;
        return 1;
      },
    });
    allocator = new DirectReclaim(pages, registry);
    expect(allocator.allocPages(0)).toBe(0);
    expect(inner).toBe(-1);
    expect(allocator.stats()).toMatchObject({ allocations: 2, nested: 1, slowPath: 1, reclaimRounds: 1, succeededAfterReclaim: 1 });
  });

  test("misuse", () => {
    const pages = new StackPages(4);
    const registry = new ShrinkerRegistry({ nodes: 2 });
    expectMmkitError(() => new DirectReclaim({} as never, registry), ErrorCode.InvalidArgument, "allocPages");
    expectMmkitError(() => new DirectReclaim(pages, null as never), ErrorCode.InvalidArgument, "registry", "null");
    expectMmkitError(() => new DirectReclaim(pages, registry, { maxRetries: -1 }), ErrorCode.OutOfRange, "maxRetries", "-1");
    expectMmkitError(() => new DirectReclaim(pages, registry, { minTarget: 0 }), ErrorCode.OutOfRange, "minTarget", "0");
    expectMmkitError(() => new DirectReclaim(pages, registry, { nid: 2 }), ErrorCode.OutOfRange, "nid", "2");
    const allocator = new DirectReclaim(pages, registry);
    expectMmkitError(() => allocator.allocPages(-1), ErrorCode.OutOfRange, "order", "-1");
    expectMmkitError(() => allocator.allocPages(Number.NaN), ErrorCode.InvalidArgument, "order", "NaN");
    expect(allocator.stats().allocations).toBe(0);
    expect(pages.top).toBe(4);
  });
});
