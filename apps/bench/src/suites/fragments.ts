import { probingArena } from "../harness/probe-order.js";
import { FragmentCache, type PageSource } from "@mmkit/frag-cache";
import { MemoryMap, MetadataArena, ProbingArena, formatBytes, type ArrayFactory } from "@mmkit/physmem";
import { MemPool } from "@thi.ng/malloc";
import { churnFloor, churnSlots } from "../floors/index.js";
import { freshLoop } from "../harness/fresh-loop.js";
import type { Contender, Suite, SuiteContext } from "../harness/types.js";
import { SeededRandom } from "../workloads/random.js";

/** Fragments live in the timed churn. */
export const FRAG_LIVE = 10_000;
/** The classic IMIX packet sizes and their 7:4:1 weights. */
export const IMIX = [
  { size: 64, weight: 7 },
  { size: 576, weight: 4 },
  { size: 1500, weight: 1 },
] as const;
/** Bytes of memory behind every page source (4 KiB pages). */
const MEMORY_BYTES = 256 << 20;
const SEQUENCE = 1 << 16;

/**
 * `length` packet sizes in the 7:4:1 IMIX mix, drawn from the run's seed (stream "fragments/imix"),
 * so every contender allocates the same sizes in the same order.
 */
export function imixSizes(seed: number, length = SEQUENCE): Int32Array {
  const rng = new SeededRandom(seed, "fragments/imix");
  const out = new Int32Array(length);
  for (let i = 0; i < length; i++) {
    let r = rng.below(12);
    let k = 0;
    while (r >= IMIX[k]!.weight) r -= IMIX[k++]!.weight;
    out[i] = IMIX[k]!.size;
  }
  return out;
}

/** A page source to build a cache over: a name and a factory (a fresh source per contender). */
interface SourceKind {
  name: string;
  make(): PageSource;
}

/**
 * The simplest page source that fits: a LIFO stack of free order-3 blocks (and nothing of order 0)
 * in an `Int32Array`. It isolates the fragment cache's own cost from the page allocator's.
 */
function pageStack(): PageSource {
  const blocks = MEMORY_BYTES / 32768;
  const stack = new Int32Array(blocks);
  for (let i = 0; i < blocks; i++) stack[i] = (blocks - 1 - i) * 8;
  let top = blocks;
  return {
    allocPages: (order) => (order === 3 && top > 0 ? stack[--top]! : -1),
    freePages: (pfn) => {
      stack[top++] = pfn;
    },
  };
}

/** The narrow shapes the suite needs from the sibling packages, loaded only when their builds exist. */
interface BuddyModule {
  BuddyAllocator: new (map: MemoryMap, options?: { arena?: ArrayFactory }) => { cpu(id: number): PageSource };
}
interface PotadModule {
  Potad: new () => { addSpace(spec: { base: number; size: number; granule: number }): number; pageFace(space: number, pageSize?: number): PageSource };
}

async function tryImport<T>(specifier: string): Promise<T | null> {
  try {
    return (await import(specifier)) as T;
  } catch {
    return null;
  }
}

async function pageSources(ctx: SuiteContext): Promise<SourceKind[]> {
  const kinds: SourceKind[] = [];
  const buddy = await tryImport<BuddyModule>("@mmkit/buddy");
  if (buddy !== null) {
    kinds.push({ name: "buddy (per-CPU)", make: () => new buddy.BuddyAllocator(MemoryMap.uniform(MEMORY_BYTES)).cpu(0) });
  } else ctx.log("@mmkit/buddy is not built (pnpm --filter @mmkit/buddy build): no frag-cache over buddy");
  const potad = await tryImport<PotadModule>("@mmkit/potad");
  if (potad !== null) {
    kinds.push({
      name: "POTAD",
      make: () => {
        const p = new potad.Potad();
        return p.pageFace(p.addSpace({ base: 0, size: MEMORY_BYTES, granule: 4096 }), 4096);
      },
    });
  } else ctx.log("@mmkit/potad is not built (pnpm --filter @mmkit/potad build): no frag-cache over POTAD");
  kinds.push({ name: "Int32Array page stack", make: pageStack });
  return kinds;
}

/** A fragment cache over `source` with FRAG_LIVE fragments allocated (slot i holds sizes[i]). */
function filledCache(source: PageSource, sizes: Int32Array, arena?: ArrayFactory): { cache: FragmentCache; held: Float64Array } {
  const cache = new FragmentCache(source, arena ? { arena } : {});
  const held = new Float64Array(FRAG_LIVE);
  for (let i = 0; i < FRAG_LIVE; i++) {
    held[i] = cache.alloc(sizes[i]!);
    if (held[i] === -1) throw new Error("fragments suite: page source ran out while filling");
  }
  return { cache, held };
}

function fragContender(kind: SourceKind, sizes: Int32Array, slots: Int32Array): Contender {
  return {
    name: `frag-cache / ${kind.name}`,
    setup() {
      const { cache, held } = filledCache(kind.make(), sizes);
      const cursor = Int32Array.of(0);
      // Each cache its own compiled loop: the three contenders must not share JIT feedback.
      const steps = freshLoop(fragSteps);
      return (ops) => steps(cache, sizes, slots, held, cursor, ops);
    },
  };
}

/**
 * The frag-cache contenders' timed loop, at module level with its state passed in (see `Contender`):
 * each op allocates the next IMIX size into a random live slot and frees what the slot held.
 */
function fragSteps(cache: FragmentCache, sizes: Int32Array, slots: Int32Array, held: Float64Array, cursor: Int32Array, ops: number): number {
  const mask = slots.length - 1;
  let c = cursor[0]!;
  let sum = 0;
  for (let i = 0; i < ops; i++) {
    const slot = slots[c]!;
    const a = cache.alloc(sizes[c]!);
    cache.free(held[slot]!);
    held[slot] = a;
    sum += a;
    c = (c + 1) & mask;
  }
  cursor[0] = c;
  return sum;
}

function thingContender(sizes: Int32Array, slots: Int32Array): Contender {
  return {
    name: "@thi.ng/malloc",
    setup() {
      const pool = new MemPool({ size: 64 << 20 });
      const held = new Float64Array(FRAG_LIVE);
      for (let i = 0; i < FRAG_LIVE; i++) held[i] = pool.malloc(sizes[i]!);
      const cursor = Int32Array.of(0);
      return (ops) => thingSteps(pool, sizes, slots, held, cursor, ops);
    },
  };
}

/** `@thi.ng/malloc`'s timed loop: the same churn as {@link fragSteps}, its own function. */
function thingSteps(pool: MemPool, sizes: Int32Array, slots: Int32Array, held: Float64Array, cursor: Int32Array, ops: number): number {
  const mask = slots.length - 1;
  let c = cursor[0]!;
  let sum = 0;
  for (let i = 0; i < ops; i++) {
    const slot = slots[c]!;
    const a = pool.malloc(sizes[c]!);
    pool.free(held[slot]!);
    held[slot] = a;
    sum += a;
    c = (c + 1) & mask;
  }
  cursor[0] = c;
  return sum;
}

/**
 * Replays `ops` IMIX fragments through a cache over the page stack with a given free pattern and
 * returns its stats: how often blocks are recycled in place depends entirely on whether every
 * fragment of a block is gone by the time the block is used up.
 */
function recyclePattern(sizes: Int32Array, slots: Int32Array, pattern: "churn" | "ring" | "burst" | "immediate", ops: number) {
  const mask = sizes.length - 1;
  if (pattern === "churn") {
    const { cache: c, held } = filledCache(pageStack(), sizes);
    c.check();
    const before = c.stats();
    for (let i = 0; i < ops; i++) {
      const a = c.alloc(sizes[i & mask]!);
      c.free(held[slots[i & mask]!]!);
      held[slots[i & mask]!] = a;
    }
    const after = c.stats();
    return { fragments: ops, recycled: after.blocksRecycled - before.blocksRecycled, taken: after.blocksTaken - before.blocksTaken, stats: after };
  }
  const cache = new FragmentCache(pageStack());
  const depth = pattern === "ring" ? 64 : 0;
  const ring = new Float64Array(64).fill(-1);
  for (let i = 0; i < ops; i++) {
    const a = cache.alloc(sizes[i & mask]!);
    if (pattern === "immediate") cache.free(a);
    else if (pattern === "ring") {
      const k = i % depth;
      if (ring[k]! >= 0) cache.free(ring[k]!);
      ring[k] = a;
    } else {
      ring[i % 64] = a;
      if (i % 64 === 63) for (let k = 0; k < 64; k++) cache.free(ring[k]!);
    }
  }
  const s = cache.stats();
  return { fragments: ops, recycled: s.blocksRecycled, taken: s.blocksTaken, stats: s };
}

/** Churn operations run before the steady-state figures, so the block table has grown to its plateau. */
const WARM_OPS = 4 * FRAG_LIVE;

/** `ops` steps of the timed churn (untimed), starting at position `from` of the sequences. */
function churn(cache: FragmentCache, held: Float64Array, sizes: Int32Array, slots: Int32Array, from: number, ops: number): void {
  const mask = slots.length - 1;
  for (let i = 0; i < ops; i++) {
    const k = (from + i) & mask;
    const a = cache.alloc(sizes[k]!);
    cache.free(held[slots[k]!]!);
    held[slots[k]!] = a;
  }
}

/**
 * Distinct 64-byte metadata lines per alloc and per free in the 10k-live churn, from a ProbingArena,
 * after `warm` unprobed operations (a steady state: no table growth inside the probed window).
 */
function probeLines(source: PageSource, sizes: Int32Array, slots: Int32Array, probed: number, warm: number): { alloc: number; free: number } {
  const probe = probingArena();
  const { cache, held } = filledCache(source, sizes, probe);
  churn(cache, held, sizes, slots, 0, warm);
  const mask = slots.length - 1;
  let allocLines = 0;
  let freeLines = 0;
  for (let i = 0; i < probed; i++) {
    const k = (warm + i) & mask;
    const slot = slots[k]!;
    probe.begin();
    const a = cache.alloc(sizes[k]!);
    allocLines += probe.end().lines;
    probe.begin();
    cache.free(held[slot]!);
    freeLines += probe.end().lines;
    held[slot] = a;
  }
  return { alloc: allocLines / probed, free: freeLines / probed };
}

/**
 * Network receive fragments: IMIX packet sizes (7:4:1 of 64, 576 and 1500 bytes) allocated and
 * freed with 10k fragments live, through `@mmkit/frag-cache` over the buddy allocator's per-CPU
 * front, over POTAD's page face (each when its build exists) and over a bare Int32Array page stack,
 * against the Int32Array free-list-stack churn floor and `@thi.ng/malloc` in the same rounds. Also:
 * blocks recycled in place per 1k fragments under four free patterns, metadata bytes after filling
 * and after a warm-up churn (random churn keeps many more blocks held than filling does), and
 * metadata cache lines per alloc and free after the warm-up.
 */
const suite: Suite = {
  name: "fragments",
  description: "Network rx fragments (IMIX 7:4:1 of 64/576/1500 B), 10k live: frag-cache over buddy, POTAD and a page stack vs the Int32Array stack floor and @thi.ng/malloc; recycling in place",
  default: true,
  async run(ctx) {
    const sizes = imixSizes(ctx.seed);
    const slots = churnSlots(ctx.seed, FRAG_LIVE, SEQUENCE);
    const kinds = await pageSources(ctx);
    const workload = `IMIX alloc+free, ${FRAG_LIVE / 1000}k live`;
    const floor = churnFloor(FRAG_LIVE, { seed: ctx.seed });
    ctx.time(workload, [floor, ...kinds.map((k) => fragContender(k, sizes, slots))], { floor: "Int32Array stack", note: "target frag-cache <= 3x" });
    // @thi.ng/malloc walks its free lists (~0.2 ms/op with 10k live): timed in its own set with a
    // fixed small op count beside the same floor, so it neither stretches nor shrinks the rounds above.
    ctx.time(workload, [churnFloor(FRAG_LIVE, { seed: ctx.seed }), thingContender(sizes, slots)], { floor: "Int32Array stack", ops: ctx.quick ? 32 : 128, record: false }).forEach((r) => {
      if (r.name === "@thi.ng/malloc") ctx.record({ system: r.name, workload, metric: "ns/op", value: r.nsPerOp, unit: "ns", spread: r.spread, ratio: r.ratio!, ratioTo: "Int32Array stack", note: `own set, ${r.opsPerRound} ops/round` });
    });

    const warm = ctx.quick ? FRAG_LIVE : WARM_OPS;
    for (const kind of kinds) {
      const arena = new MetadataArena();
      const { cache, held } = filledCache(kind.make(), sizes, arena);
      const system = `frag-cache / ${kind.name}`;
      ctx.record({ system, workload, metric: "metadata, filled", value: arena.bytes, unit: "bytes", note: `${(arena.bytes / FRAG_LIVE).toFixed(1)} B/fragment; ${cache.stats().blocksInUse} blocks` });
      churn(cache, held, sizes, slots, 0, warm);
      cache.check();
      ctx.record({ system, workload, metric: "metadata, churned", value: arena.bytes, unit: "bytes", note: `after ${warm / 1000}k ops: ${(arena.bytes / FRAG_LIVE).toFixed(1)} B/fragment; ${cache.stats().blocksInUse} blocks held` });
      const lines = probeLines(kind.make(), sizes, slots, ctx.quick ? 500 : 2000, warm);
      ctx.record({ system, workload, metric: "lines/alloc", value: lines.alloc, unit: "lines", note: `frag-cache metadata only, after ${warm / 1000}k ops` });
      ctx.record({ system, workload, metric: "lines/free", value: lines.free, unit: "lines" });
    }

    const ops = ctx.quick ? 50_000 : 200_000;
    const patterns = [
      ["churn", `random churn, ${FRAG_LIVE / 1000}k live`],
      ["ring", "FIFO ring, 64 in flight"],
      ["burst", "bursts of 64, freed together"],
      ["immediate", "freed before the next alloc"],
    ] as const;
    for (const [pattern, label] of patterns) {
      const r = recyclePattern(sizes, slots, pattern, ops);
      ctx.record({ system: "frag-cache / Int32Array page stack", workload: "blocks recycled in place", metric: "per 1k frags", value: (r.recycled / r.fragments) * 1000, unit: "count", note: `${label}; ${r.taken} blocks taken` });
      ctx.progress("recycling patterns", patterns.findIndex((p) => p[0] === pattern) + 1, patterns.length);
      if (pattern === "immediate") {
        const s = r.stats;
        const blocks = s.blocksTaken + s.blocksRecycled;
        ctx.record({ system: "frag-cache / Int32Array page stack", workload: "blocks recycled in place", metric: "tail waste", value: (s.bytesWastedTail / (blocks * 32768)) * 100, unit: "%", note: `${formatBytes(s.bytesWastedTail)} over ${blocks} blocks of IMIX (any free pattern)` });
      }
    }
  },
};

export default suite;
