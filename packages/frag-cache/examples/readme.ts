import { FragmentCache, type PageSource } from "@mmkit/frag-cache";
import { MmkitError, PhysicalMemory } from "@mmkit/physmem";

// 1 MiB of backed memory and a toy page source of aligned 8-page blocks
// (in a real system: a BuddyAllocator from @mmkit/buddy, or POTAD's page face).
const machine = new PhysicalMemory({ ranges: [{ base: 0, size: 1 << 20 }], backing: "array" });
const blocks: number[] = [];
for (let pfn = 248; pfn >= 0; pfn -= 8) blocks.push(pfn);
const pages: PageSource = {
  allocPages: (order) => (order === 3 ? (blocks.pop() ?? -1) : -1),
  freePages: (pfn) => void blocks.push(pfn),
};

const cache = new FragmentCache(pages, { backing: machine, clearOnFree: true });
const a = cache.alloc(1500);
const b = cache.alloc(64, 64);
console.log(a, b); // => 0 1536
cache.view(b).set([1, 2, 3]);
console.log(machine.bytes(b, 3).join(",")); // => 1,2,3

// Carving touched only the cache's local bias; the block's count was set once.
const { refcount, bias, offset } = cache.currentBlock()!;
console.log(refcount, bias, offset); // => 32769 32767 1600

// Misuse is a typed error and changes nothing (poison mode tells a double free apart).
cache.free(a);
cache.free(b);
try {
  cache.free(b);
} catch (e) {
  console.log((e as MmkitError).code); // => ERR_NOT_ALLOCATED
}

// Both are freed, so the next request that does not fit gives the unused bias back in one
// subtraction, the count reaches zero, and the block is recycled in place.
const c = cache.alloc(32768);
console.log(c, cache.stats().blocksRecycled, cache.stats().blocksTaken); // => 0 1 1

// The last free after drain() gives the block back to the page source.
cache.drain();
cache.free(c);
console.log(blocks.length, cache.stats().blocksReturned); // => 32 1
