import { probingArena } from "../harness/probe-order.js";
import { type ArrayFactory, GiB, KiB, MemoryMap, MetadataArena, MiB, ProbingArena } from "@mmkit/physmem";
import { MapleTree } from "@mmkit/memdesc-lookup";
import { type DescriptorIndex, Potad, SortedRangeIndex } from "@mmkit/potad";
import { churnFloor, churnSlots } from "../floors/index.js";
import { freshLoop } from "../harness/fresh-loop.js";
import type { Contender, Suite, SuiteContext } from "../harness/types.js";
import { randomIndices } from "../workloads/random.js";
import { WARM_UP_OPS } from "../workloads/system-churn.js";

/** What the suite needs from a page allocator: the `PageSource` shape both POTAD's page face and the buddy allocator have. */
interface PageAllocator {
  allocPages(order: number): number;
  freePages(pfn: number, order: number): void;
}

/** The buddy allocator's two faces over `bytes` of RAM: its plain free-list path and CPU 0's per-CPU front. */
interface BuddyFactory {
  plain(bytes: number, arena: ArrayFactory): PageAllocator;
  perCpu(bytes: number, arena: ArrayFactory): PageAllocator;
}

interface BuddyLike extends PageAllocator {
  cpu(index: number): PageAllocator;
}

/** The buddy allocator's faces, or null when `@mmkit/buddy` is not built. */
async function loadBuddy(): Promise<BuddyFactory | null> {
  try {
    const name = "@mmkit/buddy";
    const mod = (await import(/* @vite-ignore */ name)) as { BuddyAllocator: new (map: MemoryMap, options: { arena: ArrayFactory }) => BuddyLike };
    return {
      plain: (bytes, arena) => new mod.BuddyAllocator(MemoryMap.uniform(bytes), { arena }),
      perCpu: (bytes, arena) => new mod.BuddyAllocator(MemoryMap.uniform(bytes), { arena }).cpu(0),
    };
  } catch {
    return null;
  }
}

const RAM = GiB;
const SEQUENCE = 1 << 16;
const BUDDY = "buddy free lists";
const BUDDY_PCP = "buddy per-CPU";
const FACE = "potad page face";

/** The churn state every page contender carries: held pfns, their orders, the sequence cursor. */
interface Held {
  pfns: Float64Array;
  orders: Int32Array;
  cursor: Int32Array;
}

function fillPages(pages: PageAllocator, live: number, orders: Int32Array): Held {
  const held: Held = { pfns: new Float64Array(live), orders: new Int32Array(live), cursor: new Int32Array(1) };
  for (let i = 0; i < live; i++) {
    held.orders[i] = orders[i]!;
    held.pfns[i] = pages.allocPages(orders[i]!);
  }
  return held;
}

// A churn over page orders: `live` slots; each op frees a slot's block and allocates one of the
// next order into it. One loop serves the buddy, its per-CPU front and POTAD's page face, each
// contender running its own compiled copy (`freshLoop`): a shared copy would see several
// allocators' call targets and slow whichever ran second.

/** A page face over a fresh POTAD space of RAM, churned like the buddy. */
function facePages(name: string, live: number, slots: Int32Array, orders: Int32Array): Contender {
  return pagesContender(name, () => {
    const potad = new Potad();
    return potad.pageFace(potad.addSpace({ base: 0, size: RAM, granule: 4096 }));
  }, live, slots, orders);
}

function pagesContender(name: string, make: () => PageAllocator, live: number, slots: Int32Array, orders: Int32Array): Contender {
  return {
    name,
    setup() {
      const pages = make();
      const held = fillPages(pages, live, orders);
      const churn = freshLoop(pageChurn);
      return (ops) => churn(pages, held, slots, orders, ops);
    },
  };
}

/** The timed loop (self-contained for `freshLoop`): free a random slot's block, allocate the next order into it. */
function pageChurn(pages: PageAllocator, held: Held, slots: Int32Array, orders: Int32Array, ops: number): number {
  const mask = slots.length - 1;
  const pfns = held.pfns;
  const heldOrders = held.orders;
  let c = held.cursor[0]!;
  let sum = 0;
  for (let i = 0; i < ops; i++) {
    const slot = slots[c]!;
    const order = orders[c]!;
    c = (c + 1) & mask;
    pages.freePages(pfns[slot]!, heldOrders[slot]!);
    const pfn = pages.allocPages(order);
    pfns[slot] = pfn;
    heldOrders[slot] = order;
    sum = (sum + pfn) | 0;
  }
  held.cursor[0] = c;
  return sum;
}

/** POTAD's own API (byte addresses, free without a size) on the same churn. */
function potadChurn(name: string, live: number, slots: Int32Array, orders: Int32Array): Contender {
  return {
    name,
    setup() {
      const potad = new Potad();
      const s = potad.addSpace({ base: 0, size: RAM, granule: 4096 });
      const held = new Float64Array(live);
      for (let i = 0; i < live; i++) held[i] = potad.allocOrder(s, orders[i]!);
      const cursor = new Int32Array(1);
      return (ops) => potadSteps(potad, s, held, cursor, slots, orders, ops);
    },
  };
}

function potadSteps(potad: Potad, s: number, held: Float64Array, cursor: Int32Array, slots: Int32Array, orders: Int32Array, ops: number): number {
  const mask = slots.length - 1;
  let c = cursor[0]!;
  let sum = 0;
  for (let i = 0; i < ops; i++) {
    const slot = slots[c]!;
    const order = orders[c]!;
    c = (c + 1) & mask;
    potad.free(held[slot]!);
    const address = potad.allocOrder(s, order);
    held[slot] = address;
    sum = (sum + address / 4096) | 0;
  }
  cursor[0] = c;
  return sum;
}

/**
 * Sub-page allocations of 512 B..64 KiB over `space` bytes, each with a 360-byte descriptor
 * registered in the index `index()` makes (undefined: POTAD's default), or, with `index` null, the
 * same churn with no descriptors (what the descriptors cost is the ratio between the two).
 */
function subPageChurn(name: string, live: number, space: number, slots: Int32Array, sizes: Int32Array, index: (() => DescriptorIndex) | undefined | null): Contender {
  return {
    name,
    setup() {
      const potad = new Potad(index ? { descriptorIndex: index() } : {});
      const s = potad.addSpace({ base: 0, size: space, granule: 512 });
      const held = new Float64Array(live);
      const options = index === null ? undefined : { descriptor: 0, descriptorBytes: 360 };
      for (let i = 0; i < live; i++) {
        if (options) options.descriptor = i;
        held[i] = potad.alloc(s, 512 << sizes[i]!, options);
      }
      const cursor = new Int32Array(1);
      // Its own compiled loop, and WARM_UP_OPS untimed steps before calibration: without them the
      // "potad + maple tree" row measured the maple tree's write path before V8 had optimised it
      // (calibration stopped at 256 ops per call after one cold call, so the whole timing was ~10k
      // steps, most of them interpreted: 4-46 us/op against 0.8-1.6 us in a plain loop).
      const steps = freshLoop(subPageSteps);
      steps(potad, s, held, cursor, slots, sizes, options, WARM_UP_OPS);
      return (ops) => steps(potad, s, held, cursor, slots, sizes, options, ops);
    },
  };
}

/** The timed loop (self-contained for `freshLoop`): free a slot's block, allocate the next size with its descriptor. */
function subPageSteps(potad: Potad, s: number, held: Float64Array, cursor: Int32Array, slots: Int32Array, sizes: Int32Array, options: { descriptor: number; descriptorBytes: number } | undefined, ops: number): number {
  const mask = slots.length - 1;
  let c = cursor[0]!;
  let sum = 0;
  for (let i = 0; i < ops; i++) {
    const slot = slots[c]!;
    const size = 512 << sizes[c]!;
    c = (c + 1) & mask;
    sum = (sum + potad.free(held[slot]!)) | 0;
    if (options !== undefined) options.descriptor = c;
    held[slot] = potad.alloc(s, size, options);
  }
  cursor[0] = c;
  return sum;
}

/**
 * Mean distinct cache lines per op (free and alloc counted apart) of `ops` churn steps, counted by
 * a ProbingArena, after filling `live` slots and `ops` unmeasured steps to reach the steady state
 * (POTAD's fronts fill up, its table stops growing).
 */
function linesPerOp(make: (arena: ProbingArena) => PageAllocator, live: number, ops: number, slots: Int32Array, orders: Int32Array): { free: number; alloc: number; op: number } {
  const arena = probingArena();
  const pages = make(arena);
  const held = new Float64Array(live);
  const heldOrder = new Int32Array(live);
  for (let i = 0; i < live; i++) {
    heldOrder[i] = orders[i]!;
    held[i] = pages.allocPages(orders[i]!);
  }
  let freeLines = 0;
  let allocLines = 0;
  for (let i = 0; i < 2 * ops; i++) {
    const slot = slots[i]!;
    const order = orders[i]!;
    const freed = arena.measure(() => pages.freePages(held[slot]!, heldOrder[slot]!)).lines;
    const probe = arena.measure(() => pages.allocPages(order));
    if (i >= ops) {
      freeLines += freed;
      allocLines += probe.lines;
    }
    held[slot] = probe.value;
    heldOrder[slot] = order;
  }
  return { free: freeLines / ops, alloc: allocLines / ops, op: (freeLines + allocLines) / (2 * ops) };
}

/**
 * Fragments a space: fills it with random orders 0-3, frees all but a random `keepShare` of the
 * blocks (scattered pinned pages), then counts the 8 MiB allocations served (at most `attempts`),
 * naturally aligned and at 1 MiB.
 */
function contiguousAfterFragmentation(ctx: SuiteContext, attempts: number, keepShare: number): { aligned: number; weak: number; freeBytes: number; largest: number } {
  const out = { aligned: 0, weak: 0, freeBytes: 0, largest: 0 };
  for (const weak of [false, true]) {
    const potad = new Potad();
    const s = potad.addSpace({ base: 0, size: RAM, granule: 4096 });
    const orders = randomIndices(ctx.seed, "potad/fragment-orders", SEQUENCE, 4);
    const held: number[] = [];
    for (let i = 0; ; i++) {
      const address = potad.allocOrder(s, orders[i % orders.length]!);
      if (address < 0) break;
      held.push(address);
    }
    const picks = randomIndices(ctx.seed, "potad/fragment-frees", SEQUENCE, 1 << 30);
    for (let i = 0; i < held.length; i++) if (picks[i % SEQUENCE]! >= keepShare * (1 << 30)) potad.free(held[i]!);
    const stats = potad.stats(s);
    out.freeBytes = stats.freeBytes;
    out.largest = stats.largestFreeBlock;
    let ok = 0;
    for (let k = 0; k < attempts; k++) if (potad.alloc(s, 8 * MiB, weak ? { alignment: MiB } : undefined) >= 0) ok++;
    if (weak) out.weak = ok;
    else out.aligned = ok;
    potad.check();
  }
  return out;
}

/**
 * POTAD against the buddy allocator (when `@mmkit/buddy` is built) and the Int32Array free-list
 * floor, on the same seeded workloads: order-0 churn, mixed orders 0-3 churn, 512 B..64 KiB
 * sub-page allocations with descriptors, 8 MiB@1 MiB success after fragmentation, and cache lines
 * per operation from the probe.
 */
const suite: Suite = {
  name: "potad",
  description: "POTAD vs buddy vs the Int32Array floor: order-0 and mixed 0-3 churn, 512 B..64 KiB with descriptors, 8 MiB@1 MiB after fragmentation, lines/op",
  default: true,
  async run(ctx) {
    const buddy = await loadBuddy();
    if (buddy === null) ctx.log("@mmkit/buddy is not built: buddy contenders skipped (pnpm --filter @mmkit/buddy build)");
    const live = ctx.quick ? 2_000 : 10_000;
    const slots = churnSlots(ctx.seed, live, SEQUENCE);
    const floor = "Int32Array stack";
    const zeros = new Int32Array(SEQUENCE);
    const mixed = randomIndices(ctx.seed, "potad/orders", SEQUENCE, 4);
    const potadPages = (arena: ArrayFactory, frontHigh?: number): PageAllocator => {
      const potad = new Potad({ arena, frontHigh });
      return potad.pageFace(potad.addSpace({ base: 0, size: RAM, granule: 4096 }));
    };

    // Every timing first, every probe after: the ProbingArena's Proxies would otherwise reach the
    // allocators' code before a later timing and leave it compiled for both kinds of array.
    const workloads = [["order-0", zeros], ["mixed orders 0-3", mixed]] as const;
    const timings = workloads.map(([label, orders]) => {
      const contenders: Contender[] = [churnFloor(live, { seed: ctx.seed }), potadChurn("potad", live, slots, orders), facePages(FACE, live, slots, orders)];
      if (buddy !== null) {
        contenders.push(pagesContender(BUDDY, () => buddy.plain(RAM, new MetadataArena()), live, slots, orders));
        contenders.push(pagesContender(BUDDY_PCP, () => buddy.perCpu(RAM, new MetadataArena()), live, slots, orders));
      }
      return ctx.time(`${label} churn, ${live / 1000}k live`, contenders, { floor });
    });
    // (Timed before the probes below, like every timing here.) Descriptors at 4k live and, on request (MMKIT_BENCH_POTAD_1M=1: about 20 s more, mostly filling),
    // at 1M live, where a search tree's depth and misses would show. Target: the default index
    // costs at most 3x the same churn without descriptors.
    const subSizes = ctx.quick ? [1_000] : process.env.MMKIT_BENCH_POTAD_1M === "1" ? [4_000, 1_000_000] : [4_000];
    for (const subLive of subSizes) {
      const subSlots = churnSlots(ctx.seed, subLive, SEQUENCE);
      const sizes = randomIndices(ctx.seed, "potad/sub-page-sizes", SEQUENCE, 8); // 512 << 0..7 = 512 B..64 KiB
      const space = subLive > 10_000 ? 64 * GiB : RAM; // 1M blocks of 16 KiB on average need 16 GiB
      const label = subLive >= 1_000_000 ? `${subLive / 1_000_000}M` : `${subLive / 1000}k`;
      const subWorkload = `512 B..64 KiB + descriptors, ${label} live`;
      const contenders = [
        churnFloor(subLive, { seed: ctx.seed }),
        subPageChurn("potad, no descriptors", subLive, space, subSlots, sizes, null),
        subPageChurn("potad + AlignedBlockIndex (default)", subLive, space, subSlots, sizes, undefined),
        subPageChurn("potad + maple tree", subLive, space, subSlots, sizes, () => new MapleTree()),
      ];
      // The sorted array moves every entry after the position: O(n) per op, only at 4k.
      if (subLive <= 10_000) contenders.push(subPageChurn("potad + SortedRangeIndex", subLive, space, subSlots, sizes, () => new SortedRangeIndex()));
      ctx.time(subWorkload, contenders, { floor, note: "buddy has no sub-page sizes; target: default index <= 3x no descriptors" });
      ctx.record({ system: "potad + AlignedBlockIndex (default)", workload: subWorkload, metric: "descriptor", value: 360, unit: "bytes", note: "per allocation, any size" });
    }

    workloads.forEach(([label, orders], w) => {
      const workload = `${label} churn, ${live / 1000}k live`;
      const target = label.startsWith("mixed");
      const results = timings[w]!;
      const ops = ctx.quick ? 500 : 2_000;
      const lines = (system: string, make: (arena: ProbingArena) => PageAllocator): number => {
        const l = linesPerOp(make, live, ops, slots, orders);
        ctx.record({ system, workload, metric: "lines/op", value: l.op, unit: "lines", note: `free ${l.free.toFixed(2)}, alloc ${l.alloc.toFixed(2)}` });
        return l.op;
      };
      const potadLines = lines(FACE, (arena) => potadPages(arena));
      lines("potad page face, no fronts", (arena) => potadPages(arena, 0));
      if (buddy !== null) {
        const buddyLines = lines(BUDDY, (arena) => buddy.plain(RAM, arena));
        const pcpLines = lines(BUDDY_PCP, (arena) => buddy.perCpu(RAM, arena));
        const p = results.find((r) => r.name === FACE)!;
        for (const [name, other] of [[BUDDY, buddyLines], [BUDDY_PCP, pcpLines]] as const) {
          const b = results.find((r) => r.name === name)!;
          ctx.record({ system: FACE, workload, metric: name === BUDDY ? "speed vs buddy" : "speed vs pcp", value: b.nsPerOp / p.nsPerOp, unit: "ratio", note: target && name === BUDDY ? "target >= 1.5x" : undefined });
          ctx.record({ system: FACE, workload, metric: name === BUDDY ? "lines vs buddy" : "lines vs pcp", value: potadLines / other, unit: "ratio", note: target && name === BUDDY ? "target <= 0.5" : undefined });
        }
      }
    });

    ctx.progress("fragmenting 1 GiB", 0, 1);
    const attempts = RAM / (8 * MiB);
    const frag = contiguousAfterFragmentation(ctx, attempts, 1 / 1024);
    ctx.progress("fragmenting 1 GiB", 1, 1);
    const fragWorkload = "8 MiB allocs, 1 GiB with 1/1024 blocks pinned";
    ctx.record({ system: "potad, 8 MiB aligned", workload: fragWorkload, metric: "served", value: (100 * frag.aligned) / attempts, unit: "%", note: `${frag.aligned} of ${attempts} possible` });
    ctx.record({ system: "potad, 8 MiB @ 1 MiB", workload: fragWorkload, metric: "served", value: (100 * frag.weak) / attempts, unit: "%", note: `${frag.weak} of ${attempts} possible` });
    ctx.record({ system: "buddy", workload: fragWorkload, metric: "served", value: 0, unit: "%", note: "8 MiB is above MAX_ORDER (4 MiB)" });
    ctx.log(`after fragmentation: ${(frag.freeBytes / MiB).toFixed(0)} MiB free, largest free block ${frag.largest / KiB} KiB`);
  },
};

export default suite;
