import { ErrorCode, MmkitError, describeValue } from "@mmkit/physmem";

/** Pages the packed buffer starts with (it doubles when full). */
const INITIAL_PAGES = 16;
/** Pfns per chunk of the pfn -> slot table (log2): a chunk is made when a slab page first lands in its 1024 pfns. */
const CHUNK_SHIFT = 10;
const CHUNK_MASK = (1 << CHUNK_SHIFT) - 1;
/** The chunk every stretch without slab pages points at (all zeros: nothing backed), never written. */
const NO_PAGES = new Int32Array(1 << CHUNK_SHIFT);

/**
 * Bytes for the pages of slabs only, on a machine without backing bytes, so the slab allocator can
 * keep its free pointers inside free descriptors (as SLUB does) while the rest of RAM stays
 * unbacked. The slab pages are scattered over the machine, so their bytes are packed into one
 * buffer: each slab's 2^order pages get 2^order contiguous page slots when the slab takes them
 * (zeroed; a slot run given back is reused by the next slab of that order), and a two-level table
 * from pfn to slot (chunks of 1024 pfns, made only where slab pages land: a page table, as the
 * machine's own address translation would be) says where a page's bytes are. The `SlabMemory` shape of `@mmkit/slab` with its fast path:
 * `whole()` is the one buffer and `offsetOf(address)` a byte's place in it, so the slab allocator
 * reads and writes free pointers through one view, with no view made per access.
 *
 * Cost: `offsetOf` is one multiply and two array reads, no allocation; `bytes` adds one subarray;
 * `add` / `remove` touch one table entry per page (plus a copy of the buffer when it doubles, and a
 * 4 KiB chunk the first time a slab page lands in a new 1024-pfn stretch).
 *
 * @example
 * ```ts
 * const bytes = new SlabPageBytes(4096);
 * bytes.add(10, 1);                // pfns 10 and 11: 8 KiB, in slots 0 and 1
 * bytes.offsetOf(11 * 4096 + 64);  // 4160: their bytes are contiguous in whole()
 * bytes.bytes(10 * 4096 + 64, 8);  // a view of 8 of them
 * bytes.remove(10, 1);
 * ```
 */
export class SlabPageBytes {
  readonly pageSize: number;
  /** 1 / pageSize: exact for a power of two, so a multiply finds the pfn (no division per access). */
  readonly #perPage: number;
  /**
   * Byte offset + 1 in the buffer of each backed page (0: not backed), in chunks of 1024 pfns; a
   * dense array (stretches without slab pages share {@link NO_PAGES}), so a lookup is two loads.
   */
  readonly #chunks: Int32Array[] = [];
  /** Each backed slab's first pfn -> its order (what `remove` must be given). */
  readonly #orderOf = new Map<number, number>();
  /** Slot runs given back, by order: byte offsets of their first page. */
  readonly #freeRuns: number[][] = [];
  #buffer: Uint8Array;
  /** Bytes of the buffer handed out at least once (runs past it were never used). */
  #used = 0;
  /** Bytes held now by live slab pages. */
  heldBytes = 0;

  constructor(pageSize: number) {
    if (!(Number.isInteger(Math.log2(pageSize)) && pageSize >= 16)) throw new MmkitError(ErrorCode.InvalidArgument, `pageSize must be a power of two of at least 16, got ${describeValue(pageSize)}`);
    this.pageSize = pageSize;
    this.#perPage = 1 / pageSize;
    this.#buffer = new Uint8Array(pageSize * INITIAL_PAGES);
  }

  /** Bytes of the packed buffer (held, given back for reuse, and never used yet). */
  get capacityBytes(): number {
    return this.#buffer.length;
  }

  /** The packed buffer of every slab page: the same object until it doubles. */
  whole(): Uint8Array {
    return this.#buffer;
  }

  /** Backs the 2^order pages at `pfn` with zeroed bytes, contiguous in {@link whole}. Throws `ERR_INVALID_ARGUMENT` (changing nothing) for a page backed already. */
  add(pfn: number, order: number): void {
    const pages = 2 ** order;
    for (let i = 0; i < pages; i++) {
      if (this.#slotOf(pfn + i) >= 0) throw new MmkitError(ErrorCode.InvalidArgument, `pfn ${describeValue(pfn + i)} is backed already`);
    }
    const length = this.pageSize * pages;
    let offset = this.#freeRuns[order]?.pop();
    if (offset === undefined) {
      offset = this.#used;
      if (offset + length > this.#buffer.length) this.#grow(offset + length);
      this.#used += length;
    } else {
      this.#buffer.fill(0, offset, offset + length);
    }
    for (let i = 0; i < pages; i++) this.#setSlot(pfn + i, offset + i * this.pageSize + 1);
    this.#orderOf.set(pfn, order);
    this.heldBytes += length;
  }

  /** Drops the bytes of the 2^order pages at `pfn` (their slots go to the next slab of that order). Throws `ERR_NOT_ALLOCATED` (changing nothing) unless `add(pfn, order)` backed them. */
  remove(pfn: number, order: number): void {
    const pages = 2 ** order;
    if (this.#orderOf.get(pfn) !== order) {
      throw new MmkitError(ErrorCode.NotAllocated, `pages ${describeValue(pfn)}..+${pages} are not one slab's backed pages`);
    }
    const offset = this.#slotOf(pfn);
    for (let i = 0; i < pages; i++) this.#setSlot(pfn + i, 0);
    this.#orderOf.delete(pfn);
    (this.#freeRuns[order] ??= []).push(offset);
    this.heldBytes -= this.pageSize * pages;
  }

  /** Where the byte at `address` is in {@link whole}; `ERR_NOT_ALLOCATED` when it is in no slab's pages. */
  offsetOf(address: number): number {
    const pfn = Math.floor(address * this.#perPage);
    const chunks = this.#chunks;
    const c = pfn >>> CHUNK_SHIFT;
    const slot = c < chunks.length && address >= 0 ? chunks[c]![pfn & CHUNK_MASK]! : 0;
    if (slot === 0) throw new MmkitError(ErrorCode.NotAllocated, `byte ${describeValue(address)} is not in a slab's pages`);
    return slot - 1 + (address - pfn * this.pageSize);
  }

  /** A view of `length` bytes at byte `address` (inside one slab); `ERR_NOT_ALLOCATED` when their first or last byte is in no slab's pages, or the two are not `length - 1` bytes apart in the buffer. */
  bytes(address: number, length: number): Uint8Array {
    const first = this.offsetOf(address);
    if (length > 0 && this.#contiguousEnd(address, length) !== first + length - 1) {
      throw new MmkitError(ErrorCode.NotAllocated, `bytes ${describeValue(address)}..+${length} are not contiguous in slab pages`);
    }
    return this.#buffer.subarray(first, first + length);
  }

  /** Offset of the last of `length` bytes at `address`, or -1 when that byte is not backed. */
  #contiguousEnd(address: number, length: number): number {
    const slot = this.#slotOf(Math.floor((address + length - 1) / this.pageSize));
    return slot < 0 ? -1 : slot + ((address + length - 1) % this.pageSize);
  }

  /** Byte offset of page `pfn` in the buffer, or -1 when it is not backed. */
  #slotOf(pfn: number): number {
    const c = pfn >>> CHUNK_SHIFT;
    return pfn >= 0 && c < this.#chunks.length ? this.#chunks[c]![pfn & CHUNK_MASK]! - 1 : -1;
  }

  /** Sets page `pfn`'s entry (offset + 1, or 0 for none), making its chunk on first use. */
  #setSlot(pfn: number, entry: number): void {
    const c = pfn >>> CHUNK_SHIFT;
    while (this.#chunks.length <= c) this.#chunks.push(NO_PAGES);
    if (this.#chunks[c] === NO_PAGES) {
      if (entry === 0) return;
      this.#chunks[c] = new Int32Array(1 << CHUNK_SHIFT);
    }
    this.#chunks[c]![pfn & CHUNK_MASK] = entry;
  }

  /** Doubles the buffer (at least to `bytes`), copying what is in it. */
  #grow(bytes: number): void {
    let capacity = this.#buffer.length * 2;
    while (capacity < bytes) capacity *= 2;
    const next = new Uint8Array(capacity);
    next.set(this.#buffer);
    this.#buffer = next;
  }
}
