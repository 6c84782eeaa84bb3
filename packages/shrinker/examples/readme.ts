import { DirectReclaim, ListLru, LruWalk, ShrinkerRegistry, scanDelta, totalScan, type PageAllocator, type Shrinker } from "@mmkit/shrinker";

// A tiny page allocator: 1024 pages on a stack.
const free: number[] = Array.from({ length: 1024 }, (_, i) => 1023 - i);
const pages: PageAllocator = {
  allocPages: (order) => (order === 0 && free.length > 0 ? free.pop()! : -1),
  freePages: (pfn) => void free.push(pfn),
};

// A cache that keeps pages it no longer needs on a per-node LRU list instead of freeing them.
const lru = new ListLru<number>({ nodes: 1 });
for (let i = 0; i < 1000; i++) lru.add(pages.allocPages(0), 0);
console.log(lru.count(0), free.length); // => 1000 24

// Its shrinker: count what could go, free the oldest first.
const pageCache: Shrinker = {
  name: "page-cache",
  numaAware: true,
  batch: 16,
  count: (sc) => lru.count(sc.nid),
  scan: (sc) => lru.shrinkWalk(sc, (pfn) => (pages.freePages(pfn, 0), LruWalk.Removed)),
};
const registry = new ShrinkerRegistry({ nodes: 1 });
registry.register(pageCache);

// The kernel's arithmetic: (1000 >> 12) * 4 / 2 = 0 at the gentlest priority, min(1000 * 4 / 2, 2 * 1000) at 0.
console.log(scanDelta(1000, 12, 2), totalScan(1000, 0, 0, 2)); // => 0 2000

// A page allocator that reclaims from the shrinkers when the stack runs dry.
const allocator = new DirectReclaim(pages, registry);
const held: number[] = [];
for (let i = 0; i < 40; i++) held.push(allocator.allocPages(0));
console.log(held.includes(-1), lru.count(0)); // => false 936
const { slowPath, succeededAfterReclaim, failed } = allocator.stats();
console.log(slowPath, succeededAfterReclaim, failed); // => 1 1 0
// It asked for 32 pages (SWAP_CLUSTER_MAX): priorities 12 to 7 only deferred work smaller than a batch,
// priority 6 freed one batch of 16 and priority 5 three more.
console.log(registry.stats(pageCache).freed); // => 64
console.log(registry.countFile(pageCache)); // => 0 936

// A shrinker that throws cannot stop the others; it is recorded as a warning.
registry.register({ name: "broken", count: () => 100, scan: () => { throw new Error("boom"); }, batch: 1 });
let later = 10;
registry.register({ name: "later", count: () => later, scan: (sc) => { const n = Math.min(sc.nrToScan, later); later -= n; return n; } });
console.log(registry.shrink({ nid: 0, priority: 0 }), later); // => 946 0
const [warning] = registry.warnings();
console.log(warning!.message); // => shrinker "broken" (id 1) on node 0: scan threw boom; using SHRINK_STOP
