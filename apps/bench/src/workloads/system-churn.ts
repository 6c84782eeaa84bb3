import { probingArena } from "../harness/probe-order.js";
import { MemdescType, encodeMemdesc } from "@mmkit/memdesc-lookup";
import { freshLoop } from "../harness/fresh-loop.js";
import { ProbingArena } from "@mmkit/physmem";
import type { Contender } from "../harness/types.js";
import { buildSystem, type BuildOptions, type MemorySystem } from "../systems/build.js";
import type { SystemDefinition } from "../systems/definition.js";
import type { SystemPages } from "../systems/page-face.js";
import type { TallyArena } from "../systems/tally-arena.js";
import { SeededRandom } from "./random.js";

/**
 * Churn workloads over whole systems: each keeps `live` allocations and, per operation, frees the
 * one in slot `slots[c]` and allocates a new one in its place (sizes from a seeded sequence), so
 * the live count is constant and a timed `run` leaves the system in steady state. Every contender
 * kind has its own module-level loop with its state passed in (see harness/types.ts).
 */

/**
 * Steps each contender runs in `setup`, untimed, before the harness's own warm-up: the maple tree's
 * code needs several thousand operations before V8 has optimised it (measured: 24 µs/op in the
 * first 3000 alloc+free pairs, 1.4 µs from the 10,000th on), more than a calibrated warm-up gives.
 */
export const WARM_UP_OPS = 1 << 14;

/** The classic IMIX packet sizes (7:4:1 of 64, 576, 1500 bytes), drawn from stream "fragments/imix" as the fragments suite does. */
export function imixSizes(seed: number, length = 1 << 16): Int32Array {
  const rng = new SeededRandom(seed, "fragments/imix");
  const out = new Int32Array(length);
  for (let i = 0; i < length; i++) {
    const r = rng.below(12);
    out[i] = r < 7 ? 64 : r < 11 ? 576 : 1500;
  }
  return out;
}

/** Fills `live` slots with page allocations of `orders[i]` through the system's face. */
function fillPages(face: SystemPages, live: number, orders: Int32Array): { held: Float64Array; heldOrder: Int32Array } {
  const held = new Float64Array(live);
  const heldOrder = new Int32Array(live);
  for (let i = 0; i < live; i++) {
    heldOrder[i] = orders[i]!;
    held[i] = face.allocPages(orders[i]!);
    if (held[i]! < 0) throw new Error(`the machine is too small for ${live} live allocations (slot ${i}, order ${orders[i]})`);
  }
  return { held, heldOrder };
}

function pageChurnLoop(face: SystemPages, held: Float64Array, heldOrder: Int32Array, slots: Int32Array, orders: Int32Array, cursor: Int32Array, ops: number): number {
  const mask = slots.length - 1;
  let c = cursor[0]!;
  let sum = 0;
  for (let i = 0; i < ops; i++) {
    const slot = slots[c]!;
    const order = orders[c]!;
    c = (c + 1) & mask;
    face.freePages(held[slot]!, heldOrder[slot]!);
    const pfn = face.allocPages(order);
    held[slot] = pfn;
    heldOrder[slot] = order;
    sum = (sum + pfn) | 0;
  }
  cursor[0] = c;
  return sum;
}

/**
 * Page churn through a system's face (allocator + descriptor table): `orders` all zero for
 * order-0 churn, or mixed.
 *
 * @example
 * ```ts
 * ctx.time("order-0 churn", [churnFloor(live, { seed }), pageChurn(classic, { bytes }, live, slots, zeros)], { floor: "Int32Array stack" });
 * ```
 */
export function pageChurn(def: SystemDefinition, build: BuildOptions, live: number, slots: Int32Array, orders: Int32Array): Contender {
  return pageChurnOn(def.name, () => buildSystem(def, build), live, slots, orders);
}

/**
 * {@link pageChurn} on the system `system()` returns when the contender is set up: pass a built
 * system to time several workloads on one build (each keeps its own live set in it).
 */
export function pageChurnOn(name: string, system: () => MemorySystem, live: number, slots: Int32Array, orders: Int32Array): Contender {
  return {
    name,
    setup() {
      const built = system();
      const { held, heldOrder } = fillPages(built.pages, live, orders);
      const cursor = Int32Array.of(0);
      const loop = freshLoop(pageChurnLoop);
      loop(built.pages, held, heldOrder, slots, orders, cursor, WARM_UP_OPS);
      return (ops) => loop(built.pages, held, heldOrder, slots, orders, cursor, ops);
    },
  };
}

function subPageLoop(system: MemorySystem, held: Float64Array, slots: Int32Array, sizes: Int32Array, cursor: Int32Array, ops: number): number {
  const potad = system.potad!;
  const space = system.ramSpace;
  const options = { descriptor: 0, descriptorBytes: 8 };
  const mask = slots.length - 1;
  let c = cursor[0]!;
  let sum = 0;
  for (let i = 0; i < ops; i++) {
    const slot = slots[c]!;
    const size = 512 << sizes[c]!;
    c = (c + 1) & mask;
    sum = (sum + potad.free(held[slot]!)) | 0;
    options.descriptor = encodeMemdesc(MemdescType.Slab, (c + 1) * 16);
    held[slot] = potad.alloc(space, size, options);
  }
  cursor[0] = c;
  return sum;
}

/**
 * Sub-page allocations of 512 B << sizes[i] (512 B..64 KiB), each with an 8-byte memdesc
 * registered in POTAD's descriptor index (the system's maple tree in `memdesc`). POTAD systems
 * only: the buddy allocator has no size below a page.
 */
export function subPageChurn(def: SystemDefinition, build: BuildOptions, live: number, slots: Int32Array, sizes: Int32Array): Contender {
  return {
    name: def.name,
    setup() {
      const system = buildSystem(def, build);
      if (system.potad === null) throw new Error(`${def.name} has no sub-page allocator`);
      const held = new Float64Array(live);
      for (let i = 0; i < live; i++) held[i] = system.potad.alloc(system.ramSpace, 512 << sizes[i]!, { descriptor: encodeMemdesc(MemdescType.Slab, (i + 1) * 16) });
      const cursor = Int32Array.of(0);
      subPageLoop(system, held, slots, sizes, cursor, WARM_UP_OPS);
      return (ops) => subPageLoop(system, held, slots, sizes, cursor, ops);
    },
  };
}

function imixLoop(system: MemorySystem, held: Float64Array, slots: Int32Array, sizes: Int32Array, cursor: Int32Array, ops: number): number {
  const cache = system.fragmentCache!;
  const mask = slots.length - 1;
  let c = cursor[0]!;
  let sum = 0;
  for (let i = 0; i < ops; i++) {
    const slot = slots[c]!;
    const size = sizes[c]!;
    c = (c + 1) & mask;
    cache.free(held[slot]!);
    const address = cache.alloc(size);
    held[slot] = address;
    sum = (sum + address) | 0;
  }
  cursor[0] = c;
  return sum;
}

/** Network receive fragments in the IMIX mix through the system's page_frag_cache (over its page face). */
export function imixChurn(def: SystemDefinition, build: BuildOptions, live: number, slots: Int32Array, sizes: Int32Array): Contender {
  return imixChurnOn(def.name, () => buildSystem(def, build), live, slots, sizes);
}

/** {@link imixChurn} on the system `system()` returns when the contender is set up (see {@link pageChurnOn}). */
export function imixChurnOn(name: string, system: () => MemorySystem, live: number, slots: Int32Array, sizes: Int32Array): Contender {
  return {
    name,
    setup() {
      const built = system();
      const held = new Float64Array(live);
      for (let i = 0; i < live; i++) held[i] = built.fragmentCache!.alloc(sizes[i]!);
      const cursor = Int32Array.of(0);
      const loop = freshLoop(imixLoop);
      loop(built, held, slots, sizes, cursor, WARM_UP_OPS);
      return (ops) => loop(built, held, slots, sizes, cursor, ops);
    },
  };
}

function pteLoop(system: MemorySystem, held: Float64Array, slots: Int32Array, cursor: Int32Array, ops: number): number {
  const mask = slots.length - 1;
  let c = cursor[0]!;
  let sum = 0;
  for (let i = 0; i < ops; i++) {
    const slot = slots[c]!;
    c = (c + 1) & mask;
    system.freePteMapped(held[slot]!);
    const pfn = system.allocPteMapped();
    held[slot] = pfn;
    sum = (sum + pfn) | 0;
  }
  cursor[0] = c;
  return sum;
}

/** PTE-mapped page churn: through the PTE-mapped cache, or (a system without one) a page plus a direct-map split each. */
export function pteChurn(def: SystemDefinition, build: BuildOptions, live: number, slots: Int32Array): Contender {
  return {
    name: def.name,
    setup() {
      const system = buildSystem(def, build);
      const held = new Float64Array(live);
      for (let i = 0; i < live; i++) held[i] = system.allocPteMapped();
      const cursor = Int32Array.of(0);
      const loop = freshLoop(pteLoop);
      loop(system, held, slots, cursor, WARM_UP_OPS);
      return (ops) => loop(system, held, slots, cursor, ops);
    },
  };
}

/** Runs `ops` steps of a workload untimed on a built system (the deterministic figures are read after it). */
export function runPageChurn(system: MemorySystem, live: number, slots: Int32Array, orders: Int32Array, ops: number): { held: Float64Array; heldOrder: Int32Array } {
  const state = fillPages(system.pages, live, orders);
  pageChurnLoop(system.pages, state.held, state.heldOrder, slots, orders, Int32Array.of(0), ops);
  return state;
}

/** Mean cache lines per operation (alloc and free counted apart, then averaged), by component, from a probing build. */
export interface LinesPerOp {
  allocator: number;
  descriptors: number;
  total: number;
  /** Uncounted churn steps run before counting. */
  warmup: number;
  /** Most allocator lines one counted alloc or free touched: a table growth inside the window shows here. */
  maxAllocator: number;
}

/**
 * Lines per op of `ops` churn steps after filling `live` slots and running `warmup` churn steps
 * uncounted (default `2 * live`), the allocator and the descriptor table each on its own
 * `ProbingArena` (so the two are told apart), counted on the same code.
 *
 * Why the warm-up: right after a fill, POTAD's per-order fronts are empty and its block table is
 * at its fullest before a doubling, which the first few hundred steps of churn bring (one step
 * then copies the whole table, over 12k lines). Counting from the fill measured that start-up, not
 * the steady state every other lines figure describes. The worst single op is reported beside the
 * mean so a growth inside the window cannot hide.
 *
 * @example
 * ```ts
 * probeLinesPerOp(classic, { bytes }, 1000, 500, slots, zeros).allocator; // struct page + pcp + zone lines
 * ```
 */
export function probeLinesPerOp(def: SystemDefinition, build: BuildOptions, live: number, ops: number, slots: Int32Array, orders: Int32Array, warmup = 2 * live): LinesPerOp {
  const allocatorArena = probingArena();
  const descriptorArena = probingArena();
  const system = buildSystem(def, { ...build, arenas: { ...build.arenas, allocator: allocatorArena, descriptors: descriptorArena } });
  const { held, heldOrder } = fillPages(system.pages, live, orders);
  const mask = slots.length - 1;
  for (let i = 0; i < warmup; i++) {
    const slot = slots[i & mask]!;
    system.pages.freePages(held[slot]!, heldOrder[slot]!);
    held[slot] = system.pages.allocPages(orders[i & mask]!);
    heldOrder[slot] = orders[i & mask]!;
  }
  let a = 0;
  let d = 0;
  let worst = 0;
  for (let k = 0; k < ops; k++) {
    const i = (warmup + k) & mask;
    const slot = slots[i]!;
    const order = orders[i]!;
    const pfn = held[slot]!;
    const freed = allocatorArena.measure(() => descriptorArena.measure(() => system.pages.freePages(pfn, heldOrder[slot]!)));
    a += freed.lines;
    d += freed.value.lines;
    const got = allocatorArena.measure(() => descriptorArena.measure(() => system.pages.allocPages(order)));
    a += got.lines;
    d += got.value.lines;
    worst = Math.max(worst, freed.lines, got.lines);
    held[slot] = got.value.value;
    heldOrder[slot] = order;
  }
  return { allocator: a / (2 * ops), descriptors: d / (2 * ops), total: (a + d) / (2 * ops), warmup, maxAllocator: worst };
}

/**
 * Metadata bytes the system allocates while freeing: fills `live` slots, then frees them all and
 * reads every component's {@link TallyArena} before and after.
 */
export function bytesAllocatedByFrees(def: SystemDefinition, build: BuildOptions, live: number, orders: Int32Array): { bytes: number; frees: number } {
  const system = buildSystem(def, build);
  const { held, heldOrder } = fillPages(system.pages, live, orders);
  const tally = (): number => Object.values(system.arenas).reduce((sum, a) => sum + ((a as TallyArena).allocatedBytes ?? 0), 0);
  const before = tally();
  for (let i = live - 1; i >= 0; i--) system.pages.freePages(held[i]!, heldOrder[i]!);
  return { bytes: tally() - before, frees: live };
}
