import { DirectMap, MemoryMap, Protection, GiB } from "@mmkit/physmem";
import { PteMappedCache, type PageSource } from "@mmkit/pte-cache";

// A 1 GiB machine: its direct map starts as one 1 GiB leaf.
const map = MemoryMap.uniform(1 * GiB);
const directMap = new DirectMap(map);

// Any page allocator fits (BuddyAllocator, Potad's page face); here a toy one.
const freeLists: number[][] = Array.from({ length: 11 }, () => []);
let top = 0;
const source: PageSource = {
  allocPages(order) {
    const reused = freeLists[order]!.pop();
    if (reused !== undefined) return reused;
    const pfn = Math.ceil(top / 2 ** order) * 2 ** order;
    if (pfn + 2 ** order > map.presentPages) return -1;
    top = pfn + 2 ** order;
    return pfn;
  },
  freePages: (pfn, order) => void freeLists[order]!.push(pfn),
};

// 1000 PTE-mapped pages cost two 2 MiB splits (and one 1 GiB split), not 1000.
const cache = new PteMappedCache({ source, directMap });
const pages = Array.from({ length: 1000 }, () => cache.alloc());
console.log(pages[0], pages[999]); // => 0 999
const c = directMap.counters();
console.log(c.level3Splits, c.level2Splits); // => 1 2

// They are PTE-mapped already: changing a page's protection splits nothing more.
console.log(directMap.setProtection(pages[7]!, 1, Protection.ReadOnly)); // => 0
directMap.setProtection(pages[7]!, 1, Protection.Default);

// Freed pages stay in the cache; under pressure whole 2 MiB blocks go back and the map folds.
for (const pfn of pages) cache.free(pfn);
console.log(cache.stats().regionsFullyFree); // => 2
console.log(cache.shrink(1024)); // => 1024
console.log(cache.stats().collapses, directMap.counters().directMap1G / GiB); // => 2 1
