import { AdoptedMemory, ErrorCode, MetadataArena, MmkitError, describeValue, requireInteger, requirePowerOfTwo, type AdoptableBuffer } from "@mmkit/physmem";
import { AddressMap, Kmalloc, SlabAllocator } from "@mmkit/slab";
import { RangeFit } from "./range-fit.js";
import { RangePages } from "./range-pages.js";

/**
 * Options for {@link Heap}.
 *
 * @example
 * ```ts
 * const heap = new Heap(wasmMemory, { classes: "kmalloc", pageSize: 4096, debug: "ZP" });
 * ```
 */
export interface HeapOptions {
  /** Size classes: four per power of two (`"fine"`, default: at most 25 % rounding) or the kernel's (`"kmalloc"`). */
  classes?: "fine" | "kmalloc";
  /** Page size the slabs and large allocations are made of (a power of two, 256 to 64 KiB; default 2048). */
  pageSize?: number;
  /** Grow a growable buffer (a `WebAssembly.Memory`, a resizable or growable buffer) when full (default true). */
  grow?: boolean;
  /** Largest slab order (default 4: slabs up to 16 pages, 32 KiB). */
  maxOrder?: number;
  /** Empty slabs each size class keeps before giving one back (default 1). */
  minPartial?: number;
  /** `slub_debug` letters for every size class (`"FZP"`; default none). */
  debug?: string;
  /** Largest request served by a size class; larger ones are ranges of 16-byte granules (default 8192). */
  maxClassSize?: number;
}

/**
 * What {@link Heap.stats} returns.
 *
 * @example
 * ```ts
 * const { peakReservedBytes, peakRequestedBytes } = heap.stats();
 * console.log(peakReservedBytes / peakRequestedBytes); // about 1.16 on log-uniform 16 B..16 KiB
 * ```
 */
export interface HeapStats {
  /** Live allocations. */
  allocations: number;
  /** Bytes the callers of the live allocations asked for. */
  requestedBytes: number;
  /** Bytes the heap holds from the buffer now (slab pages with their free slots, large ranges rounded to 16 bytes). */
  reservedBytes: number;
  /** The most bytes the heap held from the buffer at once. */
  peakReservedBytes: number;
  /** The most bytes live allocations asked for at once. */
  peakRequestedBytes: number;
  /** Bytes of the buffer the heap manages. */
  bufferBytes: number;
  /** Bytes of metadata kept outside the buffer (typed arrays). */
  metadataBytes: number;
  /** Bytes of slab descriptors (64 per slab) inside the buffer. */
  descriptorBytes: number;
}

/** Bytes large allocations are rounded to (and the range allocator's unit): a malloc's alignment promise, doubled. */
const GRANULE = 16;

type ViewCtor<T> = { new (buffer: ArrayBufferLike, byteOffset: number, length: number): T; BYTES_PER_ELEMENT: number };

/**
 * A heap over a buffer you already have, in one line: `new Heap(buffer)` with `malloc`, `calloc`,
 * `realloc`, `free`, `sizeOf` and typed views. Small requests (up to `maxClassSize`) come from
 * size-class slabs of `@mmkit/slab`; larger ones are ranges of 16-byte granules from a
 * two-level segregated-fit allocator ({@link RangeFit}) over the whole buffer, which also gives
 * the slabs their pages, so the bytes of an emptied slab merge with their free neighbours and
 * serve a large request of any size. The buffer is adopted by physmem's `AdoptedMemory`, so a
 * `WebAssembly.Memory` or a resizable buffer grows when the heap is full.
 *
 * Addresses are byte offsets into the buffer: **0 is a valid address**, and **-1 means "no memory"**
 * (as `malloc`'s NULL). Misuse (freeing an address never handed out, a double free, a size that is
 * not a positive integer, an alignment that is not a power of two) throws `MmkitError` with a `code`
 * and changes nothing.
 *
 * Cost: `malloc` / `free` are O(1) for slab sizes (a size-class lookup, one free-pointer read or
 * write in the buffer, two hash probes); large ones cost a `RangeFit` allocation (O(1): two
 * bitmap scans) plus two hash probes.
 *
 * @example
 * ```ts
 * const heap = new Heap(new ArrayBuffer(1 << 20));
 * const p = heap.malloc(100);
 * heap.f32(p, 25).fill(1.5);
 * heap.free(p);
 * ```
 */
export class Heap {
  /** The adopted buffer (follow `memory.buffer` after a grow). */
  readonly memory: AdoptedMemory;
  /** Bytes per page of the heap's page allocator (option `pageSize`). */
  readonly pageSize: number;
  /** Where the heap's metadata lives, outside the buffer (its bytes are counted). */
  readonly arena: MetadataArena;
  /** The range allocator over the whole buffer: slabs' pages and large allocations. */
  readonly ranges: RangeFit;
  /** The slab allocator the small sizes come from. */
  readonly slab: SlabAllocator;
  /** The size classes over `slab`, with large requests sent to `ranges`. */
  readonly kmalloc: Kmalloc;
  readonly #pages: RangePages;
  readonly #sizes: AddressMap;
  readonly #autoGrow: boolean;
  #managedEnd: number;
  #requested = 0;
  #peakRequested = 0;

  constructor(buffer: AdoptableBuffer, options: HeapOptions = {}) {
    if (options === null || typeof options !== "object" || Array.isArray(options)) {
      throw new MmkitError(ErrorCode.InvalidArgument, `heap options must be an object, got ${describeValue(options)}`);
    }
    this.memory = new AdoptedMemory(buffer);
    this.pageSize = requirePowerOfTwo(options.pageSize === undefined ? 2048 : options.pageSize, "pageSize", 256, 65536);
    const grow = options.grow === undefined ? true : options.grow;
    if (typeof grow !== "boolean") throw new MmkitError(ErrorCode.InvalidArgument, `grow must be a boolean, got ${describeValue(grow)}`);
    this.#autoGrow = grow;
    const classes = options.classes === undefined ? "fine" : options.classes;
    if (classes !== "fine" && classes !== "kmalloc") throw new MmkitError(ErrorCode.InvalidArgument, `classes must be "fine" or "kmalloc", got ${describeValue(classes)}`);
    const minPartial = requireInteger(options.minPartial === undefined ? 1 : options.minPartial, "minPartial", 0, 1000);
    const maxOrder = requireInteger(options.maxOrder === undefined ? 4 : options.maxOrder, "maxOrder", 0, 10);
    const size = Math.floor(this.memory.size / this.pageSize) * this.pageSize;
    if (size < this.pageSize * 2 ** maxOrder) {
      throw new MmkitError(ErrorCode.OutOfRange, `the buffer holds ${this.memory.size} bytes; a heap needs at least ${this.pageSize * 2 ** maxOrder} (one slab of order ${maxOrder})`);
    }
    this.arena = new MetadataArena();
    this.ranges = new RangeFit(this.arena, size, GRANULE);
    this.#pages = new RangePages(this.ranges, this.pageSize);
    this.#managedEnd = size;
    this.slab = new SlabAllocator({ pages: this.#pages, memory: this.memory, pageSize: this.pageSize, maxOrder, arena: this.arena, debug: options.debug === undefined ? "" : options.debug });
    this.kmalloc = new Kmalloc(this.slab, {
      classes,
      large: this.#pages,
      largeUnit: GRANULE,
      cacheOptions: { minPartial, cpuPartial: 0 },
      maxCacheSize: Math.min(requireInteger(options.maxClassSize === undefined ? 1024 : options.maxClassSize, "maxClassSize", 8), this.pageSize * 2 ** maxOrder),
    });
    this.#sizes = new AddressMap(this.arena, "heap sizes");
  }

  /**
   * `size` bytes (a positive integer) aligned to `align` (a power of two, default 8): the
   * address, or -1 when the buffer is full (after growing it, when it can grow).
   */
  malloc(size: number, align = 8): number {
    let p = this.kmalloc.alloc(size, align);
    // Out of pages: give back every empty slab first (what reclaim does), then grow.
    if (p < 0 && this.slab.shrink() > 0) p = this.kmalloc.alloc(size, align);
    if (p < 0 && this.#autoGrow && this.memory.growable) {
      // Grow by at least the request and at least half again, so growing stays amortised O(1).
      if (this.grow(Math.max(size + align + this.pageSize * 2 ** this.slab.maxOrder, Math.floor(this.memory.size / 2))) > 0) p = this.kmalloc.alloc(size, align);
    }
    if (p < 0) return -1;
    this.#sizes.set(p, size);
    this.#requested += size;
    if (this.#requested > this.#peakRequested) this.#peakRequested = this.#requested;
    return p;
  }

  /** `count * size` bytes, all zero: the address, or -1. */
  calloc(count: number, size: number): number {
    requireInteger(count, "count", 1);
    requireInteger(size, "size", 1);
    const bytes = count * size;
    if (!Number.isSafeInteger(bytes)) throw new MmkitError(ErrorCode.OutOfRange, `count ${count} x size ${size} is not a safe integer`);
    const p = this.malloc(bytes);
    if (p >= 0) this.memory.bytes(p, bytes).fill(0);
    return p;
  }

  /**
   * Resizes the allocation at `address` to `size` bytes, keeping its first `min(old, size)` bytes:
   * the (possibly new) address, or -1 when there is no room, with the old allocation untouched.
   * In place when the new size fits the bytes already reserved.
   */
  realloc(address: number, size: number): number {
    const old = this.sizeOf(address);
    requireInteger(size, "size", 1);
    const usable = this.kmalloc.usableSize(address);
    if (size <= usable && size * 2 > usable) {
      this.#sizes.set(address, size);
      this.#requested += size - old;
      if (this.#requested > this.#peakRequested) this.#peakRequested = this.#requested;
      return address;
    }
    const p = this.malloc(size);
    if (p < 0) return -1;
    const n = Math.min(old, size);
    const src = this.memory.bytes(address, n);
    this.memory.bytes(p, n).set(src);
    this.free(address);
    return p;
  }

  /**
   * Frees the allocation at `address`. Throws `ERR_NOT_ALLOCATED` for an address never handed
   * out (or inside an allocation, or freed large allocation), `ERR_DOUBLE_FREE` for a small
   * allocation already freed; nothing changes when it throws.
   */
  free(address: number): void {
    if (typeof address !== "number" || !Number.isSafeInteger(address) || address < 0) {
      throw new MmkitError(ErrorCode.InvalidArgument, `address must be a non-negative integer, got ${describeValue(address)}`);
    }
    const size = this.#sizes.get(address);
    if (size < 0) {
      // Never handed out, or freed: kmalloc tells which (and throws); it cannot succeed here.
      this.kmalloc.free(address);
      throw new MmkitError(ErrorCode.Invariant, `address ${address} was allocated but the heap had no size for it`);
    }
    this.kmalloc.free(address);
    this.#sizes.delete(address);
    this.#requested -= size;
  }

  /** The size asked for at `address`; `ERR_NOT_ALLOCATED` unless it is a live allocation. */
  sizeOf(address: number): number {
    requireInteger(address, "address");
    const size = this.#sizes.get(address);
    if (size < 0) throw new MmkitError(ErrorCode.NotAllocated, `address ${address} is not a live allocation of this heap`);
    return size;
  }

  /** Bytes usable at `address`: its size class, or its whole pages. */
  usableSize(address: number): number {
    this.sizeOf(address);
    return this.kmalloc.usableSize(address);
  }

  #view<T>(ctor: ViewCtor<T>, address: number, count: number | undefined): T {
    const size = this.sizeOf(address);
    const each = ctor.BYTES_PER_ELEMENT;
    const n = count === undefined ? Math.floor(size / each) : count;
    requireInteger(n, "count", 0, Math.floor(size / each));
    if (address % each !== 0) throw new MmkitError(ErrorCode.NotAligned, `address ${address} is not aligned to ${each} bytes`);
    const bytes = this.memory.bytes(address, n * each);
    return new ctor(bytes.buffer, bytes.byteOffset, n);
  }

  /**
   * Typed views of an allocation over the buffer as it is now (after a grow, take new ones):
   * `count` elements (default: as many as the allocation's size holds). Throws
   * `ERR_NOT_ALLOCATED` for an address that is not a live allocation, `ERR_OUT_OF_RANGE` for a
   * count past its end, `ERR_NOT_ALIGNED` for an address not aligned to the element size.
   */
  u8(address: number, count?: number): Uint8Array {
    return this.#view(Uint8Array, address, count);
  }
  /** An `Int8Array` view of the allocation at `address` (see `u8`). */
  i8(address: number, count?: number): Int8Array {
    return this.#view(Int8Array, address, count);
  }
  /** A `Uint16Array` view of the allocation at `address` (see `u8`). */
  u16(address: number, count?: number): Uint16Array {
    return this.#view(Uint16Array, address, count);
  }
  /** An `Int16Array` view of the allocation at `address` (see `u8`). */
  i16(address: number, count?: number): Int16Array {
    return this.#view(Int16Array, address, count);
  }
  /** A `Uint32Array` view of the allocation at `address` (see `u8`). */
  u32(address: number, count?: number): Uint32Array {
    return this.#view(Uint32Array, address, count);
  }
  /** An `Int32Array` view of the allocation at `address` (see `u8`). */
  i32(address: number, count?: number): Int32Array {
    return this.#view(Int32Array, address, count);
  }
  /** A `Float32Array` view of the allocation at `address` (see `u8`). */
  f32(address: number, count?: number): Float32Array {
    return this.#view(Float32Array, address, count);
  }
  /** A `Float64Array` view of the allocation at `address` (see `u8`). */
  f64(address: number, count?: number): Float64Array {
    return this.#view(Float64Array, address, count);
  }

  /**
   * Grows the buffer by at least `bytes` and manages the new bytes; returns the bytes added, or -1
   * when the buffer cannot grow. The range allocator grows at its end, so the new bytes merge
   * with a free block before the old end and an allocation may span it.
   */
  grow(bytes: number): number {
    requireInteger(bytes, "bytes", 1);
    if (this.memory.grow(bytes) < 0) return -1;
    const end = Math.floor(this.memory.size / this.pageSize) * this.pageSize;
    const added = end - this.#managedEnd;
    if (added <= 0) return 0;
    this.ranges.grow(end);
    this.#managedEnd = end;
    return added;
  }

  /** Sizes: what callers asked for, what the heap holds from the buffer, metadata inside and out. */
  stats(): HeapStats {
    return {
      allocations: this.#sizes.size,
      requestedBytes: this.#requested,
      reservedBytes: this.ranges.usedBytes,
      peakReservedBytes: this.ranges.peakUsedBytes,
      peakRequestedBytes: this.#peakRequested,
      bufferBytes: this.#managedEnd,
      metadataBytes: this.arena.bytes,
      descriptorBytes: this.slab.stats().descriptorBytes,
    };
  }

  /** Validates every invariant of the heap, its slabs and its range allocator; throws `ERR_INVARIANT`. */
  check(): void {
    this.slab.check();
    this.ranges.check();
    let requested = 0;
    let bad = -1;
    this.#sizes.forEach((address, size) => {
      requested += size;
      if (bad < 0 && this.kmalloc.usableSize(address) < size) bad = address;
    });
    if (bad >= 0) throw new MmkitError(ErrorCode.Invariant, `allocation ${bad} is larger than the bytes behind it`);
    if (requested !== this.#requested) throw new MmkitError(ErrorCode.Invariant, `sizes sum to ${requested}, the heap counts ${this.#requested}`);
  }
}
