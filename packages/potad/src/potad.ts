import { type ArrayFactory, ErrorCode, MetadataArena, MmkitError, describeValue, requireInteger, requirePowerOfTwo } from "@mmkit/physmem";
import { BlockTable } from "./block-table.js";
import { checkPotad } from "./check.js";
import { carveWindow, findWindow } from "./contiguous.js";
import type { DescriptorIndex } from "./descriptor-index.js";
import { firstOrderAtLeast, pushFree, unlinkFree } from "./free-lists.js";
import {
  ALLOCATED,
  FREE,
  HEADER_STRIDE,
  H_ALLOCATED,
  H_BASE,
  H_DESC_BYTES,
  H_HEADS,
  H_SHAPE,
  H_SIZE,
  MAX_ORDERS,
  MAX_SPACE_END,
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
import { SortedRangeIndex } from "./sorted-range-index.js";
import { SpaceTable } from "./space-table.js";
import { type SpaceStats, spaceStats } from "./stats.js";

/** Options for {@link Potad}. */
export interface PotadOptions {
  /** Where block records, the hash and space headers come from (default: a new `MetadataArena`). */
  arena?: ArrayFactory;
  /**
   * Where descriptors are registered (default: a {@link SortedRangeIndex} on the same arena). The
   * maple tree of `@mmkit/memdesc-lookup` fits. Its `erase` must not allocate metadata.
   */
  descriptorIndex?: DescriptorIndex;
}

/** A space to allocate from, for {@link Potad.addSpace}. */
export interface SpaceSpec {
  /** First address; a multiple of `granule`. */
  base: number;
  /** Bytes; a positive multiple of `granule`; `base + size` at most 2^53. */
  size: number;
  /** The smallest block, a power of two (e.g. 512 or 4096). */
  granule: number;
}

/** Options for {@link Potad.alloc} and {@link Potad.allocOrder}. */
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
 * Metadata is one 64-byte record (one cache line) per block, free or allocated, plus 32 bytes of
 * hash per record and 512 bytes per space: proportional to the blocks, never to the space (1 TiB
 * allocated from a 1.5 TiB space costs a few hundred bytes). Freeing never allocates metadata:
 * everything a free needs was reserved when the allocation was made.
 *
 * Costs: `alloc` is O(1) (a find-first-set on a bitmap of non-empty orders) plus one step per
 * split, independent of how many blocks are live; 2 cache lines when the exact order is free, +2
 * per split. `free` is O(1) expected plus one step per merge; about 6 lines without a merge. The
 * layout is documented in `layout.ts`.
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
  #blocks: BlockTable;
  #spaces: SpaceTable;

  constructor(options: PotadOptions = {}) {
    if (options === null || typeof options !== "object") {
      throw new MmkitError(ErrorCode.InvalidArgument, `potad options must be an object, got ${describeValue(options)}`);
    }
    this.arena = options.arena ?? new MetadataArena();
    this.descriptorIndex = options.descriptorIndex ?? new SortedRangeIndex({ arena: this.arena });
    this.#blocks = new BlockTable(this.arena);
    this.#spaces = new SpaceTable(this.arena);
  }

  /** Bytes of metadata POTAD holds (records, hash, headers; not the descriptor index). */
  get metadataBytes(): number {
    return this.#blocks.records.byteLength + this.#blocks.slots.byteLength + this.#spaces.headers.byteLength;
  }

  /** Block records in use over all spaces (free and allocated blocks). */
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
   * Throws (changing nothing) on a bad base, size or granule, or a space overlapping another.
   * Cost: O(orders) records.
   */
  addSpace(spec: SpaceSpec): number {
    if (spec === null || typeof spec !== "object") throw new MmkitError(ErrorCode.InvalidArgument, `space must be an object, got ${describeValue(spec)}`);
    const granule = requirePowerOfTwo(spec.granule, "granule", 1, 2 ** 52);
    const base = requireInteger(spec.base, "base", 0, MAX_SPACE_END);
    const size = requireInteger(spec.size, "size", 1, MAX_SPACE_END);
    if (base % granule !== 0) throw new MmkitError(ErrorCode.NotAligned, `base ${base} is not a multiple of the granule ${granule}`);
    if (size % granule !== 0) throw new MmkitError(ErrorCode.NotAligned, `size ${size} is not a multiple of the granule ${granule}`);
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
    const s = this.#spaces.add(base, size, granuleLog2, maxOrder);
    const h = s * HEADER_STRIDE;
    const hdr = this.#spaces.headers;
    const rec = this.#blocks.records;
    const end = base + size;
    for (let at = base; at < end; ) {
      const e = Math.min(alignmentLog2(at), floorLog2(end - at));
      const r = this.#blocks.take();
      const o = r * RECORD_STRIDE;
      rec[o + R_ADDR] = at;
      rec[o + R_LOG2] = e;
      rec[o + R_SPACE] = s;
      rec[o + R_DESC] = NO_DESCRIPTOR;
      rec[o + R_DESC_BYTES] = 0;
      this.#blocks.insert(at, r);
      pushFree(hdr, h, rec, r, e - granuleLog2);
      at += POW2[e]!;
    }
    return s;
  }

  /**
   * Gives back a space that is entirely free: its blocks and its id are released (the id may be
   * reused). Throws `ERR_INVALID_STATE` (changing nothing) while anything is allocated from it.
   * Cost: O(free blocks of the space).
   */
  removeSpace(space: number): void {
    const h = this.#spaces.header(space);
    const hdr = this.#spaces.headers;
    if (hdr[h + H_ALLOCATED] !== 0) {
      throw new MmkitError(ErrorCode.InvalidState, `space ${space} still has ${hdr[h + H_ALLOCATED]} bytes allocated`);
    }
    const rec = this.#blocks.records;
    for (let k = 0; k < MAX_ORDERS; k++) {
      let r = hdr[h + H_HEADS + k]!;
      while (r >= 0) {
        const next = rec[r * RECORD_STRIDE + R_NEXT]!;
        this.#blocks.remove(rec[r * RECORD_STRIDE + R_ADDR]!);
        this.#blocks.give(r);
        r = next;
      }
    }
    this.#spaces.remove(space);
  }

  /**
   * Allocates `size` bytes (rounded up to a power of two, at least the granule) aligned to that
   * power of two, or, with `options.alignment` below it, a contiguous range aligned only to the
   * alignment (see {@link AllocOptions.alignment}). Returns the address, or -1 when no free space
   * fits. Throws (changing nothing) for a bad space, a size that is not a positive integer or that
   * exceeds the space, a bad alignment or descriptor.
   * Cost: as {@link allocOrder}; a contiguous allocation scans free blocks (see `contiguous.ts`).
   */
  alloc(space: number, size: number, options?: AllocOptions): number {
    const h = this.#spaces.header(space);
    if (typeof size !== "number" || !Number.isSafeInteger(size) || size < 1) {
      throw new MmkitError(ErrorCode.InvalidArgument, `size must be a positive integer, got ${describeValue(size)}`);
    }
    const shape = this.#spaces.headers[h + H_SHAPE]!;
    const granuleLog2 = shape >> 6;
    const spaceSize = this.#spaces.headers[h + H_SIZE]!;
    const sizeLog2 = Math.max(ceilLog2(size), granuleLog2);
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
        if (total > spaceSize) throw new MmkitError(ErrorCode.OutOfRange, `size ${size} exceeds space ${space} (${spaceSize} bytes)`);
        return this.#allocContiguous(space, h, total, alignLog2 - granuleLog2, options!);
      }
    }
    if (POW2[sizeLog2]! > spaceSize) throw new MmkitError(ErrorCode.OutOfRange, `size ${size} (a ${POW2[sizeLog2]}-byte block) exceeds space ${space} (${spaceSize} bytes)`);
    return this.#allocOrder(space, h, sizeLog2 - granuleLog2, options);
  }

  /**
   * Allocates a block of `granule * 2^order` bytes aligned to its size; returns its address or -1.
   * Throws (changing nothing) for a bad space, an order that is not an integer in
   * `[0, log2(space size / granule)]`, or a bad descriptor.
   * Cost: O(1) to find the block (find-first-set on the bitmap of non-empty orders), plus one record
   * and one hash insert per split; 2 cache lines when a block of the exact order is free.
   */
  allocOrder(space: number, order: number, options?: AllocOptions): number {
    const h = this.#spaces.header(space);
    const maxOrder = this.#spaces.headers[h + H_SHAPE]! & 63;
    requireInteger(order, "order", 0, maxOrder);
    return this.#allocOrder(space, h, order, options);
  }

  #allocOrder(s: number, h: number, order: number, options: AllocOptions | undefined): number {
    let descriptor = NO_DESCRIPTOR;
    let descriptorBytes = 0;
    if (options !== undefined) {
      if (options.alignment !== undefined) requirePowerOfTwo(options.alignment, "alignment", 1, 2 ** 52);
      if (options.descriptor !== undefined) descriptor = requireInteger(options.descriptor, "descriptor");
      if (options.descriptorBytes !== undefined) descriptorBytes = requireInteger(options.descriptorBytes, "descriptorBytes");
    }
    const hdr = this.#spaces.headers;
    const j = firstOrderAtLeast(hdr, h, order);
    if (j < 0) return -1;
    const blocks = this.#blocks;
    if (j > order) blocks.reserve(j - order);
    const rec = blocks.records;
    const r = hdr[h + H_HEADS + j]!;
    const o = r * RECORD_STRIDE;
    const address = rec[o + R_ADDR]!;
    const granuleLog2 = hdr[h + H_SHAPE]! >> 6;
    const log2 = granuleLog2 + order;
    if (descriptor !== NO_DESCRIPTOR) this.descriptorIndex.store(address, address + POW2[log2]! - 1, descriptor);
    unlinkFree(hdr, h, rec, r, j);
    for (let i = j - 1; i >= order; i--) {
      const u = blocks.take();
      const uo = u * RECORD_STRIDE;
      const upper = address + POW2[granuleLog2 + i]!;
      rec[uo + R_ADDR] = upper;
      rec[uo + R_LOG2] = granuleLog2 + i;
      rec[uo + R_SPACE] = s;
      rec[uo + R_DESC] = NO_DESCRIPTOR;
      rec[uo + R_DESC_BYTES] = 0;
      pushFree(hdr, h, rec, u, i);
      blocks.insert(upper, u);
    }
    rec[o + R_LOG2] = log2;
    rec[o + R_STATE] = ALLOCATED;
    rec[o + R_NEXT] = -1;
    rec[o + R_PREV] = -1;
    rec[o + R_DESC] = descriptor;
    rec[o + R_DESC_BYTES] = descriptorBytes;
    hdr[h + H_ALLOCATED] += POW2[log2]!;
    if (descriptorBytes !== 0) hdr[h + H_DESC_BYTES] += descriptorBytes;
    return address;
  }

  #allocContiguous(s: number, h: number, size: number, alignOrder: number, options: AllocOptions): number {
    const descriptor = options.descriptor === undefined ? NO_DESCRIPTOR : requireInteger(options.descriptor, "descriptor");
    const descriptorBytes = options.descriptorBytes === undefined ? 0 : requireInteger(options.descriptorBytes, "descriptorBytes");
    const hdr = this.#spaces.headers;
    const shape = hdr[h + H_SHAPE]!;
    const granuleLog2 = shape >> 6;
    const start = findWindow(this.#blocks, hdr, h, s, granuleLog2, shape & 63, size, alignOrder);
    if (start < 0) return -1;
    this.#blocks.reserve(MAX_ORDERS);
    if (descriptor !== NO_DESCRIPTOR) this.descriptorIndex.store(start, start + size - 1, descriptor);
    carveWindow(this.#blocks, hdr, h, s, granuleLog2, start, size, descriptor, descriptorBytes);
    hdr[h + H_ALLOCATED] += size;
    if (descriptorBytes !== 0) hdr[h + H_DESC_BYTES] += descriptorBytes;
    return start;
  }

  /**
   * Frees the allocation starting at `address` (a block, or a contiguous range as one) and returns
   * its descriptor, or -1 when it had none. With `expectedSize`, throws `ERR_WRONG_SIZE` unless the
   * allocation is exactly that many bytes. Never allocates metadata.
   * Throws (changing nothing) `ERR_DOUBLE_FREE` for free space, `ERR_NOT_ALLOCATED` for an address
   * never handed out or inside an allocation, `ERR_INVALID_ARGUMENT` for a non-integer.
   * Cost: one hash probe, then per block: one buddy probe per level, merging while the buddy is
   * free; about 6 cache lines without a merge.
   */
  free(address: number, expectedSize?: number): number {
    const blocks = this.#blocks;
    const r = blocks.find(address);
    if (r < 0) this.#throwNotFreeable(address);
    const rec = blocks.records;
    const o = r * RECORD_STRIDE;
    if (rec[o + R_STATE] !== ALLOCATED) this.#throwNotFreeable(address);
    if (expectedSize !== undefined) {
      const size = this.#allocationSize(r);
      if (expectedSize !== size) {
        throw new MmkitError(ErrorCode.WrongSize, `the allocation at ${address} is ${size} bytes, not ${describeValue(expectedSize)}`);
      }
    }
    const descriptor = rec[o + R_DESC]!;
    const descriptorBytes = rec[o + R_DESC_BYTES]!;
    if (descriptor !== NO_DESCRIPTOR) this.descriptorIndex.erase(address);
    const s = rec[o + R_SPACE]!;
    const h = s * HEADER_STRIDE;
    let total = 0;
    let p = r;
    do {
      const po = p * RECORD_STRIDE;
      const next = rec[po + R_NEXT]!;
      total += POW2[rec[po + R_LOG2]!]!;
      this.#release(p, s, h);
      p = next;
    } while (p >= 0);
    const hdr = this.#spaces.headers;
    hdr[h + H_ALLOCATED] -= total;
    if (descriptorBytes !== 0) hdr[h + H_DESC_BYTES] -= descriptorBytes;
    return descriptor;
  }

  /** Puts block `r` back, merging it with free buddies as far as they go. */
  #release(r: number, s: number, h: number): void {
    const blocks = this.#blocks;
    const rec = blocks.records;
    const hdr = this.#spaces.headers;
    const shape = hdr[h + H_SHAPE]!;
    const granuleLog2 = shape >> 6;
    const maxOrder = shape & 63;
    let o = r * RECORD_STRIDE;
    let address = rec[o + R_ADDR]!;
    let e = rec[o + R_LOG2]!;
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
      unlinkFree(hdr, h, rec, b, order);
      if (buddyAddress < address) {
        blocks.remove(address);
        blocks.give(r);
        r = b;
        o = bo;
        address = buddyAddress;
      } else {
        blocks.remove(buddyAddress);
        blocks.give(b);
      }
      e++;
      order++;
    }
    rec[o + R_LOG2] = e;
    rec[o + R_DESC] = NO_DESCRIPTOR;
    rec[o + R_DESC_BYTES] = 0;
    pushFree(hdr, h, rec, r, order);
  }

  /** Bytes of the allocation starting at `address`; throws as {@link free} would for anything else. O(pieces). */
  sizeOf(address: number): number {
    const r = this.#blocks.find(address);
    if (r < 0 || this.#blocks.records[r * RECORD_STRIDE + R_STATE] !== ALLOCATED) this.#throwNotFreeable(address);
    return this.#allocationSize(r);
  }

  #allocationSize(r: number): number {
    const rec = this.#blocks.records;
    let total = 0;
    for (let p = r; p >= 0; p = rec[p * RECORD_STRIDE + R_NEXT]!) total += POW2[rec[p * RECORD_STRIDE + R_LOG2]!]!;
    return total;
  }

  /** The descriptor of the allocation containing `address` (any byte of it), or -1: one index load. */
  descriptorOf(address: number): number {
    const value = this.descriptorIndex.load(address);
    return value === undefined ? NO_DESCRIPTOR : value;
  }

  /**
   * Start address of the allocation containing `address`, or -1 when it is free or in no space.
   * Cost: one hash probe per order at most (the aligned-down candidates), plus a scan of the spaces.
   */
  allocationAt(address: number): number {
    if (typeof address !== "number" || !Number.isSafeInteger(address) || address < 0) return -1;
    const r = this.#blockContaining(address);
    if (r < 0) return -1;
    const rec = this.#blocks.records;
    const state = rec[r * RECORD_STRIDE + R_STATE];
    if (state === ALLOCATED) return rec[r * RECORD_STRIDE + R_ADDR]!;
    if (state === PIECE) return rec[rec[r * RECORD_STRIDE + R_PREV]! * RECORD_STRIDE + R_ADDR]!;
    return -1;
  }

  /** Record of the block containing `address`, or -1 when no space contains it. */
  #blockContaining(address: number): number {
    const s = this.#spaces.containing(address);
    if (s < 0) return -1;
    const hdr = this.#spaces.headers;
    const h = s * HEADER_STRIDE;
    const granuleLog2 = hdr[h + H_SHAPE]! >> 6;
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
    if (typeof address !== "number" || !Number.isSafeInteger(address) || address < 0) {
      throw new MmkitError(ErrorCode.InvalidArgument, `address must be a non-negative integer, got ${describeValue(address)}`);
    }
    const r = this.#blockContaining(address);
    if (r < 0) throw new MmkitError(ErrorCode.NotAllocated, `address ${address} is in no space`);
    const rec = this.#blocks.records;
    const o = r * RECORD_STRIDE;
    const start = rec[o + R_ADDR]!;
    const state = rec[o + R_STATE];
    if (state === FREE) {
      throw new MmkitError(ErrorCode.DoubleFree, start === address ? `address ${address} is free already` : `address ${address} lies in the free block at ${start}`);
    }
    const head = state === PIECE ? rec[rec[o + R_PREV]! * RECORD_STRIDE + R_ADDR]! : start;
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
    const granuleLog2 = hdr[h + H_SHAPE]! >> 6;
    requirePowerOfTwo(pageSize, "pageSize", POW2[granuleLog2]!, 2 ** 52);
    if (hdr[h + H_BASE]! % pageSize !== 0) throw new MmkitError(ErrorCode.NotAligned, `space ${space}'s base ${hdr[h + H_BASE]} is not a multiple of the page size ${pageSize}`);
    const shift = floorLog2(pageSize) - granuleLog2;
    const maxOrder = hdr[h + H_SHAPE]! & 63;
    if (shift > maxOrder) throw new MmkitError(ErrorCode.OutOfRange, `pageSize ${pageSize} exceeds space ${space}'s largest block`);
    return new PageFace(this, space, pageSize, shift, maxOrder - shift);
  }

  /** Figures for one space (see {@link SpaceStats}). Cost: O(blocks) (a scan of the records). */
  stats(space: number): SpaceStats {
    const h = this.#spaces.header(space);
    return spaceStats(this.#blocks, this.#spaces.headers, h, space);
  }

  /**
   * Validates every invariant (see `check.ts`) and throws `ERR_INVARIANT` on the first broken one.
   * Cost: O(blocks log blocks + allocations x index load).
   */
  check(): void {
    checkPotad(this.#blocks, this.#spaces, this.descriptorIndex);
  }
}
