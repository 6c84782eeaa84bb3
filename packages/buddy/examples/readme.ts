import { BuddyAllocator, MigrateType } from "@mmkit/buddy";
import { MemoryMap, ProbingArena, MiB } from "@mmkit/physmem";

// 64 MiB of RAM on two NUMA nodes, with an 8 MiB hole between them.
const map = new MemoryMap({
  ranges: [
    { base: 0, size: 32 * MiB, node: 0 },
    { base: 40 * MiB, size: 32 * MiB, node: 1 },
  ],
});
const buddy = new BuddyAllocator(map, { cpus: 2 });

// A block of 2^order pages is named by its first page frame number; -1 means none is free.
const pfn = buddy.allocPages(2, { migratetype: MigrateType.Movable });
console.log(pfn); // => 0
console.log(buddy.buddyinfo()[0]?.freeBlocks.join(" ")); // => 0 0 1 1 1 1 1 1 1 1 7
buddy.freePages(pfn, 2); // merges back into an order-10 block
console.log(buddy.buddyinfo()[0]?.freeBlocks.join(" ")); // => 0 0 0 0 0 0 0 0 0 0 8

// The kernel's watermarks: min_free_kbytes = sqrt(64 MiB in KiB * 16) = 1024 KiB, split by node.
console.log(buddy.watermarks(1)); // => { "min": 128, "low": 160, "high": 192 }

// Each CPU has per-CPU lists, refilled and drained in batches (zone_batchsize, zone_highsize).
const cpu1 = buddy.cpu(1); // CPU 1 lives on node 1
console.log(buddy.perCpuLimits(1)); // => { "batch": 1, "high": 160 }
const page = cpu1.allocPages(0);
cpu1.freePages(page, 0); // onto CPU 1's list, not the free lists
console.log(page, cpu1.pages); // => 10240 1

// Misuse is a typed error, and the allocator is left as it was.
try {
  buddy.freePages(pfn, 2);
} catch (error) {
  console.log((error as { code: string }).code); // => ERR_DOUBLE_FREE
}

// Unmovable requests fall back to Movable pageblocks and claim them, as in the kernel.
buddy.allocPages(0, { migratetype: MigrateType.Unmovable });
console.log(buddy.pagetypeinfo()[0]?.pageblocks); // => [2, 14, 0, 0, 0]

// Seeded fail_page_alloc, to test a caller's fallback path.
buddy.setFaultInjection({ probability: 100, times: 1, minOrder: 3 });
console.log(buddy.allocPages(3), buddy.allocPages(3) >= 0); // => -1 true

// Cache lines per operation, counted by the metadata probe.
const arena = new ProbingArena();
const probed = new BuddyAllocator(map, { arena });
const cpu0 = probed.cpu(0);
cpu0.freePages(cpu0.allocPages(0), 0); // warm the list
// Order 0 through the per-CPU list: the list, the zone, the page's struct page; no free list.
console.log(arena.measure(() => cpu0.allocPages(0)).linesByLabel); // => { "buddy pcp": 1, "buddy zone": 1, "buddy memmap (struct page)": 1 }
probed.check();
