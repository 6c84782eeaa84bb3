import { type ArrayFactory, ErrorCode, MetadataArena, requireArrayFactory, MmkitError, describeValue, requireInteger, requirePowerOfTwo } from "@mmkit/physmem";
import { BlockTable, homeSlot } from "./block-table.js";
import { checkPotad } from "./check.js";
import { carveWindow, findWindow } from "./contiguous.js";
import type { DescriptorIndex } from "./descriptor-index.js";
import { firstOrderAtLeast, pushFree, unlinkFree } from "./free-lists.js";
import { frontCount, popCached, pushCached } from "./front.js";
import {
  ALLOCATED,
  CACHED,
  DEFAULT_FRONT_HIGH,
  EMPTY,
  FREE,
  FRONT_ORDERS,
  HEADER_STRIDE,
  H_ALLOCATED,
  H_BASE,
  H_COUNTS,
  H_DESC_BYTES,
  H_FRONT,
  H_HEADS,
  H_SHAPE,
  H_SIZE,
  MAX_FRONT_HIGH,
  MAX_FRONT_ORDER,
  MAX_ORDERS,
  MAX_SPACE_END,
  NEXT_DESC_BYTES,
  NO_DESCRIPTOR,
  PIECE,
  POW2,
  RECORD_STRIDE,
  R_ADDR,
  R_DESC,
  R_DESC_BYTES,
  R_LOG2,
  R_NEXT,
  R_PREV,
  R_SPACE,
  R_STATE,
  alignmentLog2,
  ceilLog2,
  floorLog2,
} from "./layout.js";
import { PageFace } from "./page-face.js";
import { AlignedBlockIndex } from "./aligned-block-index.js";
import { SpaceTable } from "./space-table.js";
import { type SpaceStats, spaceStats } from "./stats.js";
import { addressError, requireDescriptorIndex, requireOptions } from "./validate.js";

/**
 * Options for {@link Potad}.
 *
 * @example
 * ```ts
 * const potad = new Potad({ arena: new MetadataArena(), descriptorIndex: new MapleTree(), frontHigh: 0 });
 * ```
 */
export interface PotadOptions {
  /** Where block records and space headers come from (default: a new `MetadataArena`). */
  arena?: ArrayFactory;
  /**
   * Where descriptors are registered (default: an {@link AlignedBlockIndex} on the same arena,
   * O(1) per operation at any number of descriptors; {@link SortedRangeIndex} also fits). The
   * maple tree of `@mmkit/memdesc-lookup` fits. Its `erase` must not allocate metadata.
   */
  descriptorIndex?: DescriptorIndex;
  /**
   * Freed blocks each front (LIFO stack of unmerged blocks of one of a space's four front orders)
   * holds before half of it is drained into the buddy allocator: an integer in [0, 255], default 64. 0 turns the fronts off
   * (every free merges at once, like a plain buddy allocator).
   */
  frontHigh?: number;
}

/**
 * A space to allocate from, for {@link Potad.addSpace}.
 *
 * @example
 * ```ts
 * const ram = potad.addSpace({ base: 0, size: 64 * MiB, granule: 4096 });                     // 0
 * const slots = potad.addSpace({ base: 1 << 30, size: 1 << 20, granule: 512, frontOrder: 3 });   // 1
 * ```
 */
export interface SpaceSpec {
  /** First address; a multiple of `granule`. */
  base: number;
  /** Bytes; a positive multiple of `granule`; `base + size` at most 2^53. */
  size: number;
  /** The smallest block, a power of two (e.g. 512 or 4096). */
  granule: number;
  /**
   * The first order (in granule orders) with a front: the space's fronts serve orders
   * `frontOrder..frontOrder + 3`. An integer in [0, 50], default 0. A space with a 512 B granule
   * that mostly serves 4 KiB pages takes 3, so its page orders 0..3 are the ones deferred.
   */
  frontOrder?: number;
}

/**
 * Options for {@link Potad.alloc} and {@link Potad.allocOrder}.
 *
 * @example
 * ```ts
 * potad.alloc(ram, 64 * 1024, { descriptor: 42, descriptorBytes: 360 });   // a 64 KiB block carrying 42
 * potad.alloc(ram, 3 * MiB, { alignment: MiB });                           // 3 MiB aligned to 1 MiB
 * ```
 */
export interface AllocOptions {
  /** A descriptor to attach: a non-negative safe integer (an id, a tagged pointer, a memdesc). */
  descriptor?: number;
  /** Bytes the descriptor occupies wherever the caller keeps it (counted in stats only). */
  descriptorBytes?: number;
  /**
   * A weaker alignment (a power of two) for a contiguous allocation: `size` bytes (rounded up to
   * a multiple of the alignment) aligned only to this, made of adjacent blocks when no single
   * block is free. Values below the granule are raised to it; omit it for a power-of-two block.
   */
  alignment?: number;
}

/**
 * The power-of-two allocator with descriptors. Any number of spaces (a base, a size and a granule;
 * memory, swap slots, a file, a GPU heap, an id range); blocks of any power-of-two size from the
 * granule up to the whole space (no MAX_ORDER), aligned to their size; `free(address)` needs no
 * size; each allocation can carry a descriptor, registered in a {@link DescriptorIndex}.
 *
 * Metadata is one 64-byte record (one cache line) per block, free or allocated, stored in place in
 * an address-keyed hash table at most half full, plus 576 bytes per space: proportional to the
 * blocks, never to the space (1 TiB allocated from a 1.5 TiB space costs a few hundred bytes).
 * Freeing never allocates metadata: everything a free needs was reserved when the allocation was
 * made.
 *
 * Small blocks (orders 0..3, or a space's `frontOrder`..`frontOrder + 3`) go through per-order
 * **fronts**: a free pushes the block, unmerged, on its order's LIFO stack and an allocation of that order pops it, 2 cache lines each (the header's
 * first line and the block's record). Behind the fronts is a coalescing buddy allocator with a
 * bitmap of non-empty orders; a full front drains half of itself into it, and an allocation that
 * finds no free block drains every front of the space and tries again. {@link drain} merges
 * everything at once. The layout is documented in `layout.ts`.
 *
 * Costs: `alloc` is O(1) (a front pop, or a find-first-set on the bitmap plus one step per split),
 * independent of how many blocks are live; `free` is O(1) (a front push, or one step per merge);
 * draining is bounded by 4 x `frontHigh` blocks.
 *
 * @example
 * ```ts
 * const potad = new Potad();
 * const swap = potad.addSpace({ base: 0, size: 1 << 30, granule: 4096 });
 * const a = potad.alloc(swap, 64 << 10, { descriptor: 7 });   // 0
 * potad.descriptorOf(a + 100);                                // 7
 * potad.free(a);                                              // 7
 * ```
 */
export class Potad {
  /** The arena the metadata comes from. */
  readonly arena: ArrayFactory;
  /** Where descriptors are registered. */
  readonly descriptorIndex: DescriptorIndex;
  /** Blocks a front holds before half of it is drained (0: no fronts). */
  readonly frontHigh: number;
  #blocks: BlockTable;
  #spaces: SpaceTable;
  /** Whether {@link descriptorIndex} is the default this POTAD made (then it stores through `storeVacant`). */
  readonly #ownIndex: boolean;

  constructor(options: PotadOptions = {}) {
    requireOptions(options, "potad options");
    this.frontHigh = options.frontHigh === undefined ? DEFAULT_FRONT_HIGH : requireInteger(options.frontHigh, "frontHigh", 0, MAX_FRONT_HIGH);
    // `=== undefined`, not `??`: an arena or index of null is refused, not taken for the default.
    if (options.arena !== undefined) requireArrayFactory(options.arena);
    if (options.descriptorIndex !== undefined) requireDescriptorIndex(options.descriptorIndex);
    this.arena = options.arena === undefined ? new MetadataArena() : options.arena;
    this.descriptorIndex = options.descriptorIndex === undefined ? new AlignedBlockIndex({ arena: this.arena }) : options.descriptorIndex;
    this.#ownIndex = options.descriptorIndex === undefined;
    this.#blocks = new BlockTable(this.arena);
    this.#spaces = new SpaceTable(this.arena);
  }

  /**
   * Registers a descriptor for a block just taken off the free lists: through `storeVacant` when
   * the index is the one this POTAD made (no range of its own can overlap a free block, so the
   * overlap check would only cost probes), else `store` (an index passed in may be shared with
   * another POTAD whose blocks lie at the same addresses, and must keep refusing them).
   */
  #storeDescriptor(first: number, last: number, value: number): void {
    const index = this.descriptorIndex;
    if (this.#ownIndex) index.storeVacant!(first, last, value);
    else index.store(first, last, value);
  }

  /** Bytes of metadata POTAD holds (the block table and the space headers; not the descriptor index). */
  get metadataBytes(): number {
    return this.#blocks.records.byteLength + this.#spaces.headers.byteLength;
  }

  /** Block records in use over all spaces (free, cached and allocated blocks, pieces). */
  get blockCount(): number {
    return this.#blocks.used;
  }

  /** Ids of the live spaces, ascending. */
  spaces(): number[] {
    return this.#spaces.ids();
  }

  /**
   * Adds a space and returns its id. The space is covered with the largest aligned blocks that fit
   * (at most two per order), so a 1.5 TiB space at 0 starts as a 1 TiB and a 512 GiB block.
   * Throws (changing nothing) on a bad base, size, granule or frontOrder, or a space overlapping another.
   * Cost: O(orders) records.
   */
  addSpace(spec: SpaceSpec): number {
    requireOptions(spec, "space");
    const granule = requirePowerOfTwo(spec.granule, "granule", 1, 2 ** 52);
    const base = requireInteger(spec.base, "base", 0, MAX_SPACE_END);
    const size = requireInteger(spec.size, "size", 1, MAX_SPACE_END);
    if (base % granule !== 0) throw new MmkitError(ErrorCode.NotAligned, `base ${base} is not a multiple of the granule ${granule}`);
    if (size % granule !== 0) throw new MmkitError(ErrorCode.NotAligned, `size ${size} is not a multiple of the granule ${granule}`);
    const frontOrder = spec.frontOrder === undefined ? 0 : requireInteger(spec.frontOrder, "frontOrder", 0, MAX_FRONT_ORDER);
    if (base + size > MAX_SPACE_END) throw new MmkitError(ErrorCode.OutOfRange, `space [${base}, ${base + size}) ends beyond 2^53`);
    const other = this.#spaces.overlapping(base, size);
    if (other >= 0) {
      const oh = other * HEADER_STRIDE;
      const hdr = this.#spaces.headers;
      throw new MmkitError(ErrorCode.Overlap, `space [${base}, ${base + size}) overlaps space ${other} [${hdr[oh + H_BASE]}, ${hdr[oh + H_BASE]! + hdr[oh + H_SIZE]!})`);
    }
    const granuleLog2 = floorLog2(granule);
    const maxOrder = Math.min(floorLog2(size) - granuleLog2, MAX_ORDERS - 1);
    this.#spaces.reserve();
    this.#blocks.reserve(2 * MAX_ORDERS);
    const s = this.#spaces.add(base, size, granuleLog2, maxOrder, frontOrder);
    const h = s * HEADER_STRIDE;
    const hdr = this.#spaces.headers;
    const blocks = this.#blocks;
    const rec = blocks.records;
    const end = base + size;
    for (let at = base; at < end; ) {
      const e = Math.min(alignmentLog2(at), floorLog2(end - at));
      const r = blocks.insert(at);
      const o = r * RECORD_STRIDE;
      rec[o + R_LOG2] = e;
      rec[o + R_SPACE] = s;
      rec[o + R_DESC] = NO_DESCRIPTOR;
      rec[o + R_DESC_BYTES] = 0;
      pushFree(hdr, h, blocks, r, e - granuleLog2);
      at += POW2[e]!;
    }
    return s;
  }

  /**
   * Grows `space` at its end to `size` bytes (a larger multiple of its granule; the new bytes must
   * not overlap another space), as a `WebAssembly.Memory` grows. The new bytes become free blocks
   * that merge with the free blocks before the old end, so a block (or a contiguous range) may
   * span the old end afterwards. Page faces made before keep the largest order they had; make a
   * new one for larger blocks. Throws (changing nothing) for a bad space or size, or an overlap.
   * Cost: O(orders) records and merges; never moves an allocation.
   *
   * @example
   * ```ts
   * const s = potad.addSpace({ base: 0, size: 12288, granule: 4096 }); // an 8 KiB and a 4 KiB block; 16 KiB is refused
   * potad.growSpace(s, 16384);
   * potad.alloc(s, 16384); // 0: one block across the old end
   * ```
   */
  growSpace(space: number, size: number): void {
    const h = this.#spaces.header(space);
    const hdr = this.#spaces.headers;
    const base = hdr[h + H_BASE]!;
    const oldSize = hdr[h + H_SIZE]!;
    const granuleLog2 = (hdr[h + H_SHAPE]! >> 6) & 63;
    const granule = POW2[granuleLog2]!;
    requireInteger(size, "size", oldSize + 1, MAX_SPACE_END - base);
    if (size % granule !== 0) throw new MmkitError(ErrorCode.NotAligned, `size ${size} is not a multiple of the granule ${granule}`);
    const other = this.#spaces.overlapping(base + oldSize, size - oldSize);
    if (other >= 0) throw new MmkitError(ErrorCode.Overlap, `growing space ${space} to [${base}, ${base + size}) overlaps space ${other}`);
    this.#blocks.reserve(2 * MAX_ORDERS);
    this.#spaces.resize(space, size, Math.min(floorLog2(size) - granuleLog2, MAX_ORDERS - 1));
    const blocks = this.#blocks;
    const end = base + size;
    for (let at = base + oldSize; at < end; ) {
      const e = Math.min(alignmentLog2(at), floorLog2(end - at));
      const r = blocks.insert(at);
      const o = r * RECORD_STRIDE;
      blocks.records[o + R_LOG2] = e;
      blocks.records[o + R_SPACE] = space;
      blocks.records[o + R_STATE] = FREE;
      // Merges with the free buddies before it (the old end's free blocks, or the new ones just added).
      this.#release(at, e, space, h);
      at += POW2[e]!;
    }
  }

  /**
   * Gives back a space that is entirely free: its blocks and its id are released (the id may be
   * reused). Throws `ERR_INVALID_STATE` (changing nothing) while anything is allocated from it.
   * Cost: O(free and cached blocks of the space).
   */
  removeSpace(space: number): void {
    const h = this.#spaces.header(space);
    const hdr = this.#spaces.headers;
    if (hdr[h + H_ALLOCATED] !== 0) {
      throw new MmkitError(ErrorCode.InvalidState, `space ${space} still has ${hdr[h + H_ALLOCATED]} bytes allocated`);
    }
    const blocks = this.#blocks;
    const dropList = (first: number): void => {
      for (let address = first; address >= 0; ) {
        const r = blocks.find(address);
        address = blocks.records[r * RECORD_STRIDE + R_NEXT]!;
        blocks.removeAt(r);
      }
    };
    for (let k = 0; k < MAX_ORDERS; k++) dropList(hdr[h + H_HEADS + k]!);
    for (let k = 0; k < FRONT_ORDERS; k++) dropList(hdr[h + H_FRONT + k]!);
    this.#spaces.remove(space);
  }

  /**
   * Allocates `size` bytes (rounded up to a power of two, at least the granule) aligned to that
   * power of two, or, with `options.alignment` below it, a contiguous range aligned only to the
   * alignment (see {@link AllocOptions.alignment}). Returns the address, or -1 when no free space
   * fits. Throws (changing nothing) for a bad space, a size that is not a positive integer or that
   * exceeds the space, a bad alignment or descriptor.
   * Cost: as {@link allocOrder}; a contiguous allocation drains the fronts and scans free blocks
   * (see `contiguous.ts`).
   */
  alloc(space: number, size: number, options?: AllocOptions): number {
    const h = this.#spaces.header(space);
    if (typeof size !== "number" || !Number.isSafeInteger(size) || size < 1) {
      throw new MmkitError(ErrorCode.InvalidArgument, `size must be a positive integer, got ${describeValue(size)}`);
    }
    const shape = this.#spaces.headers[h + H_SHAPE]!;
    const granuleLog2 = (shape >> 6) & 63;
    const sizeLog2 = Math.max(ceilLog2(size), granuleLog2);
    if (options !== undefined) requireOptions(options, "allocation options");
    const alignment = options === undefined ? undefined : options.alignment;
    if (alignment !== undefined) {
      requirePowerOfTwo(alignment, "alignment", 1, 2 ** 52);
      const alignLog2 = Math.max(floorLog2(alignment), granuleLog2);
      if (alignLog2 > sizeLog2) {
        throw new MmkitError(ErrorCode.OutOfRange, `alignment ${alignment} exceeds the block size ${POW2[sizeLog2]} of a ${size}-byte allocation`);
      }
      if (alignLog2 < sizeLog2) {
        const unit = POW2[alignLog2]!;
        const total = Math.ceil(size / unit) * unit;
        const spaceSize = this.#spaces.headers[h + H_SIZE]!;
        if (total > spaceSize) throw new MmkitError(ErrorCode.OutOfRange, `size ${size} exceeds space ${space} (${spaceSize} bytes)`);
        return this.#allocContiguous(space, h, total, alignLog2 - granuleLog2, options!);
      }
    }
    // The space's largest order is floor(log2(size)) - granuleLog2: a block above it cannot fit.
    if (sizeLog2 - granuleLog2 > (shape & 63)) {
      throw new MmkitError(ErrorCode.OutOfRange, `size ${size} (a ${POW2[sizeLog2]}-byte block) exceeds space ${space} (${this.#spaces.headers[h + H_SIZE]} bytes)`);
    }
    return this.#allocOrder(space, h, sizeLog2 - granuleLog2, options);
  }

  /**
   * Allocates a block of `granule * 2^order` bytes aligned to its size; returns its address or -1.
   * Throws (changing nothing) for a bad space, an order that is not an integer in
   * `[0, log2(space size / granule)]`, or a bad descriptor.
   * Cost: O(1). A front order (see {@link SpaceSpec.frontOrder}) with a non-empty front: a pop, 2
   * cache lines (the header's first line, the block's record). Otherwise a find-first-set on the bitmap of non-empty orders, then one
   * record inserted per split.
   */
  allocOrder(space: number, order: number, options?: AllocOptions): number {
    const hdr = this.#spaces.headers;
    // `typeof` before any arithmetic: `*` or `>>>` on a BigInt throws a TypeError, not the typed error.
    const h = typeof space === "number" ? space * HEADER_STRIDE : -1;
    if (h < 0 || (space >>> 0) !== space || h >= hdr.length || !(hdr[h + H_SHAPE]! >= 0)) this.#spaces.header(space);
    const shape = hdr[h + H_SHAPE]!;
    if (typeof order !== "number" || (order >>> 0) !== order || order > (shape & 63)) requireInteger(order, "order", 0, shape & 63);
    const k = order - (shape >> 12); // the front of this order, when k is in [0, FRONT_ORDERS)
    if ((k >>> 0) < FRONT_ORDERS && options === undefined) {
      // The hot path, written out: pop the front (header line 0, the block's record).
      const top = hdr[h + H_FRONT + k]!;
      if (top >= 0) {
        const blocks = this.#blocks;
        const rec = blocks.records;
        const mask = blocks.mask;
        let i = homeSlot(top, blocks.shift) & mask;
        while (rec[i * RECORD_STRIDE + R_ADDR] !== top) i = (i + 1) & mask;
        const o = i * RECORD_STRIDE;
        hdr[h + H_FRONT + k] = rec[o + R_NEXT]!;
        hdr[h + H_COUNTS] -= 1 << (8 * k);
        rec[o + R_STATE] = ALLOCATED;
        rec[o + R_NEXT] = -1;
        hdr[h + H_ALLOCATED] += POW2[((shape >> 6) & 63) + order]!;
        return top;
      }
    }
    return this.#allocOrder(space, h, order, options);
  }

  #allocOrder(s: number, h: number, order: number, options: AllocOptions | undefined): number {
    let descriptor = NO_DESCRIPTOR;
    let descriptorBytes = 0;
    if (options !== undefined) {
      requireOptions(options, "allocation options");
      if (options.alignment !== undefined) requirePowerOfTwo(options.alignment, "alignment", 1, 2 ** 52);
      if (options.descriptor !== undefined) descriptor = requireInteger(options.descriptor, "descriptor");
      if (options.descriptorBytes !== undefined) descriptorBytes = requireInteger(options.descriptorBytes, "descriptorBytes");
    }
    const hdr = this.#spaces.headers;
    const blocks = this.#blocks;
    const k = order - (hdr[h + H_SHAPE]! >> 12);
    if ((k >>> 0) < FRONT_ORDERS) {
      const top = hdr[h + H_FRONT + k]!;
      if (top >= 0) {
        const granuleLog2 = (hdr[h + H_SHAPE]! >> 6) & 63;
        if (descriptor !== NO_DESCRIPTOR) this.#storeDescriptor(top, top + POW2[granuleLog2 + order]! - 1, descriptor);
        const r = popCached(hdr, h, blocks, k);
        return this.#handOut(hdr, h, blocks.records, r * RECORD_STRIDE, granuleLog2 + order, descriptor, descriptorBytes);
      }
    }
    let j = firstOrderAtLeast(hdr, h, order);
    if (j < 0) {
      if (hdr[h + H_COUNTS] === 0) return -1;
      // Cached blocks may merge into a fit: reserve for the worst split first, so a throw changes nothing.
      blocks.reserve((hdr[h + H_SHAPE]! & 63) - order);
      this.#drainAll(s, h);
      j = firstOrderAtLeast(hdr, h, order);
      if (j < 0) return -1;
    }
    if (j > order) blocks.reserve(j - order);
    const rec = blocks.records;
    const address = hdr[h + H_HEADS + j]!;
    const r = blocks.find(address);
    const o = r * RECORD_STRIDE;
    const granuleLog2 = (hdr[h + H_SHAPE]! >> 6) & 63;
    const log2 = granuleLog2 + order;
    if (descriptor !== NO_DESCRIPTOR) this.#storeDescriptor(address, address + POW2[log2]! - 1, descriptor);
    unlinkFree(hdr, h, blocks, r, j);
    // The lists of orders order..j-1 are empty (j is the first non-empty one): pushing the upper
    // halves touches no old head. Inserting never moves a record, so slot r stays valid.
    for (let i = j - 1; i >= order; i--) {
      const upper = address + POW2[granuleLog2 + i]!;
      const u = blocks.insert(upper);
      const uo = u * RECORD_STRIDE;
      rec[uo + R_LOG2] = granuleLog2 + i;
      rec[uo + R_SPACE] = s;
      rec[uo + R_DESC] = NO_DESCRIPTOR;
      rec[uo + R_DESC_BYTES] = 0;
      pushFree(hdr, h, blocks, u, i);
    }
    rec[o + R_PREV] = -1;
    return this.#handOut(hdr, h, rec, o, log2, descriptor, descriptorBytes);
  }

  /** Marks the block at record offset `o` allocated with `2^log2` bytes; returns its address. */
  #handOut(hdr: Float64Array, h: number, rec: Float64Array, o: number, log2: number, descriptor: number, descriptorBytes: number): number {
    rec[o + R_LOG2] = log2;
    rec[o + R_STATE] = ALLOCATED;
    rec[o + R_NEXT] = descriptorBytes === 0 ? -1 : NEXT_DESC_BYTES;
    rec[o + R_DESC] = descriptor;
    rec[o + R_DESC_BYTES] = descriptorBytes;
    hdr[h + H_ALLOCATED] += POW2[log2]!;
    if (descriptorBytes !== 0) hdr[h + H_DESC_BYTES] += descriptorBytes;
    return rec[o + R_ADDR]!;
  }

  #allocContiguous(s: number, h: number, size: number, alignOrder: number, options: AllocOptions): number {
    const descriptor = options.descriptor === undefined ? NO_DESCRIPTOR : requireInteger(options.descriptor, "descriptor");
    const descriptorBytes = options.descriptorBytes === undefined ? 0 : requireInteger(options.descriptorBytes, "descriptorBytes");
    this.#blocks.reserve(MAX_ORDERS);
    const hdr = this.#spaces.headers;
    this.#drainAll(s, h);
    const shape = hdr[h + H_SHAPE]!;
    const granuleLog2 = (shape >> 6) & 63;
    const start = findWindow(this.#blocks, hdr, h, s, granuleLog2, shape & 63, size, alignOrder);
    if (start < 0) return -1;
    if (descriptor !== NO_DESCRIPTOR) this.#storeDescriptor(start, start + size - 1, descriptor);
    carveWindow(this.#blocks, hdr, h, s, granuleLog2, start, size, descriptor, descriptorBytes);
    if (descriptorBytes !== 0) {
      const head = this.#blocks.find(start) * RECORD_STRIDE;
      if (this.#blocks.records[head + R_NEXT] === -1) this.#blocks.records[head + R_NEXT] = NEXT_DESC_BYTES;
    }
    hdr[h + H_ALLOCATED] += size;
    if (descriptorBytes !== 0) hdr[h + H_DESC_BYTES] += descriptorBytes;
    return start;
  }

  /**
   * Frees the allocation starting at `address` (a block, or a contiguous range as one) and returns
   * its descriptor, or -1 when it had none. With `expectedSize`, throws `ERR_WRONG_SIZE` unless the
   * allocation is exactly that many bytes. Never allocates metadata.
   * Throws (changing nothing) `ERR_DOUBLE_FREE` for free space, `ERR_NOT_ALLOCATED` for an address
   * never handed out or inside an allocation, `ERR_INVALID_ARGUMENT` for a non-integer address or an
   * `expectedSize` that is not a positive integer.
   * Cost: O(1). A block of a front order goes on its front: one hash probe, 2 cache lines (the record
   * and the header's first line). Larger blocks and pieces merge with free buddies as far as they go.
   */
  free(address: number, expectedSize?: number): number {
    // Hashing a BigInt would throw a TypeError; any other non-number simply finds no record.
    if (typeof address !== "number") this.#throwNotFreeable(address);
    const blocks = this.#blocks;
    const rec = blocks.records;
    const mask = blocks.mask;
    let i = homeSlot(address, blocks.shift) & mask;
    for (;;) {
      const k = rec[i * RECORD_STRIDE + R_ADDR]!;
      if (k === address) break;
      if (k === EMPTY) {
        i = -1;
        break;
      }
      i = (i + 1) & mask;
    }
    if (i < 0 || rec[i * RECORD_STRIDE + R_STATE] !== ALLOCATED) this.#throwNotFreeable(address);
    if (expectedSize !== undefined) this.#requireSize(i, address, expectedSize);
    if (pushFront(this.#spaces.headers, this.frontHigh, rec, i * RECORD_STRIDE, address)) return NO_DESCRIPTOR;
    return this.#freeAt(i, address);
  }

  /** Throws `ERR_WRONG_SIZE` unless the allocation whose head record is in slot `r` is `expectedSize` bytes. */
  #requireSize(r: number, address: number, expectedSize: number): void {
    if (typeof expectedSize !== "number" || !Number.isSafeInteger(expectedSize) || expectedSize < 1) {
      throw new MmkitError(ErrorCode.InvalidArgument, `expectedSize must be a positive integer, got ${describeValue(expectedSize)}`);
    }
    const size = this.#allocationSize(r);
    if (expectedSize !== size) {
      throw new MmkitError(ErrorCode.WrongSize, `the allocation at ${address} is ${size} bytes, not ${describeValue(expectedSize)}`);
    }
  }

  /** Frees the validated allocation whose head record is in slot `r`. */
  #freeAt(r: number, address: number): number {
    const blocks = this.#blocks;
    const rec = blocks.records;
    const o = r * RECORD_STRIDE;
    const descriptor = rec[o + R_DESC]!;
    const descriptorBytes = rec[o + R_DESC_BYTES]!;
    if (descriptor !== NO_DESCRIPTOR) this.descriptorIndex.erase(address);
    const s = rec[o + R_SPACE]!;
    const h = s * HEADER_STRIDE;
    const hdr = this.#spaces.headers;
    if (descriptorBytes !== 0) hdr[h + H_DESC_BYTES] -= descriptorBytes;
    const log2 = rec[o + R_LOG2]!;
    let next = rec[o + R_NEXT]!;
    if (next < 0) {
      hdr[h + H_ALLOCATED] -= POW2[log2]!;
      const shape = hdr[h + H_SHAPE]!;
      const k = log2 - ((shape >> 6) & 63) - (shape >> 12); // the block's front, when in [0, FRONT_ORDERS)
      if ((k >>> 0) < FRONT_ORDERS && this.frontHigh > 0) {
        if (frontCount(hdr, h, k) >= this.frontHigh) {
          this.#drainFront(s, h, k, (this.frontHigh + 1) >> 1);
          r = blocks.find(address); // draining removes records, which may move this one
        }
        pushCached(hdr, h, blocks, r, k);
      } else {
        this.#release(address, log2, s, h);
      }
      return descriptor;
    }
    // A contiguous allocation: every piece goes back to the buddy allocator.
    let total = 0;
    let piece = address;
    let e = log2;
    for (;;) {
      total += POW2[e]!;
      this.#release(piece, e, s, h);
      piece = next;
      if (piece < 0) break;
      const p = blocks.find(piece);
      e = rec[p * RECORD_STRIDE + R_LOG2]!;
      next = rec[p * RECORD_STRIDE + R_NEXT]!;
    }
    hdr[h + H_ALLOCATED] -= total;
    return descriptor;
  }

  /**
   * Puts the block at `address` (`2^e` bytes, its record still present in any state) on the free
   * lists, merging it with free buddies as far as they go. Only removes records.
   */
  #release(address: number, e: number, s: number, h: number): void {
    const blocks = this.#blocks;
    const rec = blocks.records;
    const hdr = this.#spaces.headers;
    const shape = hdr[h + H_SHAPE]!;
    const granuleLog2 = (shape >> 6) & 63;
    const maxOrder = shape & 63;
    let order = e - granuleLog2;
    while (order < maxOrder) {
      const size = POW2[e]!;
      const twice = size + size;
      const parent = Math.floor(address / twice) * twice;
      const buddyAddress = parent === address ? address + size : parent;
      const b = blocks.find(buddyAddress);
      if (b < 0) break;
      const bo = b * RECORD_STRIDE;
      if (rec[bo + R_STATE] !== FREE || rec[bo + R_LOG2] !== e || rec[bo + R_SPACE] !== s) break;
      unlinkFree(hdr, h, blocks, b, order);
      // The merged block keeps the lower record; the upper one goes.
      blocks.removeAt(buddyAddress > address ? b : blocks.find(address));
      if (buddyAddress < address) address = buddyAddress;
      e++;
      order++;
    }
    const o = blocks.find(address) * RECORD_STRIDE;
    rec[o + R_LOG2] = e;
    rec[o + R_DESC] = NO_DESCRIPTOR;
    rec[o + R_DESC_BYTES] = 0;
    pushFree(hdr, h, blocks, o / RECORD_STRIDE, order);
  }

  /** Moves `count` blocks (or all there are) from front `k` (order frontOrder + k) to the buddy allocator. */
  #drainFront(s: number, h: number, k: number, count: number): void {
    const hdr = this.#spaces.headers;
    const shape = hdr[h + H_SHAPE]!;
    const log2 = ((shape >> 6) & 63) + (shape >> 12) + k;
    for (let i = 0; i < count && hdr[h + H_FRONT + k]! >= 0; i++) {
      const r = popCached(hdr, h, this.#blocks, k);
      this.#release(this.#blocks.records[r * RECORD_STRIDE + R_ADDR]!, log2, s, h);
    }
  }

  #drainAll(s: number, h: number): void {
    for (let k = 0; k < FRONT_ORDERS; k++) this.#drainFront(s, h, k, MAX_FRONT_HIGH);
  }

  /**
   * Merges every cached block of `space` (or of every space) back into the buddy allocator, as
   * the kernel's `drain_all_pages` empties the per-CPU lists: afterwards the free blocks are
   * completely coalesced. Never allocates metadata. Cost: O(cached blocks), at most 4 x `frontHigh`
   * per space.
   */
  drain(space?: number): void {
    if (space === undefined) {
      for (const id of this.#spaces.ids()) this.#drainAll(id, id * HEADER_STRIDE);
      return;
    }
    this.#drainAll(space, this.#spaces.header(space));
  }

  /** Bytes of the allocation starting at `address`; throws as {@link free} would for anything else. O(pieces). */
  sizeOf(address: number): number {
    const r = typeof address === "number" ? this.#blocks.find(address) : -1;
    if (r < 0 || this.#blocks.records[r * RECORD_STRIDE + R_STATE] !== ALLOCATED) this.#throwNotFreeable(address);
    return this.#allocationSize(r);
  }

  #allocationSize(r: number): number {
    const blocks = this.#blocks;
    const rec = blocks.records;
    let total = POW2[rec[r * RECORD_STRIDE + R_LOG2]!]!;
    for (let piece = rec[r * RECORD_STRIDE + R_NEXT]!; piece >= 0; ) {
      const p = blocks.find(piece) * RECORD_STRIDE;
      total += POW2[rec[p + R_LOG2]!]!;
      piece = rec[p + R_NEXT]!;
    }
    return total;
  }

  /**
   * The descriptor of the allocation containing `address` (any byte of it), or -1: one index load.
   * Throws `ERR_INVALID_ARGUMENT` for an address that is not a non-negative integer.
   */
  descriptorOf(address: number): number {
    if (!Number.isSafeInteger(address) || address < 0) throw addressError(address);
    const value = this.descriptorIndex.load(address);
    return value === undefined ? NO_DESCRIPTOR : value;
  }

  /**
   * Start address of the allocation containing `address`, or -1 when it is free or in no space.
   * Throws `ERR_INVALID_ARGUMENT` for an address that is not a non-negative integer.
   * Cost: one hash probe per order at most (the aligned-down candidates), plus a scan of the spaces.
   */
  allocationAt(address: number): number {
    if (!Number.isSafeInteger(address) || address < 0) throw addressError(address);
    const r = this.#blockContaining(address);
    if (r < 0) return -1;
    const rec = this.#blocks.records;
    const state = rec[r * RECORD_STRIDE + R_STATE];
    if (state === ALLOCATED) return rec[r * RECORD_STRIDE + R_ADDR]!;
    if (state === PIECE) return rec[r * RECORD_STRIDE + R_PREV]!;
    return -1;
  }

  /** Slot of the block containing `address`, or -1 when no space contains it. */
  #blockContaining(address: number): number {
    const s = this.#spaces.containing(address);
    if (s < 0) return -1;
    const hdr = this.#spaces.headers;
    const h = s * HEADER_STRIDE;
    const granuleLog2 = (hdr[h + H_SHAPE]! >> 6) & 63;
    const base = hdr[h + H_BASE]!;
    const rec = this.#blocks.records;
    for (let e = granuleLog2; e < 63; e++) {
      const candidate = Math.floor(address / POW2[e]!) * POW2[e]!;
      if (candidate < base) break;
      const r = this.#blocks.find(candidate);
      if (r >= 0 && rec[r * RECORD_STRIDE + R_SPACE] === s && candidate + POW2[rec[r * RECORD_STRIDE + R_LOG2]!]! > address) return r;
    }
    return -1;
  }

  #throwNotFreeable(address: number): never {
    if (typeof address !== "number" || !Number.isSafeInteger(address) || address < 0) throw addressError(address);
    const r = this.#blockContaining(address);
    if (r < 0) throw new MmkitError(ErrorCode.NotAllocated, `address ${address} is in no space`);
    const rec = this.#blocks.records;
    const o = r * RECORD_STRIDE;
    const start = rec[o + R_ADDR]!;
    const state = rec[o + R_STATE];
    // A block waiting on a front was handed out and freed: a second free of its start is a double
    // free for certain. Anything else in free space may never have been handed out (free space
    // keeps no history once blocks merge), so it is "not allocated", as the README promises.
    if (state === CACHED && start === address) throw new MmkitError(ErrorCode.DoubleFree, `address ${address} is free already`);
    if (state === FREE || state === CACHED) {
      throw new MmkitError(ErrorCode.NotAllocated, `address ${address} is not allocated: it lies in free space (the free block at ${start}), never handed out or freed already`);
    }
    const head = state === PIECE ? rec[o + R_PREV]! : start;
    throw new MmkitError(ErrorCode.NotAllocated, `address ${address} is not the start of an allocation: it lies inside the allocation at ${head}`);
  }

  /**
   * A page face over a RAM space: `allocPages(order)` / `freePages(pfn, order)` in page frame
   * numbers, the shape the fragment cache and the PTE cache take from the buddy allocator.
   * `pageSize` (default 4096) must be at least the space's granule and divide its base.
   */
  pageFace(space: number, pageSize = 4096): PageFace {
    const h = this.#spaces.header(space);
    const hdr = this.#spaces.headers;
    const shape = hdr[h + H_SHAPE]!;
    const granuleLog2 = (shape >> 6) & 63;
    requirePowerOfTwo(pageSize, "pageSize", POW2[granuleLog2]!, 2 ** 52);
    if (hdr[h + H_BASE]! % pageSize !== 0) throw new MmkitError(ErrorCode.NotAligned, `space ${space}'s base ${hdr[h + H_BASE]} is not a multiple of the page size ${pageSize}`);
    const shift = floorLog2(pageSize) - granuleLog2;
    const maxOrder = shape & 63;
    if (shift > maxOrder) throw new MmkitError(ErrorCode.OutOfRange, `pageSize ${pageSize} exceeds space ${space}'s largest block`);
    const pageLog2 = floorLog2(pageSize);
    const faceMax = maxOrder - shift;
    const perByte = 1 / pageSize; // exact: pageSize is a power of two
    // Orders of the face a front can serve: front `order + frontShift` in [0, FRONT_ORDERS), so
    // face orders frontMin..frontMax (none when frontMax < frontMin).
    const frontShift = shift - (shape >> 12);
    const frontMin = Math.max(0, -frontShift);
    const frontMax = Math.min(FRONT_ORDERS - 1 - frontShift, faceMax);
    const frontSpan = frontMax - frontMin; // -1 or less: no face order has a front
    const blocks = this.#blocks;
    const spaces = this.#spaces;
    const frontHigh = this.frontHigh;
    return new PageFace(space, pageSize, faceMax, {
      allocPages: (order) => {
        // The hot path: a pop from a front of this (still live, same-shaped) space, written out.
        // Anything else (a bad order, an empty front, a removed space) takes the general path.
        if (typeof order === "number" && (order >>> 0) === order && (order - frontMin) >>> 0 <= frontSpan) {
          const hd = spaces.headers;
          const k = (order + frontShift) | 0;
          const top = hd[h + H_FRONT + k]!;
          if (top >= 0 && hd[h + H_SHAPE] === shape) {
            const rec = blocks.records;
            const mask = blocks.mask;
            let i = homeSlot(top, blocks.shift) & mask;
            while (rec[i * RECORD_STRIDE + R_ADDR] !== top) i = (i + 1) & mask;
            const o = i * RECORD_STRIDE;
            hd[h + H_FRONT + k] = rec[o + R_NEXT]!;
            hd[h + H_COUNTS] -= 1 << (8 * k);
            rec[o + R_STATE] = ALLOCATED;
            rec[o + R_NEXT] = -1;
            hd[h + H_ALLOCATED] += POW2[pageLog2 + order]!;
            return top * perByte;
          }
        }
        return this.#allocPagesSlow(space, order, shift, faceMax, perByte);
      },
      freePages: (pfn, order) => {
        // The hot path (`pushPage`); everything else, valid or not, takes the general path, which
        // validates in full. `typeof` keeps a string or a boolean from being converted into a match.
        if (typeof pfn !== "number" || typeof order !== "number" || (order >>> 0) !== order || !pushPage(blocks, spaces.headers, h, shape, space, pfn * pageSize, pageLog2 + order, order + frontShift, frontHigh)) {
          this.#freePagesSlow(space, pfn, order, pageSize, pageLog2, faceMax);
        }
      },
    });
  }

  /** The page face's allocation off its hot path: validates the order, then {@link allocOrder}. */
  #allocPagesSlow(space: number, order: number, shift: number, faceMax: number, perByte: number): number {
    if (typeof order !== "number" || (order >>> 0) !== order || order > faceMax) requireInteger(order, "order", 0, faceMax);
    const address = this.allocOrder(space, order + shift);
    return address < 0 ? -1 : address * perByte;
  }

  /**
   * The page face's free off its hot path: validates the pfn and the order, then frees the block of
   * `2^(pageLog2 + order)` bytes at `pfn`, which must be an allocation of exactly that size in `space`.
   */
  #freePagesSlow(space: number, pfn: number, order: number, pageSize: number, pageLog2: number, faceMax: number): void {
    if (typeof pfn !== "number" || !Number.isSafeInteger(pfn) || pfn < 0) {
      throw new MmkitError(ErrorCode.InvalidArgument, `pfn must be a non-negative integer, got ${describeValue(pfn)}`);
    }
    if (typeof order !== "number" || (order >>> 0) !== order || order > faceMax) requireInteger(order, "order", 0, faceMax);
    const log2 = pageLog2 + order;
    const address = pfn * pageSize;
    const i = this.#blocks.find(address);
    const rec = this.#blocks.records;
    const o = i * RECORD_STRIDE;
    if (i < 0 || rec[o + R_STATE] !== ALLOCATED || rec[o + R_SPACE] !== space) {
      const h = this.#spaces.header(space);
      const hdr = this.#spaces.headers;
      const base = hdr[h + H_BASE]!;
      const end = base + hdr[h + H_SIZE]!;
      if (address < base || address >= end) {
        throw new MmkitError(ErrorCode.OutOfRange, `pfn ${pfn} (address ${address}) is not in space ${space} [${base}, ${end})`);
      }
      this.#throwNotFreeable(address);
    }
    if (rec[o + R_LOG2] !== log2 || rec[o + R_NEXT]! >= 0) {
      throw new MmkitError(ErrorCode.WrongSize, `the allocation at ${address} is ${this.#allocationSize(i)} bytes, not ${POW2[log2]}`);
    }
    if (!pushFront(this.#spaces.headers, this.frontHigh, rec, o, address)) this.#freeAt(i, address);
  }

  /** Figures for one space (see {@link SpaceStats}). Cost: O(blocks) (a scan of the table). */
  stats(space: number): SpaceStats {
    const h = this.#spaces.header(space);
    return spaceStats(this.#blocks, this.#spaces.headers, h, space);
  }

  /**
   * Validates every invariant (see `check.ts`) and throws `ERR_INVARIANT` on the first broken one.
   * Cost: O(blocks log blocks + allocations x index load).
   */
  check(): void {
    checkPotad(this.#blocks, this.#spaces, this.descriptorIndex, this.frontHigh);
  }
}

/**
 * The hot path of a free, written out: a single block of a front order without a descriptor goes on
 * its front when the front has room (header line 0 and the record). False when it does not apply.
 */
function pushFront(hdr: Float64Array, frontHigh: number, rec: Float64Array, o: number, address: number): boolean {
  // NEXT -1: one block, no descriptor bytes (-2 says there are some); DESC -1: no descriptor.
  if (rec[o + R_NEXT] !== -1 || rec[o + R_DESC] !== NO_DESCRIPTOR) return false;
  // `| 0`: small integers read from a Float64Array, made int32 before they index anything.
  const h = (rec[o + R_SPACE]! | 0) * HEADER_STRIDE;
  const log2 = rec[o + R_LOG2]! | 0;
  const shape = hdr[h + H_SHAPE]! | 0;
  const k = log2 - ((shape >> 6) & 63) - (shape >> 12); // the block's front (order - frontOrder)
  const counts = hdr[h + H_COUNTS]!;
  if ((k >>> 0) >= FRONT_ORDERS || ((counts >>> (8 * k)) & 255) >= frontHigh) return false;
  rec[o + R_NEXT] = hdr[h + H_FRONT + k]!;
  rec[o + R_STATE] = CACHED;
  hdr[h + H_FRONT + k] = address;
  hdr[h + H_COUNTS] = counts + (1 << (8 * k));
  hdr[h + H_ALLOCATED] -= POW2[log2]!;
  return true;
}

/**
 * The page face's free, written out: one hash probe for `address`; a single block of `space` of
 * exactly `2^log2` bytes with no descriptor goes on front `k` (a front index; anything outside
 * [0, 3] declines) when that front has room and the space still has the shape `shape` the face was made for (header line 0 and the
 * record). False, changing nothing, when any of that does not hold. A match proves the pfn a safe
 * non-negative integer: the record's block is `2^log2` bytes aligned to its size, at least a page.
 */
function pushPage(blocks: BlockTable, hdr: Float64Array, h: number, shape: number, space: number, address: number, log2: number, k: number, frontHigh: number): boolean {
  const rec = blocks.records;
  const mask = blocks.mask;
  let i = homeSlot(address, blocks.shift) & mask;
  let key = rec[i * RECORD_STRIDE + R_ADDR]!;
  while (key !== address && key !== EMPTY) {
    i = (i + 1) & mask;
    key = rec[i * RECORD_STRIDE + R_ADDR]!;
  }
  const o = i * RECORD_STRIDE;
  // STATE ALLOCATED also excludes an empty slot, whose key -1 a negative fractional pfn could match.
  if (key !== address || rec[o + R_STATE] !== ALLOCATED || rec[o + R_SPACE] !== space || rec[o + R_LOG2] !== log2) return false;
  if (rec[o + R_NEXT] !== -1 || rec[o + R_DESC] !== NO_DESCRIPTOR || k < 0 || k >= FRONT_ORDERS || hdr[h + H_SHAPE] !== shape) return false;
  const counts = hdr[h + H_COUNTS]!;
  if (((counts >>> (8 * k)) & 255) >= frontHigh) return false;
  rec[o + R_NEXT] = hdr[h + H_FRONT + k]!;
  rec[o + R_STATE] = CACHED;
  hdr[h + H_FRONT + k] = address;
  hdr[h + H_COUNTS] = counts + (1 << (8 * k));
  hdr[h + H_ALLOCATED] -= POW2[log2]!;
  return true;
}
