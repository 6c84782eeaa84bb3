import { ErrorCode, MmkitError, describeValue, type ArrayFactory } from "@mmkit/physmem";
import { SlabErrorCode } from "./errors.js";
import { POISON_END, POISON_FREE, RED_ACTIVE, RED_INACTIVE, type ObjectLayout, type SlabDebug } from "./layout.js";
import type { ObjectMemory } from "./object-memory.js";
import type { PageMap } from "./page-map.js";
import { SlabBitmap } from "./slab-bitmap.js";
import { A_BASE, A_FREELIST, A_VIEW, ADDR_STRIDE, INT_STRIDE, S_CACHE, S_CPU, S_INUSE, S_NEXT, S_OBJECTS, S_ORDER, S_PREV, S_SELF, S_SLOT, S_STATE, SlabState, type SlabTable } from "./slab-table.js";

/**
 * What a cache needs from the allocator that owns it: new slabs (pages, a descriptor, objects on
 * a free list, the memdesc recursion) and giving an empty slab back.
 *
 * @internal
 */
export interface SlabProvider {
  readonly table: SlabTable;
  readonly pageMap: PageMap;
  readonly objects: ObjectMemory;
  readonly cpus: number;
  /** A new slab for `cache` (state Unused, free list built), or -1 when no pages are left. */
  newSlab(cache: SlabCache, cpu: number): number;
  /** Gives slab `s` (empty, on no list) back to the page source. */
  discardSlab(s: number, cpu: number): void;
}

/**
 * Counters a cache keeps, as SLUB's `CONFIG_SLUB_STATS` names them.
 *
 * @example
 * ```ts
 * const { allocFastpath, allocSlowpath } = cache.counters;
 * ```
 */
export interface SlabCacheCounters {
  /** Allocations served from the CPU's free list. */
  allocFastpath: number;
  /** Allocations that had to find another slab (remote frees, a partial slab, a new slab). */
  allocSlowpath: number;
  /** Frees to the CPU's own slab. */
  freeFastpath: number;
  /** Frees to any other slab. */
  freeSlowpath: number;
  /** Slabs taken from the page source. */
  allocSlab: number;
  /** Slabs given back to the page source. */
  freeSlab: number;
  /** Slabs a CPU took from its own partial list. */
  cpuPartialAlloc: number;
  /** Slabs a CPU took from the cache's (node's) partial list. */
  nodePartialAlloc: number;
}

/**
 * Options of {@link SlabAllocator.createCache}.
 *
 * @example
 * ```ts
 * slab.createCache("inode", 600, { align: 64, ctor: (address) => init(address), debug: "Z" });
 * ```
 */
export interface SlabCacheOptions {
  /** Object alignment, a power of two from 8 up to the page size (default 8). */
  align?: number;
  /** Called with each object's address when a new slab is set up (SLUB's constructor). */
  ctor?: (address: number) => void;
  /** `slub_debug` letters for this cache: `F`, `Z`, `P` (default: the allocator's). */
  debug?: string;
  /** Empty slabs kept on the partial list before one is given back (default SLUB's: log2(size)/2 clamped to 5..10). */
  minPartial?: number;
  /** Slabs a CPU may keep on its partial list (default from the object size as SLUB sets it; 0 turns CPU partial lists off). */
  cpuPartial?: number;
}

/** Immutable shape of a cache, fixed at creation. */
export interface SlabCacheShape {
  id: number;
  name: string;
  layout: ObjectLayout;
  align: number;
  order: number;
  objectsPerSlab: number;
  minOrder: number;
  debug: SlabDebug;
  minPartial: number;
  cpuPartial: number;
  ctor: ((address: number) => void) | null;
}

/**
 * A cache of same-size objects (the kernel's `struct kmem_cache`), SLUB's design: each CPU
 * allocates from its own slab through a free list threaded through the free objects themselves
 * (the pointer sits in the object's bytes), frees to that slab go back on the same list, frees to
 * any other slab go on that slab's own list; a slab that was full and gets a free joins the
 * freeing CPU's partial list (up to `cpuPartial` slabs, then they move to the cache's partial
 * list); an empty slab on the partial list is given back once `minPartial` others are there.
 *
 * Cost: `alloc` and `free` on the fast path are O(1): one free-pointer read or write in the
 * object, one hash probe for the page and one bit; the slow path takes a partial slab (O(1)) or a
 * new slab (O(objects per slab) to thread its free list). `shrink` is O(objects on CPU lists +
 * slabs). With `slub_debug` each alloc and free also reads the object's red zone and poison.
 *
 * @example
 * ```ts
 * const dentries = slab.createCache("dentry", 192, { align: 64 });
 * const d = dentries.alloc();
 * dentries.free(d);
 * ```
 */
export class SlabCache {
  /** The cache's index in its allocator. */
  readonly id: number;
  /** The name `/proc/slabinfo` prints. */
  readonly name: string;
  /** Where the object, its red zone and the free pointer sit in each slot. */
  readonly layout: ObjectLayout;
  /** Bytes the user asked for per object. */
  readonly objectSize: number;
  /** Alignment of every object, in bytes. */
  readonly align: number;
  /** The order of a new slab (SLUB's `oo`). */
  readonly order: number;
  /** Objects in a slab of `order`. */
  readonly objectsPerSlab: number;
  /** The lowest order that holds one object: what a new slab falls back to when the preferred order is not free (SLUB's `s->min`). */
  readonly minOrder: number;
  /** @internal One bit per object slot of each slab: set while handed out. */
  readonly bitmap: SlabBitmap;
  /** The `slub_debug` checks in force (F, Z, P). */
  readonly debug: SlabDebug;
  /** Empty slabs kept on the partial list before one is given back (SLUB's `min_partial`). */
  readonly minPartial: number;
  /** Slabs a CPU may keep on its partial list before they move to the cache's list (0: CPU partial lists off). */
  readonly cpuPartial: number;
  /** Runs on each object when its slab is made (the kernel's constructor), or null. */
  readonly ctor: ((address: number) => void) | null;
  /** SLUB's statistics counters (`/sys/kernel/slab/<cache>/alloc_fastpath` and the rest). */
  readonly counters: SlabCacheCounters = {
    allocFastpath: 0,
    allocSlowpath: 0,
    freeFastpath: 0,
    freeSlowpath: 0,
    allocSlab: 0,
    freeSlab: 0,
    cpuPartialAlloc: 0,
    nodePartialAlloc: 0,
  };
  /** Per CPU: the slab it allocates from (-1 none) and that slab's CPU-owned free list head. */
  readonly cpuSlab: Int32Array;
  /** Per CPU: the address of the first object on its slab's CPU-owned free list. */
  readonly cpuFreelist: Float64Array;
  /** Per CPU: head of its partial list (singly linked through S_NEXT) and its length. */
  readonly cpuPartialHead: Int32Array;
  /** Per CPU: slabs on its partial list. */
  readonly cpuPartialCount: Int32Array;
  /** The cache's (one node's) partial list: doubly linked through S_NEXT / S_PREV. */
  partialHead = -1;
  /** Slabs on the node partial list. */
  nrPartial = 0;
  /** Slabs the cache holds, and objects handed out to users (own descriptors not counted). */
  nrSlabs = 0;
  /** Objects handed out to users now. */
  activeObjects = 0;
  /** True for the descriptor cache, whose objects only the allocator takes and gives back. */
  internal = false;
  /** True once the cache was destroyed. */
  destroyed = false;
  #p: SlabProvider;
  #stride: number;
  /** 1 / stride: an object's index is a multiply and a round, checked by multiplying back (no division per op). */
  #perStride: number;
  #fp: number;
  #checked: boolean;
  #redZone: boolean;

  /** @internal Created by {@link SlabAllocator.createCache}. */
  constructor(provider: SlabProvider, shape: SlabCacheShape, arena: ArrayFactory) {
    this.#p = provider;
    this.id = shape.id;
    this.name = shape.name;
    this.layout = shape.layout;
    this.objectSize = shape.layout.objectSize;
    this.align = shape.align;
    this.order = shape.order;
    this.objectsPerSlab = shape.objectsPerSlab;
    this.minOrder = shape.minOrder;
    this.bitmap = new SlabBitmap(arena, shape.name, shape.objectsPerSlab);
    this.debug = shape.debug;
    this.minPartial = shape.minPartial;
    this.cpuPartial = shape.cpuPartial;
    this.ctor = shape.ctor;
    this.#stride = shape.layout.stride;
    this.#perStride = 1 / shape.layout.stride;
    this.#redZone = shape.debug.redZone;
    this.#fp = shape.layout.freePointerOffset;
    this.#checked = shape.debug.consistency || shape.debug.redZone || shape.layout.poison;
    const cpus = provider.cpus;
    this.cpuSlab = arena.int32(cpus, `${shape.name} cpu slab`).fill(-1);
    this.cpuFreelist = arena.float64(cpus, `${shape.name} cpu freelist`).fill(-1);
    this.cpuPartialHead = arena.int32(cpus, `${shape.name} cpu partial`).fill(-1);
    this.cpuPartialCount = arena.int32(cpus, `${shape.name} cpu partial count`);
  }

  /** Bytes between objects in a slab (object, red zone, free pointer, alignment). */
  get stride(): number {
    return this.#stride;
  }

  /**
   * Allocates one object on `cpu` (default 0): its address, or -1 when the page source has no
   * pages for a new slab. The object's bytes are whatever they were (a constructor's work, or
   * poison with `P`); it is aligned to `align`.
   */
  alloc(cpu = 0): number {
    if (this.internal) this.#internalOnly();
    return this.allocObject(cpu);
  }

  /** @internal {@link alloc} without the guard that keeps users off the descriptor cache. */
  allocObject(cpu: number): number {
    // Kept under V8's inlining limit (460 bytes of bytecode): refusals and debug work are out of line.
    if (typeof cpu !== "number" || !(cpu >= 0 && cpu < this.#p.cpus && (cpu | 0) === cpu) || this.destroyed) this.#refuseAlloc(cpu);
    let object = this.cpuFreelist[cpu]!;
    if (object < 0) {
      object = this.#refill(cpu);
      if (object < 0) return -1;
    } else {
      this.counters.allocFastpath++;
    }
    const p = this.#p;
    const s = this.cpuSlab[cpu]!;
    const addrs = p.table.addrs;
    const base = addrs[s * ADDR_STRIDE + A_BASE]!;
    const om = p.objects;
    // The free pointer by its place in the memory's view: the slab's own place plus the object's offset.
    const next = om.direct ? om.readPointerAt(addrs[s * ADDR_STRIDE + A_VIEW]! + (object - base) + this.#fp) : om.readPointer(object + this.#fp);
    if (this.#checked) this.#checkOnAlloc(s, object, next);
    this.cpuFreelist[cpu] = next;
    const ints = p.table.ints;
    ints[s * INT_STRIDE + S_INUSE]++;
    this.bitmap.set(ints[s * INT_STRIDE + S_SLOT]!, Math.round((object - base) * this.#perStride));
    this.activeObjects++;
    if (this.#redZone) this.#markAllocated(object);
    return object;
  }

  /**
   * Frees the object at `address` on `cpu` (default 0). Throws `ERR_NOT_ALLOCATED` for an
   * address that is not the start of an object of a slab, `ERR_WRONG_CACHE` for an object of
   * another cache, `ERR_DOUBLE_FREE` for an object already free, and with `Z` an overwritten red
   * zone (`ERR_SLAB_CORRUPTION`); nothing changes when it throws.
   */
  free(address: number, cpu = 0): void {
    if (this.internal) this.#internalOnly();
    // The throws live in cold methods: a small free is one V8 inlines into its callers.
    if (typeof address !== "number" || !Number.isSafeInteger(address) || address < 0) this.#badAddress(address);
    const s = this.#p.pageMap.slabAt(address);
    if (s < 0) this.#inNoSlab(address);
    this.#release(s, address, this.#validateFree(s, address, cpu), cpu);
  }

  /**
   * @internal Frees `address`, found (by the caller's page lookup) in slab `s`: validates
   * everything, then frees. One page lookup per free, whoever finds the cache.
   */
  freeInSlab(s: number, address: number, cpu: number): void {
    this.#release(s, address, this.#validateFree(s, address, cpu), cpu);
  }

  /** @internal True when `address` is an object start of slab `s` that is handed out (own descriptor excluded). */
  isAllocated(s: number, address: number): boolean {
    const p = this.#p;
    const ints = p.table.ints;
    const index = (address - p.table.addrs[s * ADDR_STRIDE + A_BASE]!) / this.#stride;
    if (index !== Math.floor(index) || index < 0 || index >= ints[s * INT_STRIDE + S_OBJECTS]!) return false;
    if (index === 0 && ints[s * INT_STRIDE + S_SELF] === 1) return false;
    return this.bitmap.get(ints[s * INT_STRIDE + S_SLOT]!, index);
  }

  /** Throws (changing nothing) unless `address` is a handed-out object of slab `s` of this cache; its index in the slab. */
  #validateFree(s: number, address: number, cpu: number): number {
    if (typeof cpu !== "number" || !(cpu >= 0 && cpu < this.#p.cpus && (cpu | 0) === cpu)) this.#badCpu(cpu);
    const p = this.#p;
    const ints = p.table.ints;
    const o = s * INT_STRIDE;
    const offset = address - p.table.addrs[s * ADDR_STRIDE + A_BASE]!;
    // The nearest object's index; the address is that object's start only if it multiplies back.
    const index = Math.round(offset * this.#perStride);
    // One combined test on the hot path; #refuseFree finds which rule failed and throws for it.
    if (this.destroyed || ints[o + S_CACHE] !== this.id || index * this.#stride !== offset || index >= ints[o + S_OBJECTS]! || (index === 0 && ints[o + S_SELF] === 1) || !this.bitmap.get(ints[o + S_SLOT]!, index)) {
      this.#refuseFree(s, address, index);
    }
    if (this.#redZone) {
      const bad = p.objects.mismatch(address + this.layout.redZoneOffset, this.layout.redZoneBytes, RED_ACTIVE);
      if (bad >= 0) this.#corrupt(address, this.layout.redZoneOffset + bad, "red zone overwritten (a write past the object's end)");
    }
    return index;
  }

  /** The error for a free {@link #validateFree} refused, in the order its rules are checked. */
  #refuseFree(s: number, address: number, index: number): never {
    if (this.destroyed) this.#gone();
    const ints = this.#p.table.ints;
    const o = s * INT_STRIDE;
    if (ints[o + S_CACHE] !== this.id) {
      throw new MmkitError(SlabErrorCode.WrongCache, `address ${address} belongs to another cache (id ${ints[o + S_CACHE]}), not ${this.name}`);
    }
    if (index * this.#stride !== address - this.#p.table.addrs[s * ADDR_STRIDE + A_BASE]! || index >= ints[o + S_OBJECTS]!) {
      throw new MmkitError(ErrorCode.NotAllocated, `address ${address} is not the start of an object of ${this.name} (objects are ${this.#stride} bytes apart)`);
    }
    if (index === 0 && ints[o + S_SELF] === 1) {
      throw new MmkitError(ErrorCode.NotAllocated, `address ${address} is the descriptor of its own slab, never handed out`);
    }
    throw new MmkitError(ErrorCode.DoubleFree, `object ${address} of ${this.name} is free already`);
  }

  /** Frees object `index` (at `address`) of slab `s`, validated already: onto the CPU's list when `s` is its slab, else onto the slab's. */
  #release(s: number, address: number, index: number, cpu: number): void {
    const p = this.#p;
    const ints = p.table.ints;
    const addrs = p.table.addrs;
    const o = s * INT_STRIDE;
    this.bitmap.clear(ints[o + S_SLOT]!, index);
    this.activeObjects--;
    if (this.#checked) this.#markFree(address);
    ints[o + S_INUSE]--;
    const om = p.objects;
    // Where the object's free pointer is in the memory's view (-1: the memory has none, go by address).
    const at = om.direct ? addrs[s * ADDR_STRIDE + A_VIEW]! + index * this.#stride + this.#fp : -1;
    if (ints[o + S_STATE] === SlabState.Cpu && ints[o + S_CPU] === cpu) {
      this.counters.freeFastpath++;
      if (at >= 0) om.writePointerAt(at, this.cpuFreelist[cpu]!);
      else om.writePointer(address + this.#fp, this.cpuFreelist[cpu]!);
      this.cpuFreelist[cpu] = address;
      return;
    }
    this.#releaseToSlab(s, address, at, cpu);
  }

  /** SLUB's __slab_free: the object goes on slab `s`'s own list (its free pointer at view place `at`, or by address when -1); a full slab joins a partial list, an empty one may go back. */
  #releaseToSlab(s: number, address: number, at: number, cpu: number): void {
    const p = this.#p;
    const ints = p.table.ints;
    const addrs = p.table.addrs;
    const o = s * INT_STRIDE;
    this.counters.freeSlowpath++;
    const a = s * ADDR_STRIDE + A_FREELIST;
    if (at >= 0) p.objects.writePointerAt(at, addrs[a]!);
    else p.objects.writePointer(address + this.#fp, addrs[a]!);
    addrs[a] = address;
    const state = ints[o + S_STATE];
    if (state === SlabState.Full) {
      // A full slab's first free: SLUB's put_cpu_partial, or straight to the node without CPU lists.
      if (this.cpuPartial > 0) {
        ints[o + S_STATE] = SlabState.CpuPartial;
        ints[o + S_CPU] = cpu;
        ints[o + S_NEXT] = this.cpuPartialHead[cpu]!;
        this.cpuPartialHead[cpu] = s;
        if (++this.cpuPartialCount[cpu]! > this.cpuPartial) this.#flushCpuPartial(cpu);
        return;
      }
      this.#addPartial(s);
    }
    if (ints[o + S_STATE] === SlabState.Partial && ints[o + S_INUSE] === ints[o + S_SELF] && this.nrPartial > this.minPartial) {
      this.#removePartial(s);
      this.#discard(s, cpu);
    }
  }

  /** Finds the next free object for `cpu`, making another slab its CPU slab when needed (SLUB's slow path); -1 when none. */
  #refill(cpu: number): number {
    this.counters.allocSlowpath++;
    const p = this.#p;
    const ints = p.table.ints;
    let s = this.cpuSlab[cpu]!;
    if (s >= 0) {
      // Frees from other CPUs went on the slab's own list: take them over.
      const a = s * ADDR_STRIDE + A_FREELIST;
      const remote = p.table.addrs[a]!;
      if (remote >= 0) {
        p.table.addrs[a] = -1;
        this.cpuFreelist[cpu] = remote;
        return remote;
      }
      ints[s * INT_STRIDE + S_STATE] = SlabState.Full;
      ints[s * INT_STRIDE + S_CPU] = -1;
      this.cpuSlab[cpu] = -1;
    }
    s = this.cpuPartialHead[cpu]!;
    if (s >= 0) {
      this.cpuPartialHead[cpu] = ints[s * INT_STRIDE + S_NEXT]!;
      this.cpuPartialCount[cpu]--;
      this.counters.cpuPartialAlloc++;
      return this.#freeze(s, cpu);
    }
    s = this.partialHead;
    if (s >= 0) {
      this.#removePartial(s);
      this.counters.nodePartialAlloc++;
      return this.#freeze(s, cpu);
    }
    s = p.newSlab(this, cpu);
    if (s < 0) return -1;
    this.nrSlabs++;
    this.counters.allocSlab++;
    return this.#freeze(s, cpu);
  }

  #freeze(s: number, cpu: number): number {
    const p = this.#p;
    const o = s * INT_STRIDE;
    p.table.ints[o + S_STATE] = SlabState.Cpu;
    p.table.ints[o + S_CPU] = cpu;
    p.table.ints[o + S_NEXT] = -1;
    p.table.ints[o + S_PREV] = -1;
    const a = s * ADDR_STRIDE + A_FREELIST;
    const head = p.table.addrs[a]!;
    p.table.addrs[a] = -1;
    this.cpuSlab[cpu] = s;
    this.cpuFreelist[cpu] = head;
    return head;
  }

  #addPartial(s: number): void {
    const ints = this.#p.table.ints;
    const o = s * INT_STRIDE;
    ints[o + S_STATE] = SlabState.Partial;
    ints[o + S_CPU] = -1;
    ints[o + S_PREV] = -1;
    ints[o + S_NEXT] = this.partialHead;
    if (this.partialHead >= 0) ints[this.partialHead * INT_STRIDE + S_PREV] = s;
    this.partialHead = s;
    this.nrPartial++;
  }

  #removePartial(s: number): void {
    const ints = this.#p.table.ints;
    const o = s * INT_STRIDE;
    const next = ints[o + S_NEXT]!;
    const prev = ints[o + S_PREV]!;
    if (prev >= 0) ints[prev * INT_STRIDE + S_NEXT] = next;
    else this.partialHead = next;
    if (next >= 0) ints[next * INT_STRIDE + S_PREV] = prev;
    ints[o + S_NEXT] = -1;
    ints[o + S_PREV] = -1;
    this.nrPartial--;
  }

  /** An empty slab goes back to the page source when enough others wait on the partial list, else joins them. */
  #putEmptyOrPartial(s: number, cpu: number): number {
    const ints = this.#p.table.ints;
    const o = s * INT_STRIDE;
    if (ints[o + S_INUSE] === ints[o + S_SELF] && this.nrPartial >= this.minPartial) {
      const pages = 2 ** ints[o + S_ORDER]!;
      this.#discard(s, cpu);
      return pages;
    }
    this.#addPartial(s);
    return 0;
  }

  /** SLUB's __put_partials: CPU `cpu`'s partial slabs move to the node list (empty ones may go back). */
  #flushCpuPartial(cpu: number): number {
    const ints = this.#p.table.ints;
    let freed = 0;
    let s = this.cpuPartialHead[cpu]!;
    this.cpuPartialHead[cpu] = -1;
    this.cpuPartialCount[cpu] = 0;
    while (s >= 0) {
      const next = ints[s * INT_STRIDE + S_NEXT]!;
      freed += this.#putEmptyOrPartial(s, cpu);
      s = next;
    }
    return freed;
  }

  /** SLUB's deactivate_slab: the CPU gives its slab up; its free list joins the slab's own. */
  #deactivate(cpu: number): number {
    const s = this.cpuSlab[cpu]!;
    if (s < 0) return 0;
    const p = this.#p;
    const a = s * ADDR_STRIDE + A_FREELIST;
    let head = p.table.addrs[a]!;
    for (let object = this.cpuFreelist[cpu]!; object >= 0; ) {
      const next = p.objects.readPointer(object + this.#fp);
      p.objects.writePointer(object + this.#fp, head);
      head = object;
      object = next;
    }
    p.table.addrs[a] = head;
    this.cpuSlab[cpu] = -1;
    this.cpuFreelist[cpu] = -1;
    const o = s * INT_STRIDE;
    p.table.ints[o + S_CPU] = -1;
    if (p.table.ints[o + S_INUSE] === p.table.ints[o + S_OBJECTS]) {
      p.table.ints[o + S_STATE] = SlabState.Full;
      return 0;
    }
    return this.#putEmptyOrPartial(s, cpu);
  }

  /**
   * `kmem_cache_shrink`: every CPU gives up its slab and partial list, and every empty slab goes
   * back to the page source. Returns the pages given back. O(objects on CPU free lists + slabs).
   */
  shrink(): number {
    if (this.destroyed) return 0;
    let freed = 0;
    for (let cpu = 0; cpu < this.#p.cpus; cpu++) {
      freed += this.#deactivate(cpu);
      freed += this.#flushCpuPartial(cpu);
    }
    const ints = this.#p.table.ints;
    for (let s = this.partialHead; s >= 0; ) {
      const next = ints[s * INT_STRIDE + S_NEXT]!;
      if (ints[s * INT_STRIDE + S_INUSE] === ints[s * INT_STRIDE + S_SELF]) {
        this.#removePartial(s);
        freed += 2 ** ints[s * INT_STRIDE + S_ORDER]!;
        this.#discard(s, 0);
      }
      s = next;
    }
    return freed;
  }

  /** Object slots in the cache's slabs (a slab that fell back to a lower order has fewer). O(slab rows). */
  objectSlots(): number {
    const ints = this.#p.table.ints;
    let slots = 0;
    for (let s = 0; s < this.#p.table.capacity; s++) {
      const o = s * INT_STRIDE;
      if (ints[o + S_STATE] !== SlabState.Unused && ints[o + S_CACHE] === this.id) slots += ints[o + S_OBJECTS]!;
    }
    return slots;
  }

  /** Pages in the cache's slabs. O(slab rows). */
  slabPages(): number {
    const ints = this.#p.table.ints;
    let pages = 0;
    for (let s = 0; s < this.#p.table.capacity; s++) {
      const o = s * INT_STRIDE;
      if (ints[o + S_STATE] !== SlabState.Unused && ints[o + S_CACHE] === this.id) pages += 2 ** ints[o + S_ORDER]!;
    }
    return pages;
  }

  /** Pages of empty slabs a {@link shrink} would give back now (those on CPUs' lists included). */
  reclaimablePages(): number {
    const ints = this.#p.table.ints;
    const cap = this.#p.table.capacity;
    let pages = 0;
    for (let s = 0; s < cap; s++) {
      const o = s * INT_STRIDE;
      if (ints[o + S_STATE] !== SlabState.Unused && ints[o + S_CACHE] === this.id && ints[o + S_INUSE] === ints[o + S_SELF]) pages += 2 ** ints[o + S_ORDER]!;
    }
    return pages;
  }

  #discard(s: number, cpu: number): void {
    this.nrSlabs--;
    this.counters.freeSlab++;
    this.#p.discardSlab(s, cpu);
  }

  /** The red zone of an object being handed out (`Z`): marked active. */
  #markAllocated(object: number): void {
    this.#p.objects.fill(object + this.layout.redZoneOffset, this.layout.redZoneBytes, RED_ACTIVE);
  }

  /** The error for an allocation refused before anything changed: a bad cpu, or a destroyed cache. */
  #refuseAlloc(cpu: unknown): never {
    if (typeof cpu !== "number" || !(cpu >= 0 && cpu < this.#p.cpus && (cpu | 0) === cpu)) this.#badCpu(cpu);
    this.#gone();
  }

  /** The debug bytes of an object being freed: poison (`P`) and the free red zone (`Z`). */
  #markFree(address: number): void {
    const om = this.#p.objects;
    if (this.layout.poison) {
      om.fill(address, this.objectSize, POISON_FREE);
      om.fill(address + this.objectSize - 1, 1, POISON_END);
    }
    if (this.#redZone) om.fill(address + this.layout.redZoneOffset, this.layout.redZoneBytes, RED_INACTIVE);
  }

  #checkOnAlloc(s: number, object: number, next: number): void {
    const p = this.#p;
    if (this.debug.consistency && next >= 0) {
      const base = p.table.addrs[s * ADDR_STRIDE + A_BASE]!;
      const index = (next - base) / this.#stride;
      const ints = p.table.ints;
      if (index !== Math.floor(index) || index < 0 || index >= ints[s * INT_STRIDE + S_OBJECTS]! || this.bitmap.get(ints[s * INT_STRIDE + S_SLOT]!, index)) {
        this.#corrupt(object, this.#fp, `free pointer names ${next}, not a free object of this slab`);
      }
    }
    if (this.debug.redZone) {
      const bad = p.objects.mismatch(object + this.layout.redZoneOffset, this.layout.redZoneBytes, RED_INACTIVE);
      if (bad >= 0) this.#corrupt(object, this.layout.redZoneOffset + bad, "red zone of a free object overwritten");
    }
    if (this.layout.poison) this.checkPoison(object);
  }

  /** @internal Throws `ERR_SLAB_CORRUPTION` unless free object `object` still holds its poison. */
  checkPoison(object: number): void {
    const om = this.#p.objects;
    const bad = om.mismatch(object, this.objectSize - 1, POISON_FREE);
    if (bad >= 0) this.#corrupt(object, bad, "poison overwritten (a write after free)");
    if (om.byte(object + this.objectSize - 1) !== POISON_END) this.#corrupt(object, this.objectSize - 1, "poison overwritten (a write after free)");
  }

  #corrupt(object: number, offset: number, what: string): never {
    const found = this.#p.objects.byte(object + offset);
    throw new MmkitError(SlabErrorCode.Corruption, `${this.name}: object ${object}, offset ${offset} holds 0x${found.toString(16)}: ${what}`);
  }

  #badAddress(address: unknown): never {
    throw new MmkitError(ErrorCode.InvalidArgument, `address must be a non-negative integer, got ${describeValue(address)}`);
  }

  #inNoSlab(address: number): never {
    throw new MmkitError(ErrorCode.NotAllocated, `address ${address} is in no slab of cache ${this.name}`);
  }

  #badCpu(cpu: unknown): never {
    throw new MmkitError(ErrorCode.OutOfRange, `cpu must be an integer in [0, ${this.#p.cpus - 1}], got ${describeValue(cpu)}`);
  }

  #internalOnly(): never {
    throw new MmkitError(ErrorCode.InvalidState, `cache ${this.name} holds slab descriptors; its objects are never handed out`);
  }

  #gone(): never {
    throw new MmkitError(ErrorCode.InvalidState, `cache ${this.name} was destroyed`);
  }
}
