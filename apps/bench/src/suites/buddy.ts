import { probingArena } from "../harness/probe-order.js";
import { BuddyAllocator, MigrateType, type BuddyOptions } from "@mmkit/buddy";
import { freshLoop } from "../harness/fresh-loop.js";
import { GiB, MemoryMap, MetadataArena, MiB, ProbingArena, type ArrayFactory } from "@mmkit/physmem";
import { churnFloor, churnSlots, stackFloor } from "../floors/index.js";
import type { Contender, Suite, SuiteContext } from "../harness/types.js";
import { randomIndices } from "../workloads/random.js";

/** Length of every precomputed random sequence (a power of two). */
const SEQUENCE = 1 << 16;
const FLOOR = "Int32Array stack";
const PER_CPU = "buddy per-CPU";
const FREE_LISTS = "buddy free lists";

/** The page interface both the allocator and its CPU fronts have. */
interface PageSource {
  allocPages(order: number): number;
  freePages(pfn: number, order: number): void;
}

/** A buddy allocator over `bytes` of RAM with the kernel's defaults, allocating Movable pages. */
function makeBuddy(bytes: number, arena: ArrayFactory = new MetadataArena(), options: BuddyOptions = {}): BuddyAllocator {
  return new BuddyAllocator(MemoryMap.uniform(bytes), { arena, defaultMigratetype: MigrateType.Movable, ...options });
}

/** Which face of the allocator a contender drives. */
function face(buddy: BuddyAllocator, perCpu: boolean): PageSource {
  return perCpu ? buddy.cpu(0) : buddy;
}

/**
 * The machine the pair contenders start from: 1001 pages allocated and page 999 freed again, so
 * the order-0 free list holds one page whose buddy is in use: a pair on the free lists neither
 * splits nor merges (the fresh-machine worst case would split and merge an order-10 block); through
 * the per-CPU front a pair is a pop and a push of the CPU's list.
 */
function pairMachine(bytes: number, perCpu: boolean): PageSource {
  const buddy = makeBuddy(bytes);
  const pages = face(buddy, perCpu);
  for (let i = 0; i < 1001; i++) pages.allocPages(0);
  pages.freePages(999, 0);
  return pages;
}

// Each contender's timed loop is its own module-level function with its state passed in (see
// `Contender`): one loop shared by the per-CPU front and the allocator would see both receivers and
// compile a polymorphic call, and a loop written inside `setup`'s closure is specialised on that
// closure only for the first contender built at the site.

/** Order-0 alloc+free pairs through CPU 0's per-CPU lists. */
function pairsPerCpu(name: string, bytes: number): Contender {
  return {
    name,
    setup() {
      const pages = pairMachine(bytes, true);
      return (ops) => perCpuPairs(pages, ops);
    },
  };
}

function perCpuPairs(pages: PageSource, ops: number): number {
  let sum = 0;
  for (let i = 0; i < ops; i++) {
    const pfn = pages.allocPages(0);
    pages.freePages(pfn, 0);
    sum = (sum + pfn) | 0;
  }
  return sum;
}

/** Order-0 alloc+free pairs straight on the free lists. */
function pairsFreeLists(name: string, bytes: number): Contender {
  return {
    name,
    setup() {
      const pages = pairMachine(bytes, false);
      return (ops) => freeListPairs(pages, ops);
    },
  };
}

function freeListPairs(pages: PageSource, ops: number): number {
  let sum = 0;
  for (let i = 0; i < ops; i++) {
    const pfn = pages.allocPages(0);
    pages.freePages(pfn, 0);
    sum = (sum + pfn) | 0;
  }
  return sum;
}

/** Fills `live` slots with blocks of the sequence's orders. */
function fill(pages: PageSource, live: number, orders: Int32Array): { held: Float64Array; heldOrder: Int32Array } {
  const held = new Float64Array(live);
  const heldOrder = new Int32Array(live);
  const mask = orders.length - 1;
  for (let i = 0; i < live; i++) {
    const order = orders[i & mask]!;
    heldOrder[i] = order;
    held[i] = pages.allocPages(order);
  }
  return { held, heldOrder };
}

/** What a churn loop walks: the held blocks, the slot and order sequences, and its cursor. */
interface ChurnState {
  held: Float64Array;
  heldOrder: Int32Array;
  slots: Int32Array;
  orders: Int32Array;
  cursor: Int32Array;
}

function churnState(pages: PageSource, live: number, slots: Int32Array, orders: Int32Array): ChurnState {
  return { ...fill(pages, live, orders), slots, orders, cursor: new Int32Array(1) };
}

/**
 * Churn: `live` slots hold a block each; every op frees the block of the next slot in the seeded
 * sequence and allocates a new one (of the sequence's order) into it, as {@link churnFloor} does
 * with its stack. Through CPU 0's per-CPU lists. Each contender gets its own compiled copy of
 * {@link pageChurn}: every CPU front is an instance of a class of its own (so V8 knows its arrays), and
 * one loop that saw the fronts of the 10k, 100k and mixed machines would dispatch on all of them.
 */
function churnPerCpu(name: string, bytes: number, live: number, slots: Int32Array, orders: Int32Array): Contender {
  return {
    name,
    setup() {
      const pages = makeBuddy(bytes).cpu(0);
      const state = churnState(pages, live, slots, orders);
      const loop = freshLoop(pageChurn);
      return (ops) => loop(pages, state, ops);
    },
  };
}

/** Free the next slot's block, allocate one of the sequence's order into it. Self-contained, for {@link freshLoop}. */
function pageChurn(pages: PageSource, state: ChurnState, ops: number): number {
  const { held, heldOrder, slots, orders, cursor } = state;
  const mask = slots.length - 1;
  let c = cursor[0]!;
  let sum = 0;
  for (let i = 0; i < ops; i++) {
    const slot = slots[c]!;
    const order = orders[c]!;
    c = (c + 1) & mask;
    pages.freePages(held[slot]!, heldOrder[slot]!);
    const pfn = pages.allocPages(order);
    held[slot] = pfn;
    heldOrder[slot] = order;
    sum = (sum + pfn) | 0;
  }
  cursor[0] = c;
  return sum;
}

/** The same churn straight on the free lists. */
function churnFreeLists(name: string, bytes: number, live: number, slots: Int32Array, orders: Int32Array): Contender {
  return {
    name,
    setup() {
      const pages = makeBuddy(bytes);
      const state = churnState(pages, live, slots, orders);
      const loop = freshLoop(pageChurn);
      return (ops) => loop(pages, state, ops);
    },
  };
}

/** Mean distinct 64-byte lines per alloc and per free over `ops` churn steps, from a ProbingArena. */
function churnLines(bytes: number, perCpu: boolean, live: number, ops: number, slots: Int32Array, orders: Int32Array): { alloc: number; free: number } {
  const arena = probingArena();
  const pages = face(makeBuddy(bytes, arena), perCpu);
  const { held, heldOrder } = fill(pages, live, orders);
  // Warm up (fill the per-CPU lists to their steady state), then count.
  const mask = slots.length - 1;
  let c = 0;
  let alloc = 0;
  let free = 0;
  for (let i = 0; i < 2 * ops; i++) {
    const slot = slots[c]!;
    const order = orders[c]!;
    c = (c + 1) & mask;
    const counting = i >= ops;
    const f = arena.measure(() => pages.freePages(held[slot]!, heldOrder[slot]!));
    const a = arena.measure(() => pages.allocPages(order));
    if (counting) {
      free += f.lines;
      alloc += a.lines;
    }
    held[slot] = a.value;
    heldOrder[slot] = order;
  }
  return { alloc: alloc / ops, free: free / ops };
}

/** Mean lines per op of order-0 alloc+free pairs (the `pairs` workload), alloc and free counted apart. */
function pairLines(bytes: number, perCpu: boolean, ops: number): { alloc: number; free: number } {
  const arena = probingArena();
  const pages = face(makeBuddy(bytes, arena), perCpu);
  for (let i = 0; i < 1001; i++) pages.allocPages(0);
  pages.freePages(999, 0);
  let alloc = 0;
  let free = 0;
  for (let i = 0; i < ops; i++) {
    const a = arena.measure(() => pages.allocPages(0));
    free += arena.measure(() => pages.freePages(a.value, 0)).lines;
    alloc += a.lines;
  }
  return { alloc: alloc / ops, free: free / ops };
}

interface HighOrderResult {
  attempts: number;
  succeeded: number;
  unusable: number;
  extfrag: number;
  fallbacks: number;
  steals: number;
  unmovableBlocks: number;
}

/**
 * The fragmenting workload, then order-9 attempts (the kernel's stress-highalloc shape): through a
 * CPU front, seeded allocations of orders 0-3 (70 % Movable, 20 % Unmovable, 10 % Reclaimable)
 * with random frees, until 90 % of RAM is in use; then every Movable page is freed (page cache
 * dropped or migrated away), the per-CPU lists drained, and as many order-9 allocations tried as
 * the free pages could hold. Unmovable and Reclaimable pages pin their pageblocks: how many
 * pageblocks they pollute is what mobility grouping is for.
 */
function highOrderAfterFragmentation(seed: number, bytes: number, options: BuddyOptions): HighOrderResult {
  const buddy = makeBuddy(bytes, new MetadataArena(), options);
  const cpu = buddy.cpu(0);
  const kinds = randomIndices(seed, "buddy/fragment-kinds", SEQUENCE, 10);
  const orders = randomIndices(seed, "buddy/fragment-orders", SEQUENCE, 4);
  const frees = randomIndices(seed, "buddy/fragment-frees", SEQUENCE, 1 << 20);
  const held: number[] = [];
  const heldOrder: number[] = [];
  const heldType: number[] = [];
  const target = Math.floor(buddy.managedPages() * 0.9);
  let used = 0;
  for (let i = 0; used < target; i++) {
    const k = i & (SEQUENCE - 1);
    // One step in three frees a random held block, so the types interleave in time.
    if (i % 3 === 2 && held.length > 0) {
      const j = frees[k]! % held.length;
      cpu.freePages(held[j]!, heldOrder[j]!);
      used -= 2 ** heldOrder[j]!;
      held[j] = held[held.length - 1]!;
      heldOrder[j] = heldOrder[heldOrder.length - 1]!;
      heldType[j] = heldType[heldType.length - 1]!;
      held.pop();
      heldOrder.pop();
      heldType.pop();
      continue;
    }
    const kind = kinds[k]!;
    const mt = kind < 7 ? MigrateType.Movable : kind < 9 ? MigrateType.Unmovable : MigrateType.Reclaimable;
    const order = mt === MigrateType.Movable ? orders[k]! : orders[k]! & 1;
    const pfn = cpu.allocPages(order, { migratetype: mt });
    if (pfn < 0) break;
    held.push(pfn);
    heldOrder.push(order);
    heldType.push(mt);
    used += 2 ** order;
  }
  for (let j = 0; j < held.length; j++) if (heldType[j] === MigrateType.Movable) cpu.freePages(held[j]!, heldOrder[j]!);
  buddy.drainAll();
  const unusable = buddy.unusableFreeIndex(9);
  const extfrag = buddy.fragmentationIndex(9);
  const attempts = Math.floor(buddy.freePageCount() / 512);
  let succeeded = 0;
  for (let a = 0; a < attempts; a++) if (buddy.allocPages(9, { migratetype: MigrateType.Movable, noWatermarks: true }) >= 0) succeeded++;
  buddy.check();
  const counters = buddy.counters();
  return {
    attempts,
    succeeded,
    unusable,
    extfrag,
    fallbacks: counters.fallbacks,
    steals: counters.pageblockSteals,
    unmovableBlocks: buddy.pagetypeinfo()[0]!.pageblocks[MigrateType.Unmovable]!,
  };
}

function timed(ctx: SuiteContext, workload: string, contenders: Contender[], note?: string): void {
  const results = ctx.time(workload, contenders, { floor: FLOOR, ...(note !== undefined ? { note } : {}) });
  const cpu = results.find((r) => r.name === PER_CPU);
  if (cpu?.ratio !== undefined) ctx.log(`${workload}: per-CPU front at ${cpu.ratio.toFixed(2)}x the Int32Array stack floor`);
}

/**
 * The buddy allocator against the Int32Array free-list floor, through its per-CPU front and
 * straight on its free lists: order-0 alloc+free pairs, churn with 10k and 100k live pages, mixed
 * orders 0-3, cache lines per operation from the probe, metadata bytes per page, and the order-9
 * success rate after a fragmenting workload with and without mobility grouping and pageblock
 * stealing.
 */
const suite: Suite = {
  name: "buddy",
  description: "Linux-style buddy allocator vs the Int32Array floor: order-0 pairs with/without per-CPU lists, 10k/100k-live churn, mixed orders 0-3, lines/op, order-9 success after fragmentation",
  default: true,
  run(ctx) {
    const ram = ctx.quick ? 512 * MiB : GiB;
    const seed = ctx.seed;
    const zeros = new Int32Array(SEQUENCE);
    const mixed = randomIndices(seed, "buddy/orders", SEQUENCE, 4);

    // Order-0 alloc+free pairs.
    const pairWorkload = "order-0 alloc+free pairs";
    timed(ctx, pairWorkload, [stackFloor(), pairsPerCpu(PER_CPU, ram), pairsFreeLists(FREE_LISTS, ram)], "target: per-CPU <= 3x floor");

    // Churn with 10k and 100k live pages (order 0), and mixed orders 0-3 with 10k live blocks.
    const lives = ctx.quick ? [10_000] : [10_000, 100_000];
    lives.forEach((live) => {
      const slots = churnSlots(seed, live, SEQUENCE);
      const workload = `order-0 churn, ${live / 1000}k live`;
      timed(ctx, workload, [churnFloor(live, { seed, sequence: SEQUENCE }), churnPerCpu(PER_CPU, ram, live, slots, zeros), churnFreeLists(FREE_LISTS, ram, live, slots, zeros)], "same slot sequence");
    });
    const mixedLive = 10_000;
    const mixedSlots = churnSlots(seed, mixedLive, SEQUENCE);
    const mixedWorkload = `mixed orders 0-3 churn, ${mixedLive / 1000}k live`;
    timed(ctx, mixedWorkload, [churnFloor(mixedLive, { seed, sequence: SEQUENCE }), churnPerCpu(PER_CPU, ram, mixedLive, mixedSlots, mixed), churnFreeLists(FREE_LISTS, ram, mixedLive, mixedSlots, mixed)], "floor: order-0 stack");

    // Cache lines per operation (probe), on a smaller machine of the same shape.
    ctx.progress("probing cache lines", 0, 4);
    const probeRam = 256 * MiB;
    const probeOps = ctx.quick ? 500 : 2000;
    for (const [perCpu, name] of [[true, PER_CPU], [false, FREE_LISTS]] as const) {
      const p = pairLines(probeRam, perCpu, probeOps);
      ctx.record({ system: name, workload: pairWorkload, metric: "lines/alloc", value: p.alloc, unit: "lines" });
      ctx.record({ system: name, workload: pairWorkload, metric: "lines/free", value: p.free, unit: "lines" });
      const live = 10_000;
      const slots = churnSlots(seed, live, SEQUENCE);
      const z = churnLines(probeRam, perCpu, live, probeOps, slots, zeros);
      ctx.record({ system: name, workload: `order-0 churn, 10k live`, metric: "lines/alloc", value: z.alloc, unit: "lines" });
      ctx.record({ system: name, workload: `order-0 churn, 10k live`, metric: "lines/free", value: z.free, unit: "lines" });
      const m = churnLines(probeRam, perCpu, mixedLive, probeOps, mixedSlots, mixed);
      ctx.record({ system: name, workload: mixedWorkload, metric: "lines/alloc", value: m.alloc, unit: "lines" });
      ctx.record({ system: name, workload: mixedWorkload, metric: "lines/free", value: m.free, unit: "lines" });
      ctx.progress("probing cache lines", perCpu ? 2 : 4, 4);
    }
    ctx.record({ system: FLOOR, workload: pairWorkload, metric: "lines/alloc", value: 1, unit: "lines", note: "next[head]" });

    // Metadata per page.
    const arena = new MetadataArena();
    const sized = makeBuddy(ram, arena);
    ctx.record({ system: "buddy", workload: "metadata", metric: "bytes/page", value: arena.bytes / sized.managedPages(), unit: "bytes", note: "64-byte struct page + free_area, zone, pcp, pageblock flags" });

    // Order-9 success after fragmentation, per policy.
    const policies: [string, BuddyOptions][] = [
      ["buddy (mobility grouping, pageblock stealing)", {}],
      ["buddy (no pageblock stealing)", { stealWholeBlocks: false }],
      ["buddy (no mobility grouping)", { groupByMobility: false }],
    ];
    const highWorkload = "order-9 after fragmentation";
    policies.forEach(([name, options], i) => {
      ctx.progress(highWorkload, i, policies.length);
      const r = highOrderAfterFragmentation(seed, ram, options);
      const note = `${r.succeeded}/${r.attempts} order-9 blocks`;
      ctx.record({ system: name, workload: highWorkload, metric: "success", value: r.attempts > 0 ? (100 * r.succeeded) / r.attempts : 0, unit: "%", note });
      ctx.record({ system: name, workload: highWorkload, metric: "unusable_free_index(9)", value: r.unusable, unit: "x1000" });
      ctx.record({ system: name, workload: highWorkload, metric: "fragmentation_index(9)", value: r.extfrag, unit: "x1000" });
      ctx.record({ system: name, workload: highWorkload, metric: "fallbacks", value: r.fallbacks, unit: "count" });
      ctx.record({ system: name, workload: highWorkload, metric: "unmovable pageblocks", value: r.unmovableBlocks, unit: "count" });
      ctx.log(`${highWorkload}, ${name}: ${note}, unusable ${r.unusable}, extfrag ${r.extfrag}, ${r.fallbacks} fallbacks, ${r.steals} pageblocks stolen`);
    });
    ctx.progress(highWorkload, policies.length, policies.length);
  },
};

export default suite;
