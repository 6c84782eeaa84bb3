import { MemdescType, encodeMemdesc } from "@mmkit/memdesc-lookup";
import type { ArrayFactory } from "@mmkit/physmem";
import { SlabAllocator, type SlabCache, type SlabMemory } from "@mmkit/slab";
import type { MemdescSource, SystemPages } from "./page-face.js";
import { SlabPageBytes } from "./slab-page-bytes.js";

/** Bytes of a folio's memdesc (flags, LRU links, mapping, index, private, counts, memcg): what `folio_cache` hands out. */
export const FOLIO_MEMDESC_BYTES = 80;
/** Bytes of a page table's and a network pool's memdesc: as large as a slab descriptor, so their slabs host their own. */
export const SMALL_MEMDESC_BYTES = 64;

/** What {@link MemdescSlabs.figures} returns. */
export interface MemdescSlabFigures {
  /** Bytes of RAM in slabs that hold memdescs (folio, ptdesc, netpool caches) and slab descriptors. */
  slabBytes: number;
  /** Memdescs handed out now. */
  memdescs: number;
  /** Deepest nesting of slab creation seen: 1 = a cache made a slab; 2 = that slab's descriptor needed a new descriptor slab. */
  maxDepth: number;
  /** Slabs created at depth 1 and at depth 2. */
  slabsAtDepth: [number, number];
  /** Bytes of the slab allocator's own metadata (typed arrays outside RAM). */
  metadataBytes: number;
}

/**
 * Seed 001's memdesc allocation, in a running system: a folio's memdesc comes from
 * `kmem_cache_alloc(folio_cache)` before its pages are taken (`folio_alloc`), a page table's
 * from a `ptdesc` cache, a network pool's from a `netpool` cache. The slabs of those caches take
 * their pages from the system's own face, tagged `Slab`, and their descriptors (`struct slab`)
 * from the slab allocator's `slab` cache, whose slabs keep their descriptor in their own first
 * object (`sizeof(*slab) == size`): `slab_alloc` takes the page first, so the recursion stops after
 * one round. Once the outermost allocation returns, every slab page taken during it is recorded in
 * the descriptor table under its slab descriptor (`page_set_memdesc(page, order, slab)`).
 *
 * Without backing bytes on the machine, the slab pages get bytes of their own ({@link SlabPageBytes}).
 *
 * Cost: a memdesc is one `SlabCache.alloc` / `free` (O(1)); a new slab adds a page allocation, a
 * descriptor and one `table.set` per slab.
 *
 * @example
 * ```ts
 * const memdescs = new MemdescSlabs(system.pages, machine, arena);
 * system.pages.memdescs = memdescs; // the face now takes every folio's memdesc from folio_cache
 * ```
 */
export class MemdescSlabs implements MemdescSource {
  readonly slab: SlabAllocator;
  readonly folio: SlabCache;
  readonly ptdesc: SlabCache;
  readonly netpool: SlabCache;
  /** Bytes behind the slab pages when the machine has none, else null. */
  readonly pageBytes: SlabPageBytes | null;
  readonly #face: SystemPages;
  readonly #byType: (SlabCache | undefined)[] = [];
  /** Slab pages taken during the current allocation, as (pfn, order) pairs, recorded when it returns. */
  readonly #pending: number[] = [];
  #depth = 0;

  constructor(face: SystemPages, machine: SlabMemory & { readonly pageSize: number; readonly backing: unknown }, arena: ArrayFactory) {
    this.#face = face;
    const pageSize = machine.pageSize;
    this.pageBytes = machine.backing === null ? new SlabPageBytes(pageSize) : null;
    const bytes = this.pageBytes;
    const source = {
      allocPages: (order: number): number => {
        const pfn = face.allocPages(order, MemdescType.Slab);
        if (pfn >= 0) {
          bytes?.add(pfn, order);
          this.#pending.push(pfn, order);
        }
        return pfn;
      },
      freePages: (pfn: number, order: number): void => {
        face.freePages(pfn, order);
        bytes?.remove(pfn, order);
      },
    };
    this.slab = new SlabAllocator({ pages: source, memory: bytes ?? machine, pageSize, arena });
    this.folio = this.slab.createCache("folio", FOLIO_MEMDESC_BYTES, { align: 16 });
    this.ptdesc = this.slab.createCache("ptdesc", SMALL_MEMDESC_BYTES, { align: 16 });
    this.netpool = this.slab.createCache("netpool", SMALL_MEMDESC_BYTES, { align: 16 });
    for (const t of [MemdescType.Anon, MemdescType.File, MemdescType.Ksm, MemdescType.Movable]) this.#byType[t] = this.folio;
    this.#byType[MemdescType.PageTable] = this.ptdesc;
    this.#byType[MemdescType.NetPool] = this.netpool;
  }

  covers(type: number): boolean {
    return this.#byType[type] !== undefined;
  }

  alloc(type: number): number {
    this.#depth++;
    let address: number;
    try {
      address = this.#byType[type]!.alloc();
    } finally {
      this.#depth--;
    }
    if (this.#depth === 0 && this.#pending.length > 0) this.#settle();
    return address;
  }

  free(type: number, address: number): void {
    this.#byType[type]!.free(address);
  }

  /** Records each slab page taken during the allocation under its slab descriptor (seed 001's page_set_memdesc). */
  #settle(): void {
    const p = this.#pending;
    const pageSize = this.slab.pageSize;
    for (let i = 0; i < p.length; i += 2) {
      const pfn = p[i]!;
      const desc = this.slab.descriptorOf(pfn * pageSize);
      // A slab whose descriptor could not be had gave its pages back at once.
      if (desc >= 0) this.#face.table.set(pfn, pfn + 2 ** p[i + 1]! - 1, encodeMemdesc(MemdescType.Slab, desc));
    }
    p.length = 0;
  }

  /** RAM in memdesc slabs, memdescs live, and the recursion seen. O(slabs). */
  figures(): MemdescSlabFigures {
    const st = this.slab.stats();
    let memdescs = 0;
    for (const c of [this.folio, this.ptdesc, this.netpool]) memdescs += c.activeObjects;
    return { slabBytes: st.slabBytes, memdescs, maxDepth: st.maxDepth, slabsAtDepth: st.slabsAtDepth, metadataBytes: st.metadataBytes };
  }
}
