import { probingArena } from "../harness/probe-order.js";
import { BuddyAllocator, MigrateType } from "@mmkit/buddy";
import { MapleDescriptorTable, MemdescType, MemmapTable, encodeMemdesc, type DescriptorTable } from "@mmkit/memdesc-lookup";
import { GiB, MemoryMap, MetadataArena, MiB, ProbingArena, type ArrayFactory } from "@mmkit/physmem";
import { Potad } from "@mmkit/potad";
import { freshLoop } from "../harness/fresh-loop.js";
import type { Contender } from "../harness/types.js";
import { SeededRandom } from "./random.js";
import { WARM_UP_OPS } from "./system-churn.js";

/**
 * The parts of the `scale` suite: each page allocator and descriptor table built for a live set of
 * `live` pages on a machine that grows with it ({@link scaleMachineBytes}), a churn contender per
 * part (one module-level loop per kind, a `freshLoop` copy per contender, {@link WARM_UP_OPS}
 * untimed steps in `setup`) and a probe that counts its cache lines per operation.
 */

/** Largest machine the scale points build: 16 GiB of managed memory (4M pages). */
export const MAX_SCALE_BYTES = 16 * GiB;

/**
 * RAM for a live set of `live` 4 KiB pages: four times the live bytes, rounded up to a power of two,
 * at least 16 MiB and at most {@link MAX_SCALE_BYTES}. 1k live: 16 MiB, 10k: 256 MiB, 100k: 2 GiB,
 * 1M: 16 GiB (a quarter of it live).
 *
 * @example
 * ```ts
 * scaleMachineBytes(1_000_000) === 16 * GiB;   // true
 * ```
 */
export function scaleMachineBytes(live: number): number {
  const bytes = 2 ** Math.ceil(Math.log2(live * 4096 * 4));
  return Math.min(MAX_SCALE_BYTES, Math.max(16 * MiB, bytes));
}

/** The page interface of every allocator face measured here. */
export interface PageFace {
  allocPages(order: number): number;
  freePages(pfn: number, order: number): void;
}

/** The page allocators measured at scale, by contender name. */
export const PAGE_ALLOCATORS = ["buddy per-CPU", "buddy free lists", "potad", "potad page face"] as const;
export type PageAllocatorName = (typeof PAGE_ALLOCATORS)[number];

/** The descriptor tables measured at scale, by contender name. */
export const DESCRIPTOR_TABLES = ["maple", "memmap-64", "memdesc-8"] as const;
export type DescriptorTableName = (typeof DESCRIPTOR_TABLES)[number];

/** POTAD driven through its own API (byte addresses, free without an order), as a page face for the churn. */
class PotadPages implements PageFace {
  readonly #potad: Potad;
  readonly #space: number;

  constructor(potad: Potad, space: number) {
    this.#potad = potad;
    this.#space = space;
  }

  allocPages(order: number): number {
    const address = this.#potad.allocOrder(this.#space, order);
    return address < 0 ? -1 : address / 4096;
  }

  freePages(pfn: number): void {
    this.#potad.free(pfn * 4096);
  }
}

/**
 * A page allocator of `bytes` RAM, its metadata from `arena`: the buddy allocator (CPU 0's per-CPU
 * front, or its free lists; Movable pages), POTAD with a 4 KiB granule through its own
 * `allocOrder`/`free`, or POTAD's page face.
 *
 * @example
 * ```ts
 * const pages = makePageAllocator("buddy per-CPU", 256 * MiB);
 * pages.freePages(pages.allocPages(0), 0);
 * ```
 */
export function makePageAllocator(name: PageAllocatorName, bytes: number, arena: ArrayFactory = new MetadataArena()): PageFace {
  if (name === "buddy per-CPU" || name === "buddy free lists") {
    const buddy = new BuddyAllocator(MemoryMap.uniform(bytes), { arena, defaultMigratetype: MigrateType.Movable });
    return name === "buddy per-CPU" ? buddy.cpu(0) : buddy;
  }
  const potad = new Potad({ arena });
  const space = potad.addSpace({ base: 0, size: bytes, granule: 4096 });
  return name === "potad" ? new PotadPages(potad, space) : potad.pageFace(space);
}

/**
 * A descriptor table covering `bytes` of RAM: the maple tree (one entry per allocation), the
 * 64-byte memmap (`struct page`) or the 8-byte memdesc array. Cost: a memmap allocates and
 * initialises its whole array (64 or 8 bytes per page); the tree starts empty.
 *
 * @example
 * ```ts
 * const table = makeDescriptorTable("memdesc-8", 16 * MiB);
 * table.set(5, 5, encodeMemdesc(MemdescType.Anon, 16));
 * ```
 */
export function makeDescriptorTable(name: DescriptorTableName, bytes: number, arena: ArrayFactory = new MetadataArena()): DescriptorTable {
  if (name === "maple") return new MapleDescriptorTable({ arena });
  return new MemmapTable({ pages: bytes / 4096, bytesPerPage: name === "memmap-64" ? 64 : 8, arena });
}

/** A churn over a page face: `live` order-0 pages held, slot `slots[c]` freed and refilled per op. */
export interface PageChurnState {
  held: Float64Array;
  slots: Int32Array;
  cursor: Int32Array;
}

/**
 * Fills `live` slots with order-0 pages; throws when the machine cannot hold them. O(live) allocations.
 *
 * @example
 * ```ts
 * const state = fillPageChurn(makePageAllocator("potad", 16 * MiB), 1000, churnSlots(seed, 1000));
 * ```
 */
export function fillPageChurn(pages: PageFace, live: number, slots: Int32Array): PageChurnState {
  const held = new Float64Array(live);
  for (let i = 0; i < live; i++) {
    held[i] = pages.allocPages(0);
    if (held[i]! < 0) throw new Error(`the machine is too small for ${live} live pages (slot ${i})`);
  }
  return { held, slots, cursor: new Int32Array(1) };
}

/** The timed page churn (self-contained, for `freshLoop`): free a slot's page, allocate one into it. */
function pageChurnSteps(pages: PageFace, state: PageChurnState, ops: number): number {
  const held = state.held;
  const slots = state.slots;
  const mask = slots.length - 1;
  let c = state.cursor[0]!;
  let sum = 0;
  for (let i = 0; i < ops; i++) {
    const slot = slots[c]!;
    c = (c + 1) & mask;
    pages.freePages(held[slot]!, 0);
    const pfn = pages.allocPages(0);
    held[slot] = pfn;
    sum = (sum + pfn) | 0;
  }
  state.cursor[0] = c;
  return sum;
}

/**
 * Order-0 churn through page allocator `name` with `live` pages held on a machine of `bytes`: per
 * op one `freePages` and one `allocPages` (O(1) for every allocator here). {@link WARM_UP_OPS}
 * untimed steps in `setup`.
 *
 * @example
 * ```ts
 * ctx.time("churn", [churnFloor(live, { seed }), pageAllocatorChurn("potad", bytes, live, slots)], { floor: "Int32Array stack" });
 * ```
 */
export function pageAllocatorChurn(name: PageAllocatorName, bytes: number, live: number, slots: Int32Array): Contender {
  return {
    name,
    setup() {
      const pages = makePageAllocator(name, bytes);
      const state = fillPageChurn(pages, live, slots);
      const loop = freshLoop(pageChurnSteps);
      loop(pages, state, WARM_UP_OPS);
      return (ops) => loop(pages, state, ops);
    },
  };
}

/**
 * The state of a descriptor-table churn: `live` pfns recorded, a FIFO ring of the machine's other
 * pfns (so a new record lands where an allocator that reuses its oldest free page would put it),
 * the slot sequence and one memdesc per sequence position.
 */
export interface TableChurnState {
  held: Int32Array;
  ring: Int32Array;
  /** Ring head (next pfn to hand out) and sequence cursor. */
  cursor: Int32Array;
  slots: Int32Array;
  memdescs: Float64Array;
}

/**
 * The machine's pfns in a seeded random order: the first `live` are recorded, the rest form the
 * free ring. One per machine, shared by its tables. O(pages).
 *
 * @example
 * ```ts
 * tablePfns(16 * MiB, seed).length;   // 4096, each pfn once
 * ```
 */
export function tablePfns(bytes: number, seed: number): Int32Array {
  const pages = bytes / 4096;
  const order = new Int32Array(pages);
  for (let i = 0; i < pages; i++) order[i] = i;
  const rng = new SeededRandom(seed, "scale/table-pfns");
  for (let i = pages - 1; i > 0; i--) {
    const j = rng.below(i + 1);
    const t = order[i]!;
    order[i] = order[j]!;
    order[j] = t;
  }
  return order;
}

/**
 * Records the first `live` pfns of `pfns` ({@link tablePfns}) as single pages in `table`, in that
 * (random) order, so the maple tree starts in the shape a random live set gives it, not the packed
 * shape of an address-order fill (which moved the churn's cost: 6x dearer at 10k and 1.5x at 1M in
 * one measurement here, though it fills 2x faster at 1M); the rest of `pfns` is the free ring.
 * O(live) stores.
 *
 * @example
 * ```ts
 * const state = fillTable(table, tablePfns(bytes, seed), 1000, churnSlots(seed, 1000));
 * ```
 */
export function fillTable(table: DescriptorTable, pfns: Int32Array, live: number, slots: Int32Array): TableChurnState {
  const memdescs = new Float64Array(slots.length);
  for (let i = 0; i < memdescs.length; i++) memdescs[i] = encodeMemdesc(MemdescType.Anon, (i + 1) * 16);
  const held = pfns.slice(0, live);
  for (let i = 0; i < live; i++) table.set(held[i]!, held[i]!, memdescs[i & (memdescs.length - 1)]!);
  return { held, ring: pfns.slice(live), cursor: new Int32Array(2), slots, memdescs };
}

/** The timed table churn (self-contained, for `freshLoop`): erase a slot's record, store the ring's next pfn. */
function tableChurnSteps(table: DescriptorTable, state: TableChurnState, ops: number): number {
  const held = state.held;
  const ring = state.ring;
  const slots = state.slots;
  const memdescs = state.memdescs;
  const mask = slots.length - 1;
  let head = state.cursor[0]!;
  let c = state.cursor[1]!;
  let sum = 0;
  for (let i = 0; i < ops; i++) {
    const slot = slots[c]!;
    const old = held[slot]!;
    sum = (sum + table.clear(old)) | 0;
    const pfn = ring[head]!;
    ring[head] = old;
    head = head + 1 === ring.length ? 0 : head + 1;
    table.set(pfn, pfn, memdescs[c]!);
    held[slot] = pfn;
    c = (c + 1) & mask;
  }
  state.cursor[0] = head;
  state.cursor[1] = c;
  return sum;
}

/** A table built and filled once, shared by its churn and its lookup contenders (both keep `held` live). */
export interface BuiltTable {
  name: DescriptorTableName;
  table: DescriptorTable;
  state: TableChurnState;
}

/**
 * Builds table `name` for a `bytes` machine and records `live` pages of `pfns` in it (see
 * {@link fillTable}).
 *
 * @example
 * ```ts
 * const maple = buildTable("maple", bytes, live, slots, tablePfns(bytes, seed));
 * ctx.time("erase+store", [churnFloor(live), tableChurn(maple)], { floor: "Int32Array stack" });
 * ```
 */
export function buildTable(name: DescriptorTableName, bytes: number, live: number, slots: Int32Array, pfns: Int32Array): BuiltTable {
  const table = makeDescriptorTable(name, bytes);
  return { name, table, state: fillTable(table, pfns, live, slots) };
}

/**
 * Erase+store churn of single-page records through a built table: per op one `clear` and one
 * `set` (the maple tree's erase and store; two word writes of a memmap). {@link WARM_UP_OPS}
 * untimed steps in `setup`.
 *
 * @example
 * ```ts
 * tableChurn(buildTable("memmap-64", bytes, live, slots, pfns));
 * ```
 */
export function tableChurn(built: BuiltTable): Contender {
  return {
    name: built.name,
    setup() {
      const loop = freshLoop(tableChurnSteps);
      loop(built.table, built.state, WARM_UP_OPS);
      return (ops) => loop(built.table, built.state, ops);
    },
  };
}

/** The timed lookup (self-contained, for `freshLoop`): the memdesc of a random live pfn. */
function tableLookupSteps(table: DescriptorTable, held: Int32Array, queries: Int32Array, cursor: Int32Array, ops: number): number {
  const mask = queries.length - 1;
  let c = cursor[0]!;
  let sum = 0;
  for (let i = 0; i < ops; i++) {
    sum = (sum + table.get(held[queries[c]!]!)) | 0;
    c = (c + 1) & mask;
  }
  cursor[0] = c;
  return sum;
}

/**
 * Lookups (pfn -> memdesc) of random live pfns of a built table; `queries` are slot indices. One
 * `get` per op (a tree walk, or one word of a memmap).
 *
 * @example
 * ```ts
 * tableLookup(maple, randomIndices(seed, "scale/lookups", 1 << 16, live));
 * ```
 */
export function tableLookup(built: BuiltTable, queries: Int32Array): Contender {
  return {
    name: built.name,
    setup() {
      const loop = freshLoop(tableLookupSteps);
      const cursor = new Int32Array(1);
      loop(built.table, built.state.held, queries, cursor, WARM_UP_OPS);
      return (ops) => loop(built.table, built.state.held, queries, cursor, ops);
    },
  };
}

function flatLookupSteps(flat: Int32Array, held: Int32Array, queries: Int32Array, cursor: Int32Array, ops: number): number {
  const mask = queries.length - 1;
  let c = cursor[0]!;
  let sum = 0;
  for (let i = 0; i < ops; i++) {
    sum = (sum + flat[held[queries[c]!]!]!) | 0;
    c = (c + 1) & mask;
  }
  cursor[0] = c;
  return sum;
}

/** Name of the lookup floor. */
export const FLAT_LOOKUP = "flat Int32Array";

/**
 * The lookup floor: a flat `Int32Array` of the machine's pages holding each live pfn's slot, read at
 * the same random live pfns (a copy of `held` when built) as the tables' lookups. Two loads per op.
 *
 * @example
 * ```ts
 * ctx.time("lookup", [flatTableLookup(bytes, maple.state.held, queries), tableLookup(maple, queries)], { floor: FLAT_LOOKUP });
 * ```
 */
export function flatTableLookup(bytes: number, held: Int32Array, queries: Int32Array): Contender {
  return {
    name: FLAT_LOOKUP,
    setup() {
      const flat = new Int32Array(bytes / 4096).fill(-1);
      const mine = held.slice();
      for (let i = 0; i < mine.length; i++) flat[mine[i]!] = i;
      const cursor = new Int32Array(1);
      return (ops) => flatLookupSteps(flat, mine, queries, cursor, ops);
    },
  };
}

/** Distinct 64-byte lines per operation: alloc and free (or store and erase) averaged. */
export interface ScaleLines {
  /** Mean lines per alloc, per free, and per operation (their mean). */
  alloc: number;
  free: number;
  op: number;
}

/**
 * Lines per op of the order-0 churn of page allocator `name` at `live`, from a `ProbingArena`
 * build: fill, `warmup` uncounted churn steps (the fronts and tables reach their steady state),
 * then `ops` counted. Cost: every array access of the fill goes through a Proxy (about 30x slower),
 * so keep `live` to the tens of thousands in a default run.
 *
 * @example
 * ```ts
 * pageAllocatorLines("buddy per-CPU", 16 * MiB, 1000, slots, 200, 200).op;   // 3 (pcp, zone, the page)
 * ```
 */
export function pageAllocatorLines(name: PageAllocatorName, bytes: number, live: number, slots: Int32Array, ops: number, warmup: number): ScaleLines {
  const arena = probingArena();
  const pages = makePageAllocator(name, bytes, arena);
  const { held } = fillPageChurn(pages, live, slots);
  const mask = slots.length - 1;
  let alloc = 0;
  let free = 0;
  for (let i = 0; i < warmup + ops; i++) {
    const slot = slots[i & mask]!;
    const f = arena.measure(() => pages.freePages(held[slot]!, 0));
    const a = arena.measure(() => pages.allocPages(0));
    held[slot] = a.value;
    if (i >= warmup) {
      free += f.lines;
      alloc += a.lines;
    }
  }
  return { alloc: alloc / ops, free: free / ops, op: (alloc + free) / (2 * ops) };
}

/**
 * Lines per lookup of random live pfns, then per erase+store of the churn (store counted as alloc,
 * erase as free), of table `name` at `live`, from one `ProbingArena` build. Cost as
 * {@link pageAllocatorLines}.
 *
 * @example
 * ```ts
 * tableLines("memdesc-8", 16 * MiB, 1000, slots, pfns, queries, 200).lookup;   // 1
 * ```
 */
export function tableLines(name: DescriptorTableName, bytes: number, live: number, slots: Int32Array, pfns: Int32Array, queries: Int32Array, ops: number): { lookup: number; churn: ScaleLines } {
  const arena = probingArena();
  const table = makeDescriptorTable(name, bytes, arena);
  const s = fillTable(table, pfns, live, slots);
  const mask = slots.length - 1;
  let lookup = 0;
  for (let i = 0; i < ops; i++) lookup += arena.measure(() => table.get(s.held[queries[i & (queries.length - 1)]!]!)).lines;
  let store = 0;
  let erase = 0;
  let head = 0;
  for (let i = 0; i < ops; i++) {
    const slot = slots[i & mask]!;
    const old = s.held[slot]!;
    erase += arena.measure(() => table.clear(old)).lines;
    const pfn = s.ring[head]!;
    s.ring[head] = old;
    head = (head + 1) % s.ring.length;
    store += arena.measure(() => table.set(pfn, pfn, s.memdescs[i & mask]!)).lines;
    s.held[slot] = pfn;
  }
  return { lookup: lookup / ops, churn: { alloc: store / ops, free: erase / ops, op: (store + erase) / (2 * ops) } };
}
