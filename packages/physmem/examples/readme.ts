import { MemoryMap, DirectMap, MetadataArena, ProbingArena, Protection, PhysicalMemory, GiB, MiB } from "@mmkit/physmem";

// A 4 GiB machine on two NUMA nodes with a 1 GiB hole between them.
const map = new MemoryMap({
  ranges: [
    { base: 0, size: 2 * GiB, node: 0 },
    { base: 3 * GiB, size: 2 * GiB, node: 1 },
  ],
});
console.log(map.presentPages); // => 1048576
console.log(map.pfnValid(600_000)); // => false
console.log(map.nodeOf(800_000)); // => 1

// The kernel's direct map: 1 GiB leaves until a page's protection changes.
const arena = new MetadataArena();
const directMap = new DirectMap(map, { arena });
directMap.setProtection(1000, 1, Protection.ReadOnly);
const c = directMap.counters();
console.log(c.level3Splits, c.level2Splits); // => 1 1
console.log(arena.byLabel()); // => { "direct-map pud": 40, "direct-map pmd": 4096, "direct-map pte": 4096 }

// Count the 64-byte cache lines an operation touches.
const probe = new ProbingArena();
const next = probe.int32(1024, "free-list next");
const touched = probe.measure(() => {
  next[0] = 1;
  next[15] = 2; // same line as next[0]
  next[16] = 3; // the next line
});
console.log(touched.lines); // => 2

// Real bytes behind RAM, and memory-failure events.
const machine = new PhysicalMemory({ ranges: [{ base: 0, size: 16 * MiB }], backing: "array" });
machine.bytes(4096, 4).set([1, 2, 3, 4]);
console.log(machine.bytes(4096, 4).join(",")); // => 1,2,3,4
machine.failures.subscribe((event) => console.log(`pfn ${event.pfn} failed`));
machine.poison(7); // => pfn 7 failed
