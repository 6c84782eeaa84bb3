import { MiB, PhysicalMemory } from "@mmkit/physmem";
import { Kmalloc, SlabAllocator, type PageSource } from "@mmkit/slab";

// 1 MiB of real bytes, and a page source: any allocator with allocPages/freePages fits
// (a buddy allocator, POTAD's page face). Here, the smallest one: per-order stacks over a bump.
const machine = new PhysicalMemory({ ranges: [{ base: 0, size: MiB }], backing: "array" });
const stacks: number[][] = [[], [], [], []];
let next = 0;
const pages: PageSource = {
  allocPages(order) {
    const n = 2 ** order;
    const reused = stacks[order]!.pop();
    if (reused !== undefined) return reused;
    const pfn = Math.ceil(next / n) * n;
    if (pfn + n > 256) return -1;
    next = pfn + n;
    return pfn;
  },
  freePages(pfn, order) {
    stacks[order]!.push(pfn);
  },
};

// kmem_cache_create: 192-byte objects aligned to 64, in 4 KiB slabs of 21.
const slab = new SlabAllocator({ pages, memory: machine });
const dentries = slab.createCache("dentry", 192, { align: 64 });
const d = dentries.alloc();
console.log(d, dentries.objectsPerSlab); // => 0 21

// The slab's descriptor (its struct slab) came from the "slab" cache, whose own slab keeps
// its descriptor in its first object: one round of recursion.
console.log(slab.descriptorOf(d), slab.stats().maxDepth); // => 4160 2

// A free object holds the free pointer: the next free object's address + 1.
console.log(machine.bytes(d + 192, 2)); // => { "0": 129, "1": 1 }

// kmalloc with four size classes per power of two; 20 KiB goes straight to whole pages.
const km = new Kmalloc(slab, { classes: "fine" });
const p = km.alloc(100);
console.log(km.usableSize(p), km.usableSize(km.alloc(20_000))); // => 112 32768

// Misuse is a typed error; empty slabs go back to the page source.
try {
  km.free(p + 8);
} catch (e) {
  console.log((e as { code: string }).code); // => ERR_NOT_ALLOCATED
}
km.free(p);
dentries.free(d);
console.log(slab.shrink()); // => 3
slab.check();
