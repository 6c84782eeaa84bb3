import { MetadataArena, MiB, TiB } from "@mmkit/physmem";
import { Potad } from "@mmkit/potad";

const arena = new MetadataArena();
const potad = new Potad({ arena });

// A 1.5 TiB space with a 4 KiB granule: no MAX_ORDER, 1 TiB in one block.
const ram = potad.addSpace({ base: 0, size: 1.5 * TiB, granule: 4096 });
console.log(potad.alloc(ram, TiB)); // => 0

// Any power-of-two size, aligned to itself; free needs no size and returns the descriptor.
const head = potad.alloc(ram, 64 * 1024, { descriptor: 42, descriptorBytes: 360 });
console.log(head); // => 1099511627776
console.log(potad.descriptorOf(head + 1000)); // => 42
console.log(potad.free(head)); // => 42

// A space need not be memory: 512-byte swap slots.
const swap = potad.addSpace({ base: 2 * TiB, size: 64 * MiB, granule: 512 });
console.log(potad.alloc(swap, 512) - 2 * TiB); // => 0

// Contiguous with a weaker alignment: 3 MiB at 1 MiB, one range, freed as one.
const cma = potad.alloc(ram, 3 * MiB, { alignment: MiB });
console.log(potad.sizeOf(cma)); // => 3145728
potad.free(cma);

// A page face: what the fragment cache and the PTE cache take from a buddy allocator.
const pages = potad.pageFace(ram);
const pfn = pages.allocPages(3);
pages.freePages(pfn, 3);

// Metadata follows the blocks, not the 1.5 TiB: a few kilobytes.
console.log(potad.stats(ram).allocatedBytes === TiB, arena.bytes); // => true 19536
potad.check();
