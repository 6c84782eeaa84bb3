import { MemdescType } from "@mmkit/memdesc-lookup";
import { ErrorCode, MiB, MmkitError, describeValue } from "@mmkit/physmem";
import type { CompactionCounters } from "@mmkit/buddy";
import type { AnonBlocks } from "../systems/anon-blocks.js";
import { buildSystem, type BuildOptions, type MemorySystem } from "../systems/build.js";
import type { SystemDefinition } from "../systems/definition.js";
import { randomIndices, SeededRandom } from "./random.js";

/**
 * A fragmented machine and contiguous requests on it (Q7, the `systems` suite's 8 MiB@1 MiB,
 * the `compaction` suite's order-9 attempts).
 */

/** How {@link fragmentSystem} fragments a machine. */
export interface FragmentShape {
  /** Share of the allocations kept after the fill (the long-lived pages left scattered). */
  keepShare: number;
  /** Share of the allocations that are kernel memory (slab: Unmovable, never moved); the rest is anon. */
  unmovableShare: number;
}

/** What {@link fragmentSystem} left allocated. */
export interface Fragmented {
  /** The kept anon blocks (movable through the system's mover, unless pinned). */
  anon: AnonBlocks;
  /** The kept slab blocks: first pfn and order each. */
  unmovable: { pfn: number; order: number }[];
  /** Pages kept: anon and unmovable. */
  anonPages: number;
  unmovablePages: number;
}

/** Q7's machine: 1/1024 of the allocations kept, 1 in 8 of them kernel (slab) memory. */
export const Q7_SHAPE: FragmentShape = { keepShare: 1 / 1024, unmovableShare: 1 / 8 };

/**
 * Fragments a system's RAM the way a long uptime does: fills it with allocations of random orders
 * 0-3 (anon blocks held by slot in an `AnonBlocks` the system's mover knows, and a
 * `unmovableShare` of slab pages), then frees all but a random `keepShare` of them: scattered
 * long-lived pages, some of which can move. On a buddy system the slab pages come from Unmovable
 * pageblocks (mobility grouping), on POTAD from anywhere. O(RAM pages) allocations.
 *
 * @example
 * ```ts
 * const { anon, unmovable } = fragmentSystem(system, seed, Q7_SHAPE); // then ask for 8 MiB at 1 MiB
 * ```
 */
export function fragmentSystem(system: MemorySystem, seed: number, shape: FragmentShape): Fragmented {
  for (const [name, v] of [["keepShare", shape.keepShare], ["unmovableShare", shape.unmovableShare]] as const) {
    if (typeof v !== "number" || !(v >= 0 && v <= 1)) throw new MmkitError(ErrorCode.InvalidArgument, `${name} must be a share in [0, 1], got ${describeValue(v)}`);
  }
  const orders = randomIndices(seed, "systems/fragment-orders", 1 << 16, 4);
  const kinds = new SeededRandom(seed, "systems/fragment-kinds");
  const anon = system.anonBlocks(system.managedPages);
  const slots: number[] = [];
  const slab: { pfn: number; order: number }[] = [];
  for (let i = 0; ; i++) {
    const order = orders[i & 0xffff]!;
    if (kinds.float() < shape.unmovableShare) {
      const pfn = system.pages.allocPages(order, MemdescType.Slab);
      if (pfn < 0) break;
      slab.push({ pfn, order });
    } else {
      const slot = anon.alloc(order);
      if (slot < 0) break;
      slots.push(slot);
    }
  }
  // Exactly round(keepShare x n) of each kind are kept, chosen at random: only where they lie varies with the seed.
  const keepAnon = chooseKept(seed, "systems/fragment-keep-anon", slots.length, shape.keepShare);
  let anonPages = 0;
  slots.forEach((slot, i) => {
    if (keepAnon[i] === 1) anonPages += 2 ** anon.order(slot);
    else anon.free(slot);
  });
  const keepSlab = chooseKept(seed, "systems/fragment-keep-slab", slab.length, shape.keepShare);
  const unmovable: { pfn: number; order: number }[] = [];
  slab.forEach((b, i) => {
    if (keepSlab[i] === 1) unmovable.push(b);
    else system.pages.freePages(b.pfn, b.order);
  });
  // What the fill left on per-CPU lists and in the caches goes back, as after a long run.
  system.drain();
  return { anon, unmovable, anonPages, unmovablePages: unmovable.reduce((n, b) => n + 2 ** b.order, 0) };
}

/** A mark (1) on exactly round(`share` x `n`) of `n` items, chosen uniformly by a seeded partial Fisher-Yates shuffle. O(n). */
function chooseKept(seed: number, stream: string, n: number, share: number): Uint8Array {
  const marks = new Uint8Array(n);
  const order = new Int32Array(n);
  for (let i = 0; i < n; i++) order[i] = i;
  const rng = new SeededRandom(seed, stream);
  const k = Math.round(n * share);
  for (let i = 0; i < k; i++) {
    const j = i + rng.below(n - i);
    const t = order[j]!;
    order[j] = order[i]!;
    order[i] = t;
    marks[t] = 1;
  }
  return marks;
}

/** What {@link contiguousOnFragmented} saw. */
export interface ContiguousResult {
  served: number;
  attempts: number;
  /** Pages the system's mover moved while serving the requests. */
  migratedPages: number;
  /** Wall-clock milliseconds of all the requests (not the fill). */
  ms: number;
  /** Pages kept by the fragmenting fill: anon (movable) and kernel (unmovable). */
  anonPages: number;
  unmovablePages: number;
}

/**
 * Contiguous (CMA-style) requests of `bytes` at `alignment` on a system fragmented by
 * {@link fragmentSystem}: asks `RAM / bytes` times, counts the successes and the pages the
 * mover moved, and times the requests; checks the system after. Builds and disposes the system.
 *
 * @example
 * ```ts
 * contiguousOnFragmented(systemNamed("memdesc")!, { bytes: 256 * MiB }, seed, Q7_SHAPE).served; // of 32
 * ```
 */
export function contiguousOnFragmented(def: SystemDefinition, build: BuildOptions, seed: number, shape: FragmentShape, bytes = 8 * MiB, alignment = MiB): ContiguousResult {
  const system = buildSystem(def, build);
  try {
    const kept = fragmentSystem(system, seed, shape);
    const attempts = Math.floor((system.managedPages * system.pageSize) / bytes);
    const movedBefore = system.mover.movedPages;
    let served = 0;
    const start = performance.now();
    for (let i = 0; i < attempts; i++) if (system.allocContiguous(bytes, alignment) >= 0) served++;
    const ms = performance.now() - start;
    kept.anon.check();
    system.check();
    return { served, attempts, migratedPages: system.mover.movedPages - movedBefore, ms, anonPages: kept.anonPages, unmovablePages: kept.unmovablePages };
  } finally {
    system.dispose();
  }
}

/** What {@link highOrderOnFragmented} saw. */
export interface HighOrderResult {
  attempts: number;
  succeeded: number;
  /** The buddy's compaction counters after the attempts (all zero without compaction). */
  counters: CompactionCounters;
  /** Wall-clock milliseconds of all the attempts. */
  ms: number;
}

/**
 * Order-`order` attempts (the kernel's stress-highalloc shape) on a buddy system fragmented by
 * {@link fragmentSystem}: as many as the free pages could hold, each a contiguous range of
 * 2^order pages through the face, served as the system was built to (`contiguous: "block"` or
 * `"compaction"`: direct compaction with the system's mover). Builds and disposes the system.
 *
 * @example
 * ```ts
 * highOrderOnFragmented(systemNamed("classic")!, { bytes: 256 * MiB, contiguous: "compaction" }, seed, { keepShare: 1 / 4, unmovableShare: 1 / 8 });
 * ```
 */
export function highOrderOnFragmented(def: SystemDefinition, build: BuildOptions, seed: number, shape: FragmentShape, order = 9): HighOrderResult {
  const system = buildSystem(def, build);
  try {
    const buddy = system.buddy;
    if (buddy === null) throw new MmkitError(ErrorCode.InvalidArgument, `high-order attempts need a buddy system, got ${describeValue(def.name)}`);
    const kept = fragmentSystem(system, seed, shape);
    buddy.resetCounters();
    const pages = 2 ** order;
    const attempts = Math.floor(buddy.freePageCount() / pages);
    let succeeded = 0;
    const start = performance.now();
    for (let i = 0; i < attempts; i++) if (system.pages.allocRange(pages, pages) >= 0) succeeded++;
    const ms = performance.now() - start;
    kept.anon.check();
    system.check();
    return { attempts, succeeded, counters: buddy.compactionCounters(), ms };
  } finally {
    system.dispose();
  }
}
