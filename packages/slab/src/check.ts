import { ErrorCode, MmkitError } from "@mmkit/physmem";
import type { SlabCache, SlabProvider } from "./cache.js";
import { POISON_END, POISON_FREE, RED_ACTIVE, RED_INACTIVE } from "./layout.js";
import { A_BASE, A_DESC, A_FREELIST, A_VIEW, ADDR_STRIDE, INT_STRIDE, S_CACHE, S_CPU, S_INUSE, S_NEXT, S_OBJECTS, S_ORDER, S_PREV, S_SELF, S_SLOT, S_STATE, SlabState } from "./slab-table.js";

const MAGIC = 0x42414c53;

function fail(message: string): never {
  throw new MmkitError(ErrorCode.Invariant, message);
}

function word(b: Uint8Array, i: number): number {
  return (b[i]! | (b[i + 1]! << 8) | (b[i + 2]! << 16) | (b[i + 3]! << 24)) >>> 0;
}

/**
 * Every invariant of a slab allocator: each cache's CPU slabs, CPU partial lists and partial list
 * name slabs of that cache in the matching state; every slab's free objects (its own list, plus
 * its CPU's list when it is a CPU slab) are distinct object starts of the slab with their bit
 * clear, and with the handed-out ones (bit set) make up every slot; `inuse` matches; a full slab
 * has no free object, a partial one has some; the page map names the slab for each of its pages;
 * each descriptor holds the magic, the slab id, the cache id and the order, and sits in the
 * slab's first object or in an allocated object of the descriptor cache; with `slub_debug`, every
 * red zone and every free object's poison is intact; the counts sum.
 *
 * Cost: O(slabs x objects per slab) byte reads; for tests.
 *
 * @example
 * ```ts
 * checkSlabAllocator(slab, slab.caches()); // throws ERR_INVARIANT on the first broken invariant
 * ```
 */
export function checkSlabAllocator(p: SlabProvider & { pageSize: number; descriptorCache: SlabCache }, caches: SlabCache[]): void {
  const ints = p.table.ints;
  const addrs = p.table.addrs;
  const om = p.objects;
  const byId = new Map<number, SlabCache>();
  for (const c of caches) byId.set(c.id, c);
  const seenOn = new Map<number, string>();
  const mark = (s: number, where: string) => {
    if (seenOn.has(s)) fail(`slab ${s} is on ${seenOn.get(s)} and on ${where}`);
    seenOn.set(s, where);
  };
  for (const c of caches) {
    for (let cpu = 0; cpu < p.cpus; cpu++) {
      const s = c.cpuSlab[cpu]!;
      if (s >= 0) {
        mark(s, `cpu ${cpu} of ${c.name}`);
        if (ints[s * INT_STRIDE + S_STATE] !== SlabState.Cpu || ints[s * INT_STRIDE + S_CPU] !== cpu) fail(`${c.name}: cpu ${cpu}'s slab ${s} is not marked as its cpu slab`);
      } else if (c.cpuFreelist[cpu] !== -1) fail(`${c.name}: cpu ${cpu} has no slab but a free list ${c.cpuFreelist[cpu]}`);
      let n = 0;
      for (let t = c.cpuPartialHead[cpu]!; t >= 0; t = ints[t * INT_STRIDE + S_NEXT]!) {
        mark(t, `cpu ${cpu}'s partial list of ${c.name}`);
        if (ints[t * INT_STRIDE + S_STATE] !== SlabState.CpuPartial || ints[t * INT_STRIDE + S_CPU] !== cpu) fail(`${c.name}: slab ${t} on cpu ${cpu}'s partial list has state ${ints[t * INT_STRIDE + S_STATE]}`);
        n++;
      }
      if (n !== c.cpuPartialCount[cpu]) fail(`${c.name}: cpu ${cpu}'s partial list has ${n} slabs, count says ${c.cpuPartialCount[cpu]}`);
      if (n > c.cpuPartial) fail(`${c.name}: cpu ${cpu}'s partial list has ${n} slabs, more than ${c.cpuPartial}`);
    }
    let n = 0;
    let prev = -1;
    for (let t = c.partialHead; t >= 0; t = ints[t * INT_STRIDE + S_NEXT]!) {
      mark(t, `the partial list of ${c.name}`);
      if (ints[t * INT_STRIDE + S_STATE] !== SlabState.Partial) fail(`${c.name}: slab ${t} on the partial list has state ${ints[t * INT_STRIDE + S_STATE]}`);
      if (ints[t * INT_STRIDE + S_PREV] !== prev) fail(`${c.name}: slab ${t}'s prev is ${ints[t * INT_STRIDE + S_PREV]}, not ${prev}`);
      prev = t;
      n++;
    }
    if (n !== c.nrPartial) fail(`${c.name}: partial list has ${n} slabs, nrPartial says ${c.nrPartial}`);
  }
  const slabsOf = new Map<number, number>();
  const activeOf = new Map<number, number>();
  const pagesOf = new Map<number, number>();
  let live = 0;
  for (let s = 0; s < p.table.capacity; s++) {
    const o = s * INT_STRIDE;
    const state = ints[o + S_STATE]!;
    if (state === SlabState.Unused) continue;
    live++;
    const c = byId.get(ints[o + S_CACHE]!);
    if (c === undefined) fail(`slab ${s} belongs to unknown cache ${ints[o + S_CACHE]}`);
    slabsOf.set(c.id, (slabsOf.get(c.id) ?? 0) + 1);
    if (state === SlabState.Full && seenOn.has(s)) fail(`full slab ${s} is on ${seenOn.get(s)}`);
    if (state !== SlabState.Full && !seenOn.has(s)) fail(`slab ${s} of ${c.name} has state ${state} but is on no list`);
    const order = ints[o + S_ORDER]!;
    const objects = ints[o + S_OBJECTS]!;
    if (order !== c.order && order !== c.minOrder) fail(`slab ${s} has order ${order}, its cache ${c.order} (or ${c.minOrder})`);
    if (objects !== Math.floor((p.pageSize * 2 ** order) / c.stride)) fail(`slab ${s} says it has ${objects} objects`);
    const base = addrs[s * ADDR_STRIDE + A_BASE]!;
    const pfn = base / p.pageSize;
    const view = addrs[s * ADDR_STRIDE + A_VIEW]!;
    if (view !== om.viewOffset(base)) fail(`slab ${s} says its bytes are at ${view} of the memory's view, the memory says ${om.viewOffset(base)}`);
    for (let i = 0; i < 1 << order; i++) {
      if (p.pageMap.slabOfPfn(pfn + i) !== s) fail(`page ${pfn + i} of slab ${s} is not mapped to it`);
    }
    pagesOf.set(c.id, (pagesOf.get(c.id) ?? 0) + 2 ** order);
    const slot = ints[o + S_SLOT]!;
    // Free objects: the slab's list, and its CPU's list when it is a CPU slab.
    const free = new Set<number>();
    const walk = (head: number, what: string) => {
      for (let x = head; x >= 0; x = om.readPointer(x + c.layout.freePointerOffset)) {
        const index = (x - base) / c.stride;
        if (index !== Math.floor(index) || index < 0 || index >= objects) fail(`${c.name}: ${what} of slab ${s} names ${x}, not an object of it`);
        if (free.has(x)) fail(`${c.name}: object ${x} is on the free lists of slab ${s} twice (a cycle or a double free)`);
        if (c.bitmap.get(slot, index)) fail(`${c.name}: free object ${x} has its allocated bit set`);
        free.add(x);
      }
    };
    walk(addrs[s * ADDR_STRIDE + A_FREELIST]!, "the free list");
    if (state === SlabState.Cpu) walk(c.cpuFreelist[ints[o + S_CPU]!]!, "the cpu free list");
    let allocated = 0;
    for (let i = 0; i < objects; i++) {
      const x = base + i * c.stride;
      const bit = c.bitmap.get(slot, i);
      if (bit === free.has(x)) fail(`${c.name}: object ${x} of slab ${s} is ${bit ? "allocated and on a free list" : "neither allocated nor free"}`);
      if (bit) allocated++;
      if (c.debug.redZone) {
        const bad = om.mismatch(x + c.layout.redZoneOffset, c.layout.redZoneBytes, bit ? RED_ACTIVE : RED_INACTIVE);
        if (bad >= 0) fail(`${c.name}: red zone of object ${x} broken at offset ${c.layout.redZoneOffset + bad}`);
      }
      if (!bit && c.layout.poison) {
        if (om.mismatch(x, c.objectSize - 1, POISON_FREE) >= 0 || om.byte(x + c.objectSize - 1) !== POISON_END) fail(`${c.name}: poison of free object ${x} broken`);
      }
    }
    if (allocated !== ints[o + S_INUSE]) fail(`slab ${s} of ${c.name}: ${allocated} objects allocated, inuse says ${ints[o + S_INUSE]}`);
    const self = ints[o + S_SELF]!;
    activeOf.set(c.id, (activeOf.get(c.id) ?? 0) + allocated - self);
    if (state === SlabState.Full && allocated !== objects) fail(`full slab ${s} of ${c.name} has ${objects - allocated} free objects`);
    if ((state === SlabState.Partial || state === SlabState.CpuPartial) && allocated === objects) fail(`partial slab ${s} of ${c.name} has no free object`);
    const desc = addrs[s * ADDR_STRIDE + A_DESC]!;
    if (self === 1) {
      if (desc !== base || c.objectSize !== 64) fail(`slab ${s} hosts its descriptor but it is at ${desc}, not ${base}`);
    } else {
      const ds = p.pageMap.slabAt(desc);
      if (ds < 0 || ints[ds * INT_STRIDE + S_CACHE] !== p.descriptorCache.id || !p.descriptorCache.isAllocated(ds, desc)) fail(`slab ${s}'s descriptor ${desc} is not an allocated object of the descriptor cache`);
    }
    const b = om.memory.bytes(desc, 16);
    if (word(b, 0) !== MAGIC || word(b, 4) !== s || word(b, 8) !== c.id || word(b, 12) !== order) fail(`descriptor of slab ${s} at ${desc} does not describe it`);
  }
  if (live !== p.table.live) fail(`${live} slab rows in use, the table counts ${p.table.live}`);
  let pages = 0;
  for (const c of caches) {
    if ((slabsOf.get(c.id) ?? 0) !== c.nrSlabs) fail(`${c.name} has ${slabsOf.get(c.id) ?? 0} slabs, nrSlabs says ${c.nrSlabs}`);
    if ((activeOf.get(c.id) ?? 0) !== c.activeObjects) fail(`${c.name} has ${activeOf.get(c.id) ?? 0} objects allocated, activeObjects says ${c.activeObjects}`);
    pages += pagesOf.get(c.id) ?? 0;
  }
  if (pages !== p.pageMap.pages) fail(`caches hold ${pages} slab pages, the page map ${p.pageMap.pages}`);
  // Descriptors of slabs that are not self-hosted are exactly the descriptor cache's objects.
  const d = p.descriptorCache;
  let external = 0;
  for (let s = 0; s < p.table.capacity; s++) if (ints[s * INT_STRIDE + S_STATE] !== SlabState.Unused && ints[s * INT_STRIDE + S_SELF] === 0) external++;
  if (external !== d.activeObjects) fail(`${external} slabs keep their descriptor in the descriptor cache, which has ${d.activeObjects} objects out`);
}
