import { MemdescType } from "@mmkit/memdesc-lookup";
import type { Contender } from "../harness/types.js";
import { buildSystem, type BuildOptions, type MemorySystem } from "../systems/build.js";
import type { SystemDefinition } from "../systems/definition.js";
import { randomIndices, SeededRandom } from "./random.js";
import { WARM_UP_OPS } from "./system-churn.js";

/**
 * Workloads that put a system in a state and read figures from it (direct-map splits, reclaim and
 * swap), plus the memory-failure lookup contender. Fragmentation and contiguous requests are in
 * `contiguous.ts`.
 */

/**
 * PTE-mapped page churn, untimed, for its direct-map figures, beside an ordinary workload (as in
 * a running kernel, where other users take pages between two PTE-mapped ones): `live` PTE-mapped
 * pages and `2 * live` allocations of orders 0-3 held, every other one anon and the rest slab;
 * each of `ops` steps replaces one PTE-mapped page and two of the others. The slab pages matter
 * on a buddy system: page tables are Unmovable, so mobility grouping keeps them out of the anon
 * (Movable) pageblocks, and only other kernel (Unmovable) allocations land between them there.
 * Returns 2 MiB splits and what the PTE cache holds.
 */
export function pteSplits(def: SystemDefinition, build: BuildOptions, seed: number, live: number, ops: number): { splits: number; allocs: number; cacheBytes: number; freeCacheBytes: number } {
  const system = buildSystem(def, build);
  const slots = randomIndices(seed, "systems/pte-slots", 1 << 16, live);
  const anonLive = 2 * live;
  const anonSlots = randomIndices(seed, "systems/pte-anon-slots", 1 << 16, anonLive);
  const anonOrders = randomIndices(seed, "systems/pte-anon-orders", 1 << 16, 4);
  const held = new Float64Array(live);
  const anon = new Float64Array(anonLive);
  const anonOrder = new Int32Array(anonLive);
  for (let i = 0; i < anonLive; i++) {
    if (i < live) held[i] = system.allocPteMapped();
    anonOrder[i] = anonOrders[i]!;
    anon[i] = system.pages.allocPages(anonOrder[i]!, i & 1 ? MemdescType.Slab : MemdescType.Anon);
  }
  for (let i = 0; i < ops; i++) {
    const s = slots[i & 0xffff]!;
    system.freePteMapped(held[s]!);
    for (let k = 0; k < 2; k++) {
      const j = (2 * i + k) & 0xffff;
      const a = anonSlots[j]!;
      if (anon[a]! >= 0) system.pages.freePages(anon[a]!, anonOrder[a]!);
      anonOrder[a] = anonOrders[j]!;
      anon[a] = system.pages.allocPages(anonOrder[a]!, a & 1 ? MemdescType.Slab : MemdescType.Anon);
    }
    held[s] = system.allocPteMapped();
  }
  system.check();
  const stats = system.pteCache?.stats();
  return {
    splits: system.machine.directMap.counters().level2Splits,
    allocs: live + ops,
    cacheBytes: stats === undefined ? 0 : (stats.cachedPages + stats.inUsePages) * system.pageSize,
    freeCacheBytes: stats === undefined ? 0 : stats.cachedPages * system.pageSize,
  };
}

/** What memory pressure with reclaim and swap did. */
export interface PressureResult {
  touches: number;
  swappedOut: number;
  faultsIn: number;
  /** Pages whose bytes came back from swap different from what was written (0 is right). */
  corrupted: number;
  /** Touches that could not get a frame even after reclaim. */
  failed: number;
  reclaimSlowPaths: number;
  pteCacheReturnedPages: number;
  swapSlotsInUse: number;
}

/**
 * Memory pressure: a backed system whose PTE-mapped cache holds pages, and anon memory of twice
 * the RAM touched at random. Frames come through direct reclaim; the registry shrinks the PTE cache
 * and evicts anon pages to a POTAD swap space whose bytes go to a temp file. Each page carries its
 * own stamp (virtual page number and a touch counter); a page faulted back in is checked against it.
 *
 * @example
 * ```ts
 * pressureWithSwap(systemNamed("memdesc")!, { bytes: 16 * MiB }, seed, 20_000).corrupted; // 0
 * ```
 */
export function pressureWithSwap(def: SystemDefinition, build: BuildOptions, seed: number, touches: number): PressureResult {
  const system = buildSystem(def, { ...build, backing: true });
  try {
    const pageSize = system.pageSize;
    // The PTE cache takes a quarter of RAM, then gives its pages back as free cached pages.
    const pte: number[] = [];
    for (let i = 0; i < system.managedPages / 4; i++) {
      const pfn = system.allocPteMapped();
      if (pfn < 0) break;
      pte.push(pfn);
    }
    for (const pfn of pte) system.freePteMapped(pfn);
    const virtualPages = system.managedPages * 2;
    // Swap as large as RAM: anon memory (twice RAM) then fills both, and reclaim has to reach the PTE cache.
    const anon = system.anonMemory(virtualPages, system.managedPages * pageSize);
    const stamps = new Uint32Array(virtualPages);
    const rng = new SeededRandom(seed, "systems/pressure");
    let corrupted = 0;
    let failed = 0;
    for (let i = 0; i < touches; i++) {
      const v = rng.below(virtualPages);
      const wasSwapped = anon.isSwapped(v);
      const pfn = anon.touch(v);
      if (pfn < 0) {
        failed++;
        continue;
      }
      const bytes = system.machine.bytes(pfn * pageSize, pageSize);
      const view = new DataView(bytes.buffer, bytes.byteOffset, pageSize);
      if (wasSwapped && (view.getUint32(0) !== v || view.getUint32(pageSize - 4) !== stamps[v]! || view.getUint32(pageSize >> 1) !== (stamps[v]! ^ 0x5a5a5a5a) >>> 0)) corrupted++;
      stamps[v]!++;
      view.setUint32(0, v);
      view.setUint32(pageSize >> 1, (stamps[v]! ^ 0x5a5a5a5a) >>> 0);
      view.setUint32(pageSize - 4, stamps[v]!);
    }
    system.check();
    return {
      touches,
      swappedOut: anon.swappedOut,
      faultsIn: anon.faultsIn,
      corrupted,
      failed,
      reclaimSlowPaths: system.directReclaim?.stats().slowPath ?? 0,
      pteCacheReturnedPages: system.pteCache?.stats().shrinkerReturnedPages ?? 0,
      swapSlotsInUse: anon.swap?.slotsInUse ?? 0,
    };
  } finally {
    system.dispose();
  }
}

/**
 * Populates a system the way a running one looks for memory-failure lookups: anon, net-pool and
 * PTE-cache memory of random orders 0-3 until `share` of RAM is allocated. Returns the system.
 */
export function populatedSystem(def: SystemDefinition, build: BuildOptions, seed: number, share: number): MemorySystem {
  const system = buildSystem(def, build);
  const orders = randomIndices(seed, "systems/populate-orders", 1 << 16, 4);
  const types = randomIndices(seed, "systems/populate-types", 1 << 16, 3);
  const target = system.managedPages * share;
  for (let i = 0, pages = 0; pages < target; i++) {
    const order = orders[i & 0xffff]!;
    const type = types[i & 0xffff]! === 0 ? 3 : types[i & 0xffff]! === 1 ? 8 : 5; // anon, net-pool, slab
    if (system.pages.allocPages(order, type) < 0) break;
    pages += 2 ** order;
  }
  return system;
}

function lookupLoop(system: MemorySystem, addresses: Float64Array, cursor: Int32Array, ops: number): number {
  const router = system.router;
  const mask = addresses.length - 1;
  let c = cursor[0]!;
  let sum = 0;
  for (let i = 0; i < ops; i++) {
    const desc = router.physToDesc(addresses[c]!);
    c = (c + 1) & mask;
    if (desc !== undefined) sum = (sum + desc.type + desc.firstPfn) | 0;
  }
  cursor[0] = c;
  return sum;
}

/**
 * Memory-failure lookups: random byte addresses of a populated system resolved to their owner
 * (`physToDesc`: the memdesc, its type, its whole range and the owner registered for the type).
 */
export function failureLookups(def: SystemDefinition, build: BuildOptions, seed: number, share: number): Contender {
  return {
    name: def.name,
    setup() {
      const system = populatedSystem(def, build, seed, share);
      const rng = new SeededRandom(seed, "systems/failure-addresses");
      const addresses = new Float64Array(1 << 16);
      const bytes = system.managedPages * system.pageSize;
      for (let i = 0; i < addresses.length; i++) addresses[i] = rng.below(bytes);
      const cursor = Int32Array.of(0);
      lookupLoop(system, addresses, cursor, WARM_UP_OPS);
      return (ops) => lookupLoop(system, addresses, cursor, ops);
    },
  };
}
