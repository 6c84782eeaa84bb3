// The library targets of issue 15, measured in CPU time rather than wall time, so that a figure
// taken on a shared, overloaded machine is not mostly the time other processes ran: each contender
// runs in rounds, interleaved with the others in one process, and the median of
// `process.cpuUsage()` per operation is printed. Run it from apps/bench after building the packages:
//
//   pnpm --filter @mmkit/physmem --filter @mmkit/memdesc-lookup --filter @mmkit/potad build
//   node --import tsx examples/write-paths.ts            # everything (about a minute)
//   node --import tsx examples/write-paths.ts maple      # the maple tree's erase+store pairs only
//   node --import tsx examples/write-paths.ts potad      # POTAD's descriptor churn only
//
// With MAPLE_BEFORE=<file.mjs> (an ESM build of another version of @mmkit/memdesc-lookup, e.g. one
// commit's src bundled with `esbuild src/index.ts --bundle --format=esm --external:@mmkit/physmem`,
// written under apps/bench so that it resolves @mmkit/physmem), the maple figures are taken for
// that version too, in the same rounds: before and after in one process, with load and loadMany.
//
// 1. maple tree: erase+store pairs of one range (what the lookup suite times) over 2k one-page
//    ranges scattered on 64 MiB, against Map delete+set, both the same range stored back (what a
//    LIFO allocator does) and a free page taken at random instead (the store lands elsewhere); and
//    over 1M ranges of 1-8 pages with holes (bulk-loaded), against sorted-btree delete+set; and
//    the scale suite's table churn shape (single pages at random pfns, a FIFO of free pfns: every
//    store lands elsewhere) at 1k live on 16 MiB and 1M live on 16 GiB, against a flat Int32Array
//    (a word cleared, a word written), each contender in its own compiled copy of the loop.
// 2. POTAD: 512 B..64 KiB free+alloc churn with a descriptor per allocation in the default index,
//    the maple tree and SortedRangeIndex, against the same churn without descriptors, at 4k and 1M.
import { resolve } from "node:path";
import { pathToFileURL } from "node:url";
import BTreeModule from "sorted-btree";
import { MapleTree } from "@mmkit/memdesc-lookup";
import { type DescriptorIndex, Potad, SortedRangeIndex } from "@mmkit/potad";
import { freshLoop } from "../src/harness/fresh-loop.js";

type NumberTree = { delete(key: number): boolean; set(key: number, value: number): boolean };
type Maple = InstanceType<typeof MapleTree>;
type MapleClass = new () => Maple;
const before: MapleClass | undefined = process.env.MAPLE_BEFORE
  ? ((await import(pathToFileURL(resolve(process.env.MAPLE_BEFORE)).href)) as { MapleTree: MapleClass }).MapleTree
  : undefined;
// sorted-btree is CommonJS with `exports.default = BTree` (see src/peers/range-lookup.ts).
const BTree = ((BTreeModule as unknown as { default?: unknown }).default ?? BTreeModule) as new (pairs: [number, number][]) => NumberTree;

/** A seeded generator (the high bits of a 31-bit LCG). */
function generator(seed: number): (n: number) => number {
  let s = seed;
  return (n) => {
    s = (s * 1103515245 + 12345) % 2147483648;
    return Math.floor(s / 65536) % n;
  };
}

const cpuNs = (): number => {
  const u = process.cpuUsage();
  return (u.user + u.system) * 1000;
};

/** Median CPU ns per op of each contender over `rounds` interleaved rounds of `ops`. */
function measure(contenders: Record<string, (ops: number) => unknown>, ops: number, rounds: number): Record<string, number> {
  const samples: Record<string, number[]> = {};
  for (const name of Object.keys(contenders)) samples[name] = [];
  for (let r = 0; r < rounds; r++) {
    for (const [name, run] of Object.entries(contenders)) {
      const t0 = cpuNs();
      run(ops);
      samples[name]!.push((cpuNs() - t0) / ops);
    }
  }
  const out: Record<string, number> = {};
  for (const [name, s] of Object.entries(samples)) out[name] = s.sort((a, b) => a - b)[s.length >> 1]!;
  return out;
}

const ns = (x: number): string => `${x.toFixed(0)} ns`;

function mapleSmall(): void {
  const rnd = generator(11);
  const pages = 16384;
  const live = new Int32Array(2048);
  const taken = new Uint8Array(pages);
  const versions: Array<[string, MapleClass]> = [["maple", MapleTree], ...(before ? [["before", before] as [string, MapleClass]] : [])];
  const trees = versions.map(([, Tree]) => new Tree());
  const elsewhere = versions.map(([, Tree]) => new Tree());
  const map = new Map<number, number>();
  for (let i = 0; i < live.length; i++) {
    let p = rnd(pages);
    while (taken[p] === 1) p = rnd(pages);
    taken[p] = 1;
    live[i] = p;
    for (const t of [...trees, ...elsewhere]) t.store(p, p, i);
    map.set(p, i);
  }
  const picks = Int32Array.from({ length: 1 << 16 }, () => rnd(live.length));
  const freePages = Int32Array.from(Array.from({ length: pages }, (_, p) => p).filter((p) => taken[p] === 0));
  const contenders: Record<string, (ops: number) => unknown> = {
    map(ops) {
      for (let i = 0; i < ops; i++) {
        const k = picks[i & 0xffff]!;
        map.delete(live[k]!);
        map.set(live[k]!, k);
      }
    },
  };
  versions.forEach(([name], v) => {
    const tree = trees[v]!;
    contenders[name] = (ops) => {
      for (let i = 0; i < ops; i++) {
        const k = picks[i & 0xffff]!;
        tree.erase(live[k]!);
        tree.store(live[k]!, live[k]!, k);
      }
    };
    // Elsewhere: the freed page joins the free pool and a random free page is taken instead.
    const held = Int32Array.from(live);
    const pool = freePages.slice();
    // Drawn ahead, like \`picks\`: the generator's modulo of a double costs about 30 ns, which the
    // Map contender does not pay.
    const pick = generator(5);
    const takes = Int32Array.from({ length: 1 << 16 }, () => pick(pool.length));
    const t = elsewhere[v]!;
    contenders[`${name} elsewhere`] = (ops) => {
      for (let i = 0; i < ops; i++) {
        const k = picks[i & 0xffff]!;
        const j = takes[i & 0xffff]!;
        const old = held[k]!;
        t.erase(old);
        const p = pool[j]!;
        pool[j] = old;
        held[k] = p;
        t.store(p, p, k);
      }
    };
  });
  const o = measure(contenders, 100_000, 15);
  for (const t of [...trees, ...elsewhere]) t.check();
  const x = (k: string): string => `${ns(o[k]!)} (${(o[k]! / o.map!).toFixed(2)}x Map)`;
  console.log(`maple erase+store, 2k one-page ranges on 64 MiB: ${ns(o.maple!)} per pair, Map delete+set ${ns(o.map!)}: ${(o.maple! / o.map!).toFixed(2)}x Map; stored elsewhere ${x("maple elsewhere")}`);
  if (before) console.log(`  before: ${x("before")}; stored elsewhere ${x("before elsewhere")}`);
}

function mapleLarge(): void {
  const rnd = generator(12);
  const n = 1 << 20;
  const firsts: number[] = [];
  const lasts: number[] = [];
  const values: number[] = [];
  let pfn = 0;
  for (let i = 0; i < n; i++) {
    if (rnd(4) === 0) pfn += 1 << rnd(4); // a hole before about one range in four
    const pages = 1 << rnd(4);
    firsts.push(pfn);
    lasts.push(pfn + pages - 1);
    values.push(i);
    pfn += pages;
  }
  const btree = new BTree(firsts.map((f, i) => [f, i]));
  const picks = Int32Array.from({ length: 1 << 16 }, () => rnd(n));
  const probes = Float64Array.from({ length: 1 << 16 }, () => firsts[rnd(n)]!);
  const out = new Float64Array(64);
  const contenders: Record<string, (ops: number) => unknown> = {
    btree(ops) {
      for (let i = 0; i < ops; i++) {
        const r = picks[i & 0xffff]!;
        btree.delete(firsts[r]!);
        btree.set(firsts[r]!, r);
      }
    },
  };
  const versions: Array<[string, MapleClass]> = [["maple", MapleTree], ...(before ? [["before", before] as [string, MapleClass]] : [])];
  const trees = versions.map(([name, Tree]) => {
    const tree = new Tree();
    tree.bulkLoad(firsts, lasts, values);
    contenders[name] = (ops) => {
      for (let i = 0; i < ops; i++) {
        const r = picks[i & 0xffff]!;
        tree.erase(firsts[r]!);
        tree.store(firsts[r]!, lasts[r]!, r);
      }
    };
    if (before) {
      contenders[`${name} load`] = (ops) => {
        let sum = 0;
        for (let i = 0; i < ops; i++) sum += tree.load(probes[i & 0xffff]!) ?? 0;
        return sum;
      };
      contenders[`${name} loadMany`] = (ops) => {
        for (let i = 0; i < ops; i += 64) tree.loadMany(probes.subarray(i & 0xffff, (i & 0xffff) + 64), out);
      };
    }
    return tree;
  });
  const o = measure(contenders, 50_000, 11);
  for (const t of trees) t.check();
  console.log(`maple erase+store, 1M ranges of 1-8 pages: ${ns(o.maple!)} per pair, sorted-btree ${ns(o.btree!)}: maple ${(o.btree! / o.maple!).toFixed(2)}x faster`);
  if (before) {
    console.log(`  before: ${ns(o.before!)} per pair, ${(o.btree! / o.before!).toFixed(2)}x sorted-btree's speed`);
    console.log(`  load ${ns(o["maple load"]!)} (before ${ns(o["before load"]!)}), loadMany ${ns(o["maple loadMany"]!)} a lookup (before ${ns(o["before loadMany"]!)})`);
  }
}

/** The scale suite's table churn (self-contained for freshLoop): erase a slot's pfn, store the ring's next. */
function scaleChurnSteps(tree: { erase(i: number): number | undefined; store(f: number, l: number, v: number): void }, held: Int32Array, ring: Int32Array, slots: Int32Array, cursor: Int32Array, ops: number): number {
  let head = cursor[0]!;
  let c = cursor[1]!;
  let sum = 0;
  for (let i = 0; i < ops; i++) {
    const slot = slots[c]!;
    const old = held[slot]!;
    sum = (sum + (tree.erase(old) ?? -1)) | 0;
    const pfn = ring[head]!;
    ring[head] = old;
    head = head + 1 === ring.length ? 0 : head + 1;
    tree.store(pfn, pfn, (c + 1) * 16);
    held[slot] = pfn;
    c = (c + 1) & (slots.length - 1);
  }
  cursor[0] = head;
  cursor[1] = c;
  return sum;
}

/** The flat floor of the same churn: a word cleared, a word written. */
function flatChurnSteps(table: Int32Array, held: Int32Array, ring: Int32Array, slots: Int32Array, cursor: Int32Array, ops: number): number {
  let head = cursor[0]!;
  let c = cursor[1]!;
  let sum = 0;
  for (let i = 0; i < ops; i++) {
    const slot = slots[c]!;
    const old = held[slot]!;
    sum = (sum + table[old]!) | 0;
    table[old] = -1;
    const pfn = ring[head]!;
    ring[head] = old;
    head = head + 1 === ring.length ? 0 : head + 1;
    table[pfn] = (c + 1) * 16;
    held[slot] = pfn;
    c = (c + 1) & (slots.length - 1);
  }
  cursor[0] = head;
  cursor[1] = c;
  return sum;
}

function mapleScale(live: number): void {
  const pages = Math.max(4096, 2 ** Math.ceil(Math.log2(live * 4)));
  const rnd = generator(14);
  const big = (n: number): number => (rnd(1 << 15) * 32768 + rnd(1 << 15)) % n;
  const pfns = new Int32Array(pages);
  for (let i = 0; i < pages; i++) pfns[i] = i;
  for (let i = pages - 1; i > 0; i--) {
    const j = big(i + 1);
    const t = pfns[i]!;
    pfns[i] = pfns[j]!;
    pfns[j] = t;
  }
  const slots = Int32Array.from({ length: 1 << 16 }, () => big(live));
  const contenders: Record<string, (ops: number) => unknown> = {};
  const flat = new Int32Array(pages).fill(-1);
  const flatHeld = pfns.slice(0, live);
  for (let i = 0; i < live; i++) flat[flatHeld[i]!] = (i + 1) * 16;
  const flatLoop = freshLoop(flatChurnSteps);
  const flatState = [flatHeld, pfns.slice(live), slots, new Int32Array(2)] as const;
  contenders.flat = (ops) => flatLoop(flat, ...flatState, ops);
  const versions: Array<[string, MapleClass]> = [["maple", MapleTree], ...(before ? [["before", before] as [string, MapleClass]] : [])];
  const trees = versions.map(([name, Tree]) => {
    const tree = new Tree();
    const held = pfns.slice(0, live);
    for (let i = 0; i < live; i++) tree.store(held[i]!, held[i]!, (i + 1) * 16);
    const loop = freshLoop(scaleChurnSteps);
    const state = [held, pfns.slice(live), slots, new Int32Array(2)] as const;
    contenders[name] = (ops) => loop(tree, ...state, ops);
    loop(tree, ...state, 1 << 14);
    return tree;
  });
  const o = measure(contenders, live >= 1e6 ? 20_000 : 100_000, 11);
  for (const t of trees) t.check();
  const size = live >= 1e6 ? `${live / 1e6}M` : `${live / 1000}k`;
  const x = (k: string): string => `${ns(o[k]!)} (${(o[k]! / o.flat!).toFixed(1)}x the flat floor)`;
  console.log(`maple erase+store elsewhere, the scale suite's table churn at ${size} live (${(pages * 4096) / 2 ** 30 >= 1 ? `${(pages * 4096) / 2 ** 30} GiB` : `${(pages * 4096) / 2 ** 20} MiB`}): ${x("maple")}, flat Int32Array ${ns(o.flat!)}`);
  if (before) console.log(`  before: ${x("before")}; after/before ${(o.maple! / o.before!).toFixed(2)}`);
}

function potadChurn(live: number): void {
  const rnd = generator(13);
  const sequence = 1 << 16;
  const slots = Int32Array.from({ length: sequence }, () => rnd(live));
  const sizes = Int32Array.from({ length: sequence }, () => rnd(8));
  const space = 2 ** Math.ceil(Math.log2(live * 16384 * 3));
  const make = (index: (() => DescriptorIndex) | undefined | null): ((ops: number) => number) => {
    const potad = new Potad(index ? { descriptorIndex: index() } : {});
    const s = potad.addSpace({ base: 0, size: space, granule: 512 });
    const options = index === null ? undefined : { descriptor: 0, descriptorBytes: 360 };
    const held = new Float64Array(live);
    for (let i = 0; i < live; i++) held[i] = potad.alloc(s, 512 << sizes[i]!, options);
    let c = 0;
    return (ops) => {
      let sum = 0;
      for (let i = 0; i < ops; i++) {
        const slot = slots[c]!;
        const size = 512 << sizes[c]!;
        c = (c + 1) & (sequence - 1);
        sum = (sum + potad.free(held[slot]!)) | 0;
        if (options !== undefined) options.descriptor = c;
        held[slot] = potad.alloc(s, size, options);
      }
      return sum;
    };
  };
  const contenders: Record<string, (ops: number) => unknown> = {
    none: make(null),
    aligned: make(undefined),
    maple: make(() => new MapleTree()),
  };
  if (live <= 10_000) contenders.sorted = make(() => new SortedRangeIndex());
  const o = measure(contenders, 20_000, 15);
  const ratio = (k: string): string => `${ns(o[k]!)} (${(o[k]! / o.none!).toFixed(2)}x)`;
  console.log(
    `potad 512 B..64 KiB churn, ${live >= 1e6 ? `${live / 1e6}M` : `${live / 1000}k`} live: no descriptors ${ns(o.none!)}, AlignedBlockIndex ${ratio("aligned")}, maple tree ${ratio("maple")}` +
      (o.sorted === undefined ? "" : `, SortedRangeIndex ${ratio("sorted")}`),
  );
}

const which = process.argv[2] ?? "all";
if (which === "all" || which === "maple") {
  mapleSmall();
  mapleLarge();
  mapleScale(1_000);
  mapleScale(1_000_000);
}
if (which === "all" || which === "potad") {
  potadChurn(4_000);
  potadChurn(1_000_000);
}
