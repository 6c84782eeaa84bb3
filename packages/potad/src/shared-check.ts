import { ErrorCode, MmkitError } from "@mmkit/physmem";
import { POW2 } from "./layout.js";
import { CPU_SHIFT, ORDERS, ORDER_SHIFT, SHARED_FRONT_ORDERS, STATE_MASK, S_ALLOCATED, S_CACHED, S_FREE, S_NONE } from "./shared-layout.js";
import { buddyOf, frontAt, orderOf, type SharedCore } from "./shared-core.js";

/**
 * Statistics of one space of a shared POTAD, read from the shared tables (exact while the other
 * workers are quiescent).
 *
 * @example
 * ```ts
 * const { allocatedBytes, cachedBlocks } = potad.stats(0);
 * ```
 */
export interface SharedSpaceStats {
  /** Bytes handed out (the space less free and cached bytes). */
  allocatedBytes: number;
  /** Bytes on the free lists and on every CPU's fronts. */
  freeBytes: number;
  /** Bytes on the free lists per order (index = order); cached blocks not included. */
  freeBytesByOrder: number[];
  /** Bytes of the largest free or cached block, 0 when none. */
  largestFreeBlock: number;
  /** Free blocks, cached ones included. */
  freeBlocks: number;
  /** Blocks waiting on the fronts of every CPU. */
  cachedBlocks: number;
  /** Bytes of those blocks. */
  cachedBytes: number;
}

/** The statistics of space `s`. O(orders + cpus). */
export function sharedSpaceStats(c: SharedCore, s: number, cpus: number): SharedSpaceStats {
  const sp = c.sp;
  const granule = sp.granule[s]!;
  const freeBytesByOrder: number[] = [];
  let listBytes = 0;
  let listBlocks = 0;
  let largest = 0;
  for (let k = 0; k <= sp.maxOrder[s]!; k++) {
    const n = c.a.freeCounts[s * ORDERS + k]!;
    const bytes = n * granule * POW2[k]!;
    freeBytesByOrder.push(bytes);
    listBytes += bytes;
    listBlocks += n;
    if (n > 0) largest = granule * POW2[k]!;
  }
  let cachedBlocks = 0;
  let cachedBytes = 0;
  for (let cpu = 0; cpu < cpus; cpu++) {
    for (let fi = 0; fi < SHARED_FRONT_ORDERS; fi++) {
      const n = c.a.fronts[frontAt(c, cpu, s, fi) + 1]!;
      const size = granule * POW2[sp.frontOrder[s]! + fi]!;
      cachedBlocks += n;
      cachedBytes += n * size;
      if (n > 0 && size > largest) largest = size;
    }
  }
  const freeBytes = listBytes + cachedBytes;
  return { allocatedBytes: sp.size[s]! - freeBytes, freeBytes, freeBytesByOrder, largestFreeBlock: largest, freeBlocks: listBlocks + cachedBlocks, cachedBlocks, cachedBytes };
}

function broken(message: string): never {
  throw new MmkitError(ErrorCode.Invariant, message);
}

/**
 * Validates every invariant of the shared tables and throws `ERR_INVARIANT` on the first broken
 * one: the blocks tile each space (a block starts on a slot with a state, aligned to its size in
 * absolute terms, inside the space, and no slot inside it starts another); no free block has a
 * free buddy of its order (everything not on a front is merged); every free block is on its
 * order's list exactly once and the lists' links and counts agree; every cached block is on the
 * front of the CPU its slot names, of its order, and the fronts' counts agree. Only while every
 * other worker is quiescent. O(granules + blocks).
 */
export function checkShared(c: SharedCore, cpus: number): void {
  const { slots, heads, freeCounts, fronts } = c.a;
  const sp = c.sp;
  for (let s = 0; s < sp.count; s++) {
    const off = sp.offset[s]!;
    const granules = sp.granules[s]!;
    const freeSeen = new Int32Array(ORDERS);
    const cachedSeen = new Int32Array(cpus * SHARED_FRONT_ORDERS);
    for (let local = 0; local < granules; ) {
      const g = off + local;
      const m = slots[g << 2]!;
      const state = m & STATE_MASK;
      if (state === S_NONE) broken(`space ${s}: granule ${local} starts no block and lies in none`);
      const k = orderOf(m);
      const n = POW2[k]!;
      if ((sp.baseGranule[s]! + local) % n !== 0) broken(`space ${s}: the order-${k} block at granule ${local} is not aligned to its size`);
      if (local + n > granules) broken(`space ${s}: the order-${k} block at granule ${local} runs past the space's end`);
      for (let i = 1; i < n; i++) if (slots[(g + i) << 2] !== S_NONE) broken(`space ${s}: granule ${local + i} inside the order-${k} block at ${local} has state ${slots[(g + i) << 2]}`);
      if (state === S_FREE) {
        freeSeen[k]! += 1;
        const b = buddyOf(c, s, g, k);
        if (b >= 0 && slots[b << 2] === m) broken(`space ${s}: free buddies of order ${k} at granules ${local} and ${b - off} are not merged`);
      } else if (state === S_CACHED) {
        const cpu = m >>> CPU_SHIFT;
        const fi = k - sp.frontOrder[s]!;
        if (cpu >= cpus || fi < 0 || fi >= SHARED_FRONT_ORDERS) broken(`space ${s}: the cached block at granule ${local} names cpu ${cpu} and order ${k}, which have no front`);
        cachedSeen[cpu * SHARED_FRONT_ORDERS + fi]! += 1;
      } else if (state !== S_ALLOCATED) {
        broken(`space ${s}: granule ${local} has an unknown state ${state}`);
      }
      local += n;
    }
    for (let k = 0; k < ORDERS; k++) {
      let count = 0;
      let before = -1;
      for (let g = heads[s * ORDERS + k]!; g >= 0; g = slots[(g << 2) + 1]!) {
        if (g < off || g >= off + granules) broken(`space ${s}: its order-${k} free list reaches granule index ${g}, outside the space`);
        if (slots[g << 2] !== (S_FREE | (k << ORDER_SHIFT))) broken(`space ${s}: the order-${k} free list holds granule ${g - off}, whose slot says ${slots[g << 2]}`);
        if (slots[(g << 2) + 2] !== before) broken(`space ${s}: granule ${g - off} on the order-${k} free list has prev ${slots[(g << 2) + 2]}, not ${before}`);
        if (++count > granules) broken(`space ${s}: the order-${k} free list has a cycle`);
        before = g;
      }
      if (count !== freeCounts[s * ORDERS + k]) broken(`space ${s}: ${count} blocks on the order-${k} free list, counted ${freeCounts[s * ORDERS + k]}`);
      if (count !== freeSeen[k]) broken(`space ${s}: ${freeSeen[k]} free blocks of order ${k} in the space, ${count} on the list`);
    }
    for (let cpu = 0; cpu < cpus; cpu++) {
      for (let fi = 0; fi < SHARED_FRONT_ORDERS; fi++) {
        const at = frontAt(c, cpu, s, fi);
        const k = sp.frontOrder[s]! + fi;
        let count = 0;
        for (let g = fronts[at]!; g >= 0; g = slots[(g << 2) + 1]!) {
          if (g < off || g >= off + granules) broken(`cpu ${cpu}'s order-${k} front of space ${s} reaches granule index ${g}, outside the space`);
          if (slots[g << 2] !== (S_CACHED | (k << ORDER_SHIFT) | (cpu << CPU_SHIFT))) broken(`cpu ${cpu}'s order-${k} front of space ${s} holds granule ${g - off}, whose slot says ${slots[g << 2]}`);
          if (++count > granules) broken(`cpu ${cpu}'s order-${k} front of space ${s} has a cycle`);
        }
        if (count !== fronts[at + 1]) broken(`cpu ${cpu}'s order-${k} front of space ${s}: ${count} blocks, counted ${fronts[at + 1]}`);
        if (count !== cachedSeen[cpu * SHARED_FRONT_ORDERS + fi]) broken(`space ${s}: ${cachedSeen[cpu * SHARED_FRONT_ORDERS + fi]} blocks cached for cpu ${cpu} at order ${k}, ${count} on its front`);
      }
    }
  }
}
