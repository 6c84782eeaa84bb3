import { BuddyAllocator } from "@mmkit/buddy";
import { FragmentCache } from "@mmkit/frag-cache";
import { PhysicalMemory } from "@mmkit/physmem";

/** Options for {@link buildMemorySystem}. */
export interface MemorySystemOptions {
  /** Bytes of backed RAM (default 32 MiB). */
  memoryBytes?: number;
  /** Zero fragments on allocation (default false). */
  zeroOnAlloc?: boolean;
  /** Poison debug mode (default false). */
  poison?: boolean;
}

/** The parts of the receive path's memory: the machine, its page allocator and the fragment cache. */
export interface MemorySystem {
  machine: PhysicalMemory;
  buddy: BuddyAllocator;
  cache: FragmentCache;
}

/**
 * Backed RAM (`PhysicalMemory` over an `ArrayBuffer`), a `BuddyAllocator` over it, and a
 * `FragmentCache` taking its 32 KiB blocks from the buddy allocator and its bytes from the machine.
 *
 * @example
 * ```ts
 * const { buddy, cache } = buildMemorySystem({ memoryBytes: 16 << 20 });
 * cache.alloc(2048);           // a fragment in the first order-3 block the buddy allocator gave
 * ```
 */
export function buildMemorySystem(options: MemorySystemOptions = {}): MemorySystem {
  const machine = new PhysicalMemory({ ranges: [{ base: 0, size: options.memoryBytes ?? 32 << 20 }], backing: "array" });
  const buddy = new BuddyAllocator(machine.map);
  const cache = new FragmentCache(buddy, { pageSize: machine.pageSize, backing: machine, zeroOnAlloc: options.zeroOnAlloc === true, poison: options.poison === true });
  return { machine, buddy, cache };
}
