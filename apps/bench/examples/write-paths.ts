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
// 1. maple tree: erase+store pairs of one range (what the lookup suite times) over 2k one-page
//    ranges scattered on 64 MiB, against Map delete+set; and over 1M ranges of 1-8 pages with
//    holes (bulk-loaded), against sorted-btree delete+set.
// 2. POTAD: 512 B..64 KiB free+alloc churn with a descriptor per allocation in the default index,
//    the maple tree and SortedRangeIndex, against the same churn without descriptors, at 4k and 1M.
import BTreeModule from "sorted-btree";
import { MapleTree } from "@mmkit/memdesc-lookup";
import { type DescriptorIndex, Potad, SortedRangeIndex } from "@mmkit/potad";

type NumberTree = { delete(key: number): boolean; set(key: number, value: number): boolean };
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
  const tree = new MapleTree();
  const map = new Map<number, number>();
  for (let i = 0; i < live.length; i++) {
    let p = rnd(pages);
    while (taken[p] === 1) p = rnd(pages);
    taken[p] = 1;
    live[i] = p;
    tree.store(p, p, i);
    map.set(p, i);
  }
  const picks = Int32Array.from({ length: 1 << 16 }, () => rnd(live.length));
  const o = measure(
    {
      maple(ops) {
        for (let i = 0; i < ops; i++) {
          const k = picks[i & 0xffff]!;
          tree.erase(live[k]!);
          tree.store(live[k]!, live[k]!, k);
        }
      },
      map(ops) {
        for (let i = 0; i < ops; i++) {
          const k = picks[i & 0xffff]!;
          map.delete(live[k]!);
          map.set(live[k]!, k);
        }
      },
    },
    100_000,
    15,
  );
  tree.check();
  console.log(`maple erase+store, 2k one-page ranges on 64 MiB: ${ns(o.maple!)} per pair, Map delete+set ${ns(o.map!)}: ${(o.maple! / o.map!).toFixed(2)}x Map`);
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
  const tree = new MapleTree();
  tree.bulkLoad(firsts, lasts, values);
  const btree = new BTree(firsts.map((f, i) => [f, i]));
  const picks = Int32Array.from({ length: 1 << 16 }, () => rnd(n));
  const o = measure(
    {
      maple(ops) {
        for (let i = 0; i < ops; i++) {
          const r = picks[i & 0xffff]!;
          tree.erase(firsts[r]!);
          tree.store(firsts[r]!, lasts[r]!, r);
        }
      },
      btree(ops) {
        for (let i = 0; i < ops; i++) {
          const r = picks[i & 0xffff]!;
          btree.delete(firsts[r]!);
          btree.set(firsts[r]!, r);
        }
      },
    },
    50_000,
    11,
  );
  tree.check();
  console.log(`maple erase+store, 1M ranges of 1-8 pages: ${ns(o.maple!)} per pair, sorted-btree ${ns(o.btree!)}: maple ${(o.btree! / o.maple!).toFixed(2)}x faster`);
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
}
if (which === "all" || which === "potad") {
  potadChurn(4_000);
  potadChurn(1_000_000);
}
