import { type ArrayFactory, GiB, KiB, MemoryMap, MetadataArena, MiB, ProbingArena } from "@mmkit/physmem";
import { Potad } from "@mmkit/potad";
import { churnFloor, churnSlots } from "../floors/index.js";
import type { Contender, Suite, SuiteContext } from "../harness/types.js";
import { randomIndices } from "../workloads/random.js";

/** What the suite needs from a page allocator: the `PageSource` shape both POTAD's page face and the buddy allocator have. */
interface PageAllocator {
  allocPages(order: number): number;
  freePages(pfn: number, order: number): void;
}

/** Makes a buddy allocator over `bytes` of RAM, or null when `@mmkit/buddy` is not built. */
type BuddyFactory = ((bytes: number, arena: ArrayFactory) => PageAllocator) | null;

async function loadBuddy(): Promise<BuddyFactory> {
  try {
    const name = "@mmkit/buddy";
    const mod = (await import(/* @vite-ignore */ name)) as { BuddyAllocator: new (map: MemoryMap, options: { arena: ArrayFactory }) => PageAllocator };
    return (bytes, arena) => new mod.BuddyAllocator(MemoryMap.uniform(bytes), { arena });
  } catch {
    return null;
  }
}

const RAM = GiB;
const SEQUENCE = 1 << 16;

/** A churn over page orders: `live` slots; each op frees a slot's block and allocates one of the next order into it. */
function pageChurn(name: string, make: () => PageAllocator, live: number, slots: Int32Array, orders: Int32Array): Contender {
  return {
    name,
    setup() {
      const pages = make();
      const held = new Float64Array(live);
      const heldOrder = new Int32Array(live);
      for (let i = 0; i < live; i++) {
        heldOrder[i] = orders[i]!;
        held[i] = pages.allocPages(orders[i]!);
      }
      let c = 0;
      const mask = slots.length - 1;
      return (ops) => {
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
        return sum;
      };
    },
  };
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
      let c = 0;
      const mask = slots.length - 1;
      return (ops) => {
        let sum = 0;
        for (let i = 0; i < ops; i++) {
          const slot = slots[c]!;
          const order = orders[c]!;
          c = (c + 1) & mask;
          potad.free(held[slot]!);
          const address = potad.allocOrder(s, order);
          held[slot] = address;
          sum = (sum + (address / 4096)) | 0;
        }
        return sum;
      };
    },
  };
}

/** Sub-page allocations of 512 B..64 KiB, each with a 360-byte descriptor registered in the index. */
function subPageChurn(name: string, live: number, slots: Int32Array, sizes: Int32Array): Contender {
  return {
    name,
    setup() {
      const potad = new Potad();
      const s = potad.addSpace({ base: 0, size: RAM, granule: 512 });
      const held = new Float64Array(live);
      for (let i = 0; i < live; i++) held[i] = potad.alloc(s, 512 << sizes[i]!, { descriptor: i, descriptorBytes: 360 });
      const options = { descriptor: 0, descriptorBytes: 360 };
      let c = 0;
      const mask = slots.length - 1;
      return (ops) => {
        let sum = 0;
        for (let i = 0; i < ops; i++) {
          const slot = slots[c]!;
          const size = 512 << sizes[c]!;
          c = (c + 1) & mask;
          sum = (sum + potad.free(held[slot]!)) | 0;
          options.descriptor = c;
          held[slot] = potad.alloc(s, size, options);
        }
        return sum;
      };
    },
  };
}

/** Mean distinct cache lines per op of `ops` churn steps after filling `live` slots, counted by a ProbingArena. */
function linesPerOp(make: (arena: ProbingArena) => PageAllocator, live: number, ops: number, slots: Int32Array, orders: Int32Array): number {
  const arena = new ProbingArena();
  const pages = make(arena);
  const held = new Float64Array(live);
  const heldOrder = new Int32Array(live);
  for (let i = 0; i < live; i++) {
    heldOrder[i] = orders[i]!;
    held[i] = pages.allocPages(orders[i]!);
  }
  let lines = 0;
  for (let i = 0; i < ops; i++) {
    const slot = slots[i]!;
    const order = orders[i]!;
    lines += arena.measure(() => pages.freePages(held[slot]!, heldOrder[slot]!)).lines;
    const probe = arena.measure(() => pages.allocPages(order));
    lines += probe.lines;
    held[slot] = probe.value;
    heldOrder[slot] = order;
  }
  return lines / (2 * ops);
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
    const potadPages = (arena: ArrayFactory): PageAllocator => {
      const potad = new Potad({ arena });
      return potad.pageFace(potad.addSpace({ base: 0, size: RAM, granule: 4096 }));
    };

    for (const [label, orders] of [["order-0", zeros], ["mixed orders 0-3", mixed]] as const) {
      const workload = `${label} churn, ${live / 1000}k live`;
      const contenders: Contender[] = [
        churnFloor(live, { seed: ctx.seed }),
        potadChurn("potad", live, slots, orders),
        pageChurn("potad page face", () => potadPages(new MetadataArena()), live, slots, orders),
      ];
      if (buddy !== null) contenders.push(pageChurn("buddy", () => buddy(RAM, new MetadataArena()), live, slots, orders));
      const results = ctx.time(workload, contenders, { floor });
      const ops = ctx.quick ? 500 : 2_000;
      const potadLines = linesPerOp(potadPages, live, ops, slots, orders);
      ctx.record({ system: "potad page face", workload, metric: "lines/op", value: potadLines, unit: "lines" });
      if (buddy !== null) {
        const buddyLines = linesPerOp((arena) => buddy(RAM, arena), live, ops, slots, orders);
        ctx.record({ system: "buddy", workload, metric: "lines/op", value: buddyLines, unit: "lines" });
        const p = results.find((r) => r.name === "potad page face")!;
        const b = results.find((r) => r.name === "buddy")!;
        ctx.record({ system: "potad page face", workload, metric: "speed vs buddy", value: b.nsPerOp / p.nsPerOp, unit: "ratio", note: label.startsWith("mixed") ? "target >= 1.5x" : undefined });
        ctx.record({ system: "potad page face", workload, metric: "lines vs buddy", value: potadLines / buddyLines, unit: "ratio", note: label.startsWith("mixed") ? "target <= 0.5" : undefined });
      }
    }

    const subLive = ctx.quick ? 1_000 : 4_000;
    const subSlots = churnSlots(ctx.seed, subLive, SEQUENCE);
    const sizes = randomIndices(ctx.seed, "potad/sub-page-sizes", SEQUENCE, 8); // 512 << 0..7 = 512 B..64 KiB
    const subWorkload = `512 B..64 KiB + descriptors, ${subLive / 1000}k live`;
    ctx.time(subWorkload, [churnFloor(subLive, { seed: ctx.seed }), subPageChurn("potad + SortedRangeIndex", subLive, subSlots, sizes)], { floor, note: "buddy has no sub-page sizes" });
    ctx.record({ system: "potad + SortedRangeIndex", workload: subWorkload, metric: "descriptor", value: 360, unit: "bytes", note: "per allocation, any size" });

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
