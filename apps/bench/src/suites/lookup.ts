import { probingArena } from "../harness/probe-order.js";
import BTreeModule from "sorted-btree";
import { GiB, MetadataArena, ProbingArena, type ArrayFactory } from "@mmkit/physmem";
import { MapleTree, MemdescType, MemmapTable, encodeMemdesc, type DescriptorTable } from "@mmkit/memdesc-lookup";
import { flatLookupFloor, lookupQueries } from "../floors/index.js";
import { freshLoop } from "../harness/fresh-loop.js";
import type { Contender, Suite, SuiteContext } from "../harness/types.js";
import { binarySearchLookup, sortedBtreeLookup } from "../peers/index.js";
import { SeededRandom, randomIndices } from "../workloads/random.js";
import { flatTable, type RangeLayout } from "../workloads/ranges.js";

// sorted-btree is CommonJS with `exports.default = BTree` (see peers/range-lookup.ts).
const BTree = ((BTreeModule as unknown as { default?: typeof BTreeModule }).default ?? BTreeModule) as typeof BTreeModule;
type NumberTree = InstanceType<typeof BTree<number, number>>;

const PAGE = 4096;

/**
 * Ranges laid end to end, some of them holes: range `i` covers `[starts[i], starts[i + 1])` and is
 * a hole when `hole[i]` is 1. The bench's lookup peers (flat table, binary search, sorted-btree)
 * index every range, holes included; the maple tree and memmaps hold only the real ones.
 */
interface HoleyLayout extends RangeLayout {
  readonly hole: Uint8Array;
  /** Memdesc of each range (-1 for holes). */
  readonly memdesc: Float64Array;
}

/** 1M ranges of 1-8 pages (orders 0-3) with holes of the same sizes before about one range in four: an 18 GiB span. */
function rangesWithHoles(seed: number, ranges: number): HoleyLayout {
  const rng = new SeededRandom(seed, "lookup/ranges");
  const cap = ranges * 2 + 1;
  const starts = new Int32Array(cap);
  const hole = new Uint8Array(cap);
  const memdesc = new Float64Array(cap).fill(-1);
  let count = 0;
  let pfn = 0;
  for (let i = 0; i < ranges; i++) {
    if (rng.below(4) === 0) {
      starts[count] = pfn;
      hole[count++] = 1;
      pfn += 1 << rng.below(4);
    }
    starts[count] = pfn;
    memdesc[count++] = encodeMemdesc(MemdescType.Anon, i * 16);
    pfn += 1 << rng.below(4);
  }
  starts[count] = pfn;
  return { count, pages: pfn, starts: starts.subarray(0, count + 1), hole: hole.subarray(0, count), memdesc: memdesc.subarray(0, count) };
}

/**
 * `count` one-page ranges at distinct random pfns below `pages`, with the holes between them: the
 * shape of order-0 descriptors on a small machine, where a whole tree sits in the CPU caches.
 */
function scatteredPages(seed: number, count: number, pages: number): HoleyLayout {
  const rng = new SeededRandom(seed, "lookup/scattered");
  const taken = new Uint8Array(pages);
  for (let placed = 0; placed < count; ) {
    const p = rng.below(pages);
    if (taken[p] === 0) {
      taken[p] = 1;
      placed++;
    }
  }
  const starts = new Int32Array(2 * count + 2);
  const hole = new Uint8Array(2 * count + 1);
  const memdesc = new Float64Array(2 * count + 1).fill(-1);
  let n = 0;
  let end = 0; // first pfn not yet described
  for (let p = 0; p < pages; p++) {
    if (taken[p] === 0) continue;
    if (p > end) {
      starts[n] = end;
      hole[n++] = 1;
    }
    starts[n] = p;
    memdesc[n++] = encodeMemdesc(MemdescType.Anon, p * 16);
    end = p + 1;
  }
  starts[n] = end;
  return { count: n, pages: end, starts: starts.subarray(0, n + 1), hole: hole.subarray(0, n), memdesc: memdesc.subarray(0, n) };
}

/** Folio kinds of the realistic machine: type, orders, and the share of memory they hold. */
const FOLIO_MIX: ReadonlyArray<{ type: number; minOrder: number; maxOrder: number; share: number }> = [
  { type: MemdescType.Anon, minOrder: 9, maxOrder: 9, share: 0.25 }, // THPs
  { type: MemdescType.Buddy, minOrder: 0, maxOrder: 10, share: 0.15 }, // free blocks
  { type: MemdescType.File, minOrder: 0, maxOrder: 0, share: 0.15 },
  { type: MemdescType.File, minOrder: 2, maxOrder: 2, share: 0.08 },
  { type: MemdescType.File, minOrder: 4, maxOrder: 4, share: 0.07 },
  { type: MemdescType.Anon, minOrder: 0, maxOrder: 0, share: 0.15 },
  { type: MemdescType.Slab, minOrder: 0, maxOrder: 3, share: 0.08 },
  { type: MemdescType.PageTable, minOrder: 0, maxOrder: 0, share: 0.03 },
  { type: MemdescType.NetPool, minOrder: 0, maxOrder: 2, share: 0.04 },
];

/** A machine of `bytes` RAM fully described by folios of {@link FOLIO_MIX}, in random order. */
function machine(seed: number, bytes: number): HoleyLayout {
  const rng = new SeededRandom(seed, "lookup/machine");
  const pages = bytes / PAGE;
  // Pick each kind with probability proportional to share / mean pages, so memory ends up split by share.
  const weights = FOLIO_MIX.map((k) => {
    let mean = 0;
    for (let o = k.minOrder; o <= k.maxOrder; o++) mean += 2 ** o / (k.maxOrder - k.minOrder + 1);
    return k.share / mean;
  });
  const total = weights.reduce((a, b) => a + b, 0);
  const cumulative = weights.map((_, i) => weights.slice(0, i + 1).reduce((a, b) => a + b, 0) / total);
  const starts: number[] = [];
  const memdesc: number[] = [];
  let pfn = 0;
  while (pfn < pages) {
    const u = rng.float();
    const k = FOLIO_MIX[cumulative.findIndex((c) => u < c)] ?? FOLIO_MIX[FOLIO_MIX.length - 1]!;
    const order = k.minOrder + rng.below(k.maxOrder - k.minOrder + 1);
    const size = Math.min(2 ** order, pages - pfn);
    starts.push(pfn);
    memdesc.push(encodeMemdesc(k.type, starts.length * 16));
    pfn += size;
  }
  const count = starts.length;
  starts.push(pfn);
  return { count, pages: pfn, starts: Int32Array.from(starts), hole: new Uint8Array(count), memdesc: Float64Array.from(memdesc) };
}

/** A maple tree holding the layout's real ranges, built by bulk load. */
function mapleOf(layout: HoleyLayout, arena: ArrayFactory = new MetadataArena()): MapleTree {
  const n = layout.count;
  const firsts: number[] = [];
  const lasts: number[] = [];
  const values: number[] = [];
  for (let i = 0; i < n; i++) {
    if (layout.hole[i] === 1) continue;
    firsts.push(layout.starts[i]!);
    lasts.push(layout.starts[i + 1]! - 1);
    values.push(layout.memdesc[i]!);
  }
  const tree = new MapleTree({ arena });
  tree.bulkLoad(firsts, lasts, values);
  return tree;
}

function memmapOf(layout: HoleyLayout, bytesPerPage: number, arena: ArrayFactory = new MetadataArena()): MemmapTable {
  const table = new MemmapTable({ pages: layout.pages, bytesPerPage, arena });
  for (let i = 0; i < layout.count; i++) if (layout.hole[i] === 0) table.set(layout.starts[i]!, layout.starts[i + 1]! - 1, layout.memdesc[i]!);
  return table;
}

// Every timed loop below sits at module level with its state passed in and its mutable scalars in
// locals (the `Contender` contract in harness/types.ts): a loop inside a `setup` closure is only
// specialised for the first closure made at its site, which made the second maple, memmap and
// Float64Array-search contenders of a run slower than the first. Loops that several contenders
// use are compiled once per contender (`freshLoop`), so none inherits another's JIT feedback.

/** Maple `load` over the same random pfns as the floor. */
function mapleLookup(name: string, make: () => MapleTree, layout: RangeLayout, seed: number): Contender {
  return {
    name,
    setup() {
      const tree = make();
      const queries = lookupQueries(seed, layout);
      const cursor = Int32Array.of(0);
      const loads = freshLoop(mapleLoads);
      return (ops) => loads(tree, queries, cursor, ops);
    },
  };
}

function mapleLoads(tree: MapleTree, queries: Int32Array, cursor: Int32Array, ops: number): number {
  const mask = queries.length - 1;
  let c = cursor[0]!;
  let sum = 0;
  for (let i = 0; i < ops; i++) {
    const v = tree.load(queries[c]!);
    c = (c + 1) & mask;
    if (v !== undefined) sum = (sum + v) | 0;
  }
  cursor[0] = c;
  return sum;
}

/** Queries per `loadMany` call in the batched contender: a receive or pin batch of 64 pages. */
const BATCH = 64;

/** Maple `loadMany` over the same random pfns, 64 per call (the query ring cut into views in setup). */
function mapleBatchLookup(name: string, make: () => MapleTree, layout: RangeLayout, seed: number): Contender {
  return {
    name,
    setup() {
      const tree = make();
      const queries = lookupQueries(seed, layout);
      const batches: Int32Array[] = [];
      for (let i = 0; i < queries.length; i += BATCH) batches.push(queries.subarray(i, i + BATCH));
      const out = new Float64Array(BATCH);
      const cursor = Int32Array.of(0);
      const loads = freshLoop(mapleBatchLoads);
      return (ops) => loads(tree, batches, out, cursor, ops);
    },
  };
}

/** Whole batches only: `ops` rounds up to a multiple of 64 lookups (the harness divides by `ops`, a multiple of 256). */
function mapleBatchLoads(tree: MapleTree, batches: Int32Array[], out: Float64Array, cursor: Int32Array, ops: number): number {
  const mask = batches.length - 1;
  let c = cursor[0]!;
  let sum = 0;
  const batch = out.length;
  for (let i = 0; i < ops; i += batch) {
    tree.loadMany(batches[c]!, out);
    c = (c + 1) & mask;
    for (let j = 0; j < batch; j++) {
      const v = out[j]!;
      if (v === v) sum = (sum + v) | 0;
    }
  }
  cursor[0] = c;
  return sum;
}

/** `DescriptorTable.get` over the same random pfns. */
function tableLookup(name: string, make: () => DescriptorTable, layout: RangeLayout, seed: number): Contender {
  return {
    name,
    setup() {
      const table = make();
      const queries = lookupQueries(seed, layout);
      const cursor = Int32Array.of(0);
      const gets = freshLoop(tableGets);
      return (ops) => gets(table, queries, cursor, ops);
    },
  };
}

function tableGets(table: DescriptorTable, queries: Int32Array, cursor: Int32Array, ops: number): number {
  const mask = queries.length - 1;
  let c = cursor[0]!;
  let sum = 0;
  for (let i = 0; i < ops; i++) {
    sum = (sum + table.get(queries[c]!)) | 0;
    c = (c + 1) & mask;
  }
  cursor[0] = c;
  return sum;
}

// Dependent chains: each lookup's address waits for the previous result (`+ (prev >>> 31)` adds 0
// for the non-negative results here, but the CPU cannot know), so what is timed is the latency of
// one lookup, not how many a core overlaps. Every contender gets the same chain.

function chainFlat(layout: RangeLayout, seed: number): Contender {
  return {
    name: "flat Int32Array",
    setup() {
      const table = flatTable(layout);
      const queries = lookupQueries(seed, layout);
      const state = new Float64Array(2); // query cursor, previous result
      return (ops) => flatChain(table, queries, state, ops);
    },
  };
}

function flatChain(table: Int32Array, queries: Int32Array, state: Float64Array, ops: number): number {
  const mask = queries.length - 1;
  let c = state[0]!;
  let prev = state[1]!;
  let sum = 0;
  for (let i = 0; i < ops; i++) {
    prev = table[queries[c]! + (prev >>> 31)]!;
    c = (c + 1) & mask;
    sum = (sum + prev) | 0;
  }
  state[0] = c;
  state[1] = prev;
  return sum;
}

function chainMaple(layout: HoleyLayout, seed: number): Contender {
  return {
    name: "maple tree",
    setup() {
      const tree = mapleOf(layout);
      const queries = lookupQueries(seed, layout);
      const state = new Float64Array(2);
      return (ops) => mapleChain(tree, queries, state, ops);
    },
  };
}

function mapleChain(tree: MapleTree, queries: Int32Array, state: Float64Array, ops: number): number {
  const mask = queries.length - 1;
  let c = state[0]!;
  let prev = state[1]!;
  let sum = 0;
  for (let i = 0; i < ops; i++) {
    const v = tree.load(queries[c]! + (prev >>> 31));
    prev = v === undefined ? 0 : v;
    c = (c + 1) & mask;
    sum = (sum + prev) | 0;
  }
  state[0] = c;
  state[1] = prev;
  return sum;
}

function chainBinarySearch(layout: RangeLayout, seed: number): Contender {
  return {
    name: "binary search (Int32Array)",
    setup() {
      const queries = lookupQueries(seed, layout);
      const state = new Float64Array(2);
      return (ops) => int32SearchChain(layout.starts, layout.count, queries, state, ops);
    },
  };
}

function int32SearchChain(starts: Int32Array, count: number, queries: Int32Array, state: Float64Array, ops: number): number {
  const mask = queries.length - 1;
  let c = state[0]!;
  let prev = state[1]!;
  let sum = 0;
  for (let i = 0; i < ops; i++) {
    const pfn = queries[c]! + (prev >>> 31);
    c = (c + 1) & mask;
    let lo = 0;
    let hi = count - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >>> 1;
      if (starts[mid]! <= pfn) lo = mid;
      else hi = mid - 1;
    }
    prev = lo;
    sum = (sum + lo) | 0;
  }
  state[0] = c;
  state[1] = prev;
  return sum;
}

/** Binary search over the sorted range starts kept in a `Float64Array` (8 bytes per range, indices up to 2^53). */
function float64BinarySearch(layout: RangeLayout, seed: number, chained: boolean): Contender {
  return {
    name: "binary search (Float64Array)",
    setup() {
      const starts = Float64Array.from(layout.starts);
      const queries = lookupQueries(seed, layout);
      const state = new Float64Array(2);
      return chained ? (ops) => float64SearchChain(starts, layout.count, queries, state, ops) : (ops) => float64Searches(starts, layout.count, queries, state, ops);
    },
  };
}

function float64Searches(starts: Float64Array, count: number, queries: Int32Array, state: Float64Array, ops: number): number {
  const mask = queries.length - 1;
  let c = state[0]!;
  let sum = 0;
  for (let i = 0; i < ops; i++) {
    const pfn = queries[c]!;
    c = (c + 1) & mask;
    let lo = 0;
    let hi = count - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >>> 1;
      if (starts[mid]! <= pfn) lo = mid;
      else hi = mid - 1;
    }
    sum = (sum + lo) | 0;
  }
  state[0] = c;
  return sum;
}

function float64SearchChain(starts: Float64Array, count: number, queries: Int32Array, state: Float64Array, ops: number): number {
  const mask = queries.length - 1;
  let c = state[0]!;
  let prev = state[1]!;
  let sum = 0;
  for (let i = 0; i < ops; i++) {
    const pfn = queries[c]! + (prev >>> 31);
    c = (c + 1) & mask;
    let lo = 0;
    let hi = count - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >>> 1;
      if (starts[mid]! <= pfn) lo = mid;
      else hi = mid - 1;
    }
    prev = lo;
    sum = (sum + lo) | 0;
  }
  state[0] = c;
  state[1] = prev;
  return sum;
}

function btreeOf(layout: RangeLayout): NumberTree {
  const pairs: [number, number][] = new Array(layout.count);
  for (let i = 0; i < layout.count; i++) pairs[i] = [layout.starts[i]!, i];
  return new BTree<number, number>(pairs);
}

function chainBtree(layout: RangeLayout, seed: number): Contender {
  return {
    name: "sorted-btree",
    setup() {
      const tree = btreeOf(layout);
      const queries = lookupQueries(seed, layout);
      const state = new Float64Array(2);
      return (ops) => btreeChain(tree, queries, state, ops);
    },
  };
}

function btreeChain(tree: NumberTree, queries: Int32Array, state: Float64Array, ops: number): number {
  const mask = queries.length - 1;
  const reused: [number, number] = [0, 0];
  let c = state[0]!;
  let prev = state[1]!;
  let sum = 0;
  for (let i = 0; i < ops; i++) {
    prev = tree.getPairOrNextLower(queries[c]! + (prev >>> 31), reused)![1];
    c = (c + 1) & mask;
    sum = (sum + prev) | 0;
  }
  state[0] = c;
  state[1] = prev;
  return sum;
}

/** Erase a random real range and store it back: one op is the pair. */
function storeErase(name: string, layout: HoleyLayout, picks: Int32Array, make: () => { erase(first: number): unknown; store(first: number, last: number, v: number): void }): Contender {
  return {
    name,
    setup() {
      const s = make();
      const mask = picks.length - 1;
      let c = 0;
      return (ops) => {
        let sum = 0;
        for (let i = 0; i < ops; i++) {
          const r = picks[c]!;
          c = (c + 1) & mask;
          const first = layout.starts[r]!;
          s.erase(first);
          s.store(first, layout.starts[r + 1]! - 1, layout.memdesc[r]!);
          sum = (sum + first) | 0;
        }
        return sum;
      };
    },
  };
}

/** Mean distinct cache lines per `fn(pfn)` over `n` random pfns of the layout. */
function linesPer(arena: ProbingArena, layout: RangeLayout, seed: number, n: number, fn: (pfn: number) => unknown): number {
  const pfns = randomIndices(seed, "lookup/probe", n, layout.pages);
  let lines = 0;
  for (let i = 0; i < n; i++) lines += arena.measure(() => fn(pfns[i]!)).lines;
  return lines / n;
}

function realPicks(seed: number, layout: HoleyLayout): Int32Array {
  const real: number[] = [];
  for (let i = 0; i < layout.count; i++) if (layout.hole[i] === 0) real.push(i);
  const idx = randomIndices(seed, "lookup/store", 1 << 16, real.length);
  return idx.map((i) => real[i]!);
}

function run(ctx: SuiteContext): void {
  const seed = ctx.seed;
  const ranges = ctx.quick ? 1 << 18 : 1 << 20;
  ctx.progress("building ranges", 0, 4);
  const wide = rangesWithHoles(seed, ranges);
  const spanGiB = ((wide.pages * PAGE) / GiB).toFixed(1);
  const rangesLabel = `${ranges >= 1 << 20 ? "1M" : `${ranges >> 10}k`} ranges, ${spanGiB} GiB span`;

  // 1. Random lookups over 1M ranges of 1-8 pages with holes.
  const w1 = `load, ${rangesLabel}`;
  ctx.time(
    w1,
    [
      flatLookupFloor(wide, { seed }),
      mapleLookup("maple tree", () => mapleOf(wide), wide, seed),
      mapleBatchLookup("maple tree loadMany (64 per call)", () => mapleOf(wide), wide, seed),
      binarySearchLookup(wide, { seed, name: "binary search (Int32Array)" }),
      float64BinarySearch(wide, seed, false),
      sortedBtreeLookup(wide, { seed }),
    ],
    // More rounds than the default: the target is a ratio, and this box is shared and noisy.
    { floor: "flat Int32Array", note: "independent lookups; target maple <= 8x", rounds: ctx.quick ? 10 : 31 },
  );
  const w2 = `dependent load (latency), ${rangesLabel}`;
  ctx.time(w2, [chainFlat(wide, seed), chainMaple(wide, seed), chainBinarySearch(wide, seed), float64BinarySearch(wide, seed, true), chainBtree(wide, seed)], { floor: "flat Int32Array", note: "each address waits for the previous result" });

  // 2. A realistic machine: RAM described by a folio-size mix, every page owned by a descriptor.
  ctx.progress("building machine", 2, 4);
  const ram = ctx.quick ? 4 * GiB : 16 * GiB;
  const box = machine(seed, ram);
  const w3 = `physToDesc get, ${ram / GiB} GiB machine (folio mix, ${Math.round(box.count / 1000)}k descriptors)`;
  ctx.time(
    w3,
    [
      flatLookupFloor(box, { seed }),
      mapleLookup("maple tree", () => mapleOf(box), box, seed),
      tableLookup("memmap 64 B/page", () => memmapOf(box, 64), box, seed),
      tableLookup("memmap 8 B/page", () => memmapOf(box, 8), box, seed),
      binarySearchLookup(box, { seed, name: "binary search (Int32Array)" }),
      float64BinarySearch(box, seed, false),
      sortedBtreeLookup(box, { seed }),
    ],
    { floor: "flat Int32Array" },
  );
  const boxTree = mapleOf(box);
  ctx.record({ system: "maple tree", workload: w3, metric: "metadata/managed byte", value: (boxTree.metadataBytes / ram) * 100, unit: "%", note: `${(boxTree.metadataBytes / 2 ** 20).toFixed(1)} MiB for ${boxTree.size} descriptors` });
  for (const bpp of [64, 8]) ctx.record({ system: `memmap ${bpp} B/page`, workload: w3, metric: "metadata/managed byte", value: (bpp / PAGE) * 100, unit: "%", note: `${(box.pages * bpp) / 2 ** 20} MiB` });
  boxTree.dispose();

  // 3. Store/erase throughput: erase a random range and store it back.
  ctx.progress("store/erase", 3, 4);
  const picks = realPicks(seed, wide);
  const w4 = `erase+store pairs, ${rangesLabel}`;
  ctx.time(
    w4,
    [
      storeErase("maple tree", wide, picks, () => mapleOf(wide)),
      storeErase("memmap 64 B/page", wide, picks, () => {
        const t = memmapOf(wide, 64);
        return { erase: (f) => t.clear(f), store: (f, l, v) => t.set(f, l, v) };
      }),
      storeErase("memmap 8 B/page", wide, picks, () => {
        const t = memmapOf(wide, 8);
        return { erase: (f) => t.clear(f), store: (f, l, v) => t.set(f, l, v) };
      }),
      storeErase("sorted-btree", wide, picks, () => {
        const t = btreeOf(wide);
        return { erase: (f) => t.delete(f), store: (f, _l, v) => void t.set(f, v) };
      }),
    ],
    { floor: "memmap 8 B/page", note: "one op = erase + store of a 1-8 page range" },
  );

  // The same pairs where the whole tree is cache-resident: 2k one-page ranges scattered over 64 MiB.
  const scattered = scatteredPages(seed, 2048, 16384);
  const scatteredPicks = realPicks(seed, scattered);
  ctx.time(
    "erase+store pairs, 2k one-page ranges, 64 MiB",
    [
      storeErase("maple tree", scattered, scatteredPicks, () => mapleOf(scattered)),
      storeErase("Map delete+set", scattered, scatteredPicks, () => {
        const m = new Map<number, number>();
        for (let i = 0; i < scattered.count; i++) if (scattered.hole[i] === 0) m.set(scattered.starts[i]!, scattered.memdesc[i]!);
        return { erase: (f) => m.delete(f), store: (f, _l, v) => void m.set(f, v) };
      }),
      storeErase("sorted-btree", scattered, scatteredPicks, () => {
        const t = btreeOf(scattered);
        return { erase: (f) => t.delete(f), store: (f, _l, v) => void t.set(f, v) };
      }),
    ],
    { floor: "Map delete+set", note: "one op = erase + store of a one-page range; target maple < 200 ns" },
  );

  // Probes last: a ProbingArena hands out Proxies, and once the tree's code has seen them its
  // optimised code is slower for every tree afterwards, so nothing is timed after this point.
  ctx.progress("probing", 3, 4);
  const probe = probingArena();
  const probed = mapleOf(wide, probe);
  const managed = wide.pages * PAGE;
  ctx.record({ system: "maple tree", workload: w1, metric: "metadata/managed byte", value: (probed.metadataBytes / managed) * 100, unit: "%", note: `${probed.metadataBytes} B, ${probed.size} ranges, height ${probed.height}` });
  ctx.record({ system: "maple tree", workload: w1, metric: "metadata/range", value: probed.metadataBytes / probed.size, unit: "bytes" });
  for (const bpp of [64, 8]) ctx.record({ system: `memmap ${bpp} B/page`, workload: w1, metric: "metadata/managed byte", value: (bpp / PAGE) * 100, unit: "%", note: `${wide.pages * bpp} B over the span, holes included` });
  ctx.record({ system: "maple tree", workload: w1, metric: "lines/lookup", value: linesPer(probe, wide, seed, 2000, (p) => probed.load(p)), unit: "lines" });
  probed.dispose();

  const small = machine(seed, 256 * 2 ** 20); // lines per lookup do not depend on the size
  const probe2 = probingArena();
  const t64 = memmapOf(small, 64, probe2);
  const t8 = memmapOf(small, 8, probe2);
  const out = { firstPfn: 0, lastPfn: 0 };
  ctx.record({ system: "memmap 64 B/page", workload: w3, metric: "lines/lookup", value: linesPer(probe2, small, seed, 2000, (p) => t64.get(p)), unit: "lines", note: "get" });
  ctx.record({ system: "memmap 64 B/page", workload: w3, metric: "lines/range", value: linesPer(probe2, small, seed, 2000, (p) => t64.range(p, out)), unit: "lines", note: "head page + this page" });
  ctx.record({ system: "memmap 8 B/page", workload: w3, metric: "lines/lookup", value: linesPer(probe2, small, seed, 2000, (p) => t8.get(p)), unit: "lines", note: "get" });
  const probe3 = probingArena();
  const boxProbe = mapleOf(box, probe3);
  ctx.record({ system: "maple tree", workload: w3, metric: "lines/lookup", value: linesPer(probe3, box, seed, 2000, (p) => boxProbe.load(p)), unit: "lines", note: `height ${boxProbe.height}` });
  boxProbe.dispose();

  ctx.progress("done", 4, 4);
}

/** The `lookup` suite: phys->descriptor lookup with the maple tree vs flat tables, binary search and sorted-btree. */
const suite: Suite = {
  name: "lookup",
  description: "phys->desc lookup: maple tree load over 1M ranges (18 GiB span, holes) and a 16 GiB folio-mix machine vs flat floor, binary search, sorted-btree, 64/8 B memmaps; latency, lines/lookup, metadata, erase+store",
  default: true,
  run,
};

export default suite;
