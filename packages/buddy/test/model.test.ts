import fc from "fast-check";
import { describe, expect, test } from "vitest";
import { BuddyAllocator, type BuddyOptions } from "@mmkit/buddy";
import { blockSet, pageMap } from "./helpers.ts";

// Two nodes, a hole, ranges that are not aligned to maxOrder: node 0 [0,40) + [48,100), node 1 [100,160).
const RANGES: [number, number, number][] = [
  [0, 40, 0],
  [48, 100, 0],
  [100, 160, 1],
];

type Op =
  | { kind: "alloc"; order: number; mt: number; cpu: number; node: number; atomic: boolean; plain: boolean }
  | { kind: "free"; pick: number; cpu: number }
  | { kind: "drain"; cpu: number }
  | { kind: "drainAll" };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 7, arbitrary: fc.record({ kind: fc.constant("alloc" as const), order: fc.nat(4), mt: fc.nat(2), cpu: fc.integer({ min: -1, max: 1 }), node: fc.integer({ min: -1, max: 1 }), atomic: fc.boolean(), plain: fc.boolean() }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant("free" as const), pick: fc.nat(), cpu: fc.integer({ min: -1, max: 1 }) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant("drain" as const), cpu: fc.nat(1) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant("drainAll" as const) }) },
);

/** Free blocks with their migratetype, sorted (list order is not restored, the blocks are). */
function typedBlocks(b: BuddyAllocator): string[] {
  return b
    .freeLists()
    .flatMap((l) => l.pfns.map((p) => `${l.node}:${l.order}:${l.migratetype}:${p}`))
    .sort();
}

function nodeOfPfn(pfn: number): number {
  for (const [s, e, n] of RANGES) if (pfn >= s && pfn < e) return n;
  return -1;
}

function run(options: BuddyOptions, ops: Op[], totals: Record<string, number>): void {
  const b = new BuddyAllocator(pageMap(RANGES), { maxOrder: 4, pageblockOrder: 2, cpus: 2, pcpBatch: 3, pcpHigh: 8, minFreeKbytes: 0, ...options });
  const defaultMt = options.defaultMigratetype ?? 0;
  const initialBlocks = blockSet(b);
  const initialTyped = typedBlocks(b);
  const owner = new Map<number, number>(); // page -> head pfn of the live block holding it
  const live: [number, number][] = [];
  for (const op of ops) {
    if (op.kind === "alloc") {
      // `plain`: no options, the default migratetype (the per-CPU fronts' fast paths for orders 0..3).
      const opts = op.plain ? undefined : { migratetype: op.mt as 0 | 1 | 2, atomic: op.atomic, ...(op.node >= 0 ? { node: op.node } : {}) };
      const mt = op.plain ? defaultMt : op.mt;
      const pfn = op.cpu >= 0 ? b.cpu(op.cpu).allocPages(op.order, opts) : b.allocPages(op.order, opts);
      if (pfn >= 0) {
        const size = 2 ** op.order;
        expect(pfn % size).toBe(0);
        const node = nodeOfPfn(pfn);
        for (let p = pfn; p < pfn + size; p++) {
          expect(owner.has(p), `page ${p} handed out twice`).toBe(false);
          expect(nodeOfPfn(p), `page ${p} is not RAM of node ${node}`).toBe(node);
          owner.set(p, pfn);
        }
        live.push([pfn, op.order]);
        const info = b.blockOf(pfn);
        expect([info.pfn, info.order, info.state, info.migratetype]).toEqual([pfn, op.order, "allocated", options.groupByMobility === false ? 1 : mt]);
      } else {
        // Without watermarks (min 0) a failure means no block of the order is free anywhere.
        expect(b.largestFreeOrder()).toBeLessThan(op.order);
      }
    } else if (op.kind === "free") {
      if (live.length === 0) continue;
      const [pfn, order] = live.splice(op.pick % live.length, 1)[0]!;
      if (op.cpu >= 0) b.cpu(op.cpu).freePages(pfn, order);
      else b.freePages(pfn, order);
      for (let p = pfn; p < pfn + 2 ** order; p++) owner.delete(p);
    } else if (op.kind === "drain") b.cpu(op.cpu).drain();
    else b.drainAll();
    b.check();
    expect(b.allocatedPageCount()).toBe(owner.size);
  }
  for (const [pfn, order] of live) b.freePages(pfn, order);
  b.drainAll();
  b.check();
  expect(b.perCpuPageCount()).toBe(0);
  expect(b.freePageCount()).toBe(b.managedPages());
  expect(blockSet(b)).toEqual(initialBlocks);
  if (b.counters().pageblockSteals === 0) expect(typedBlocks(b)).toEqual(initialTyped);
  for (const [k, v] of Object.entries(b.counters())) totals[k] = (totals[k] ?? 0) + v;
}

describe("model: random alloc/free/drain against a page-ownership model", () => {
  const params = { numRuns: 80, seed: 20240501 };
  const ops = fc.array(opArb, { minLength: 1, maxLength: 150, size: "max" });
  test("default policy (mobility grouping, whole-pageblock stealing)", () => {
    const totals: Record<string, number> = {};
    fc.assert(fc.property(ops, (o) => run({}, o, totals)), params);
    // The runs reached the interesting paths.
    for (const k of ["splits", "merges", "pcpRefills", "pcpDrains", "fallbacks", "pageblockSteals", "allocFailures"]) expect(totals[k], k).toBeGreaterThan(0);
  });
  test("without whole-pageblock stealing", () => {
    const totals: Record<string, number> = {};
    fc.assert(fc.property(ops, (o) => run({ stealWholeBlocks: false }, o, totals)), params);
    expect(totals.fallbacks).toBeGreaterThan(0);
    expect(totals.pageblockSteals).toBe(0);
  });
  test("Movable by default (the bench's setting): plain requests go through the fronts' fast paths", () => {
    const totals: Record<string, number> = {};
    fc.assert(fc.property(ops, (o) => run({ defaultMigratetype: 1 }, o, totals)), params);
    for (const k of ["pcpRefills", "pcpDrains", "fallbacks"]) expect(totals[k], k).toBeGreaterThan(0);
  });
  test("without mobility grouping", () => {
    const totals: Record<string, number> = {};
    fc.assert(fc.property(ops, (o) => run({ groupByMobility: false }, o, totals)), params);
    expect(totals.fallbacks).toBe(0);
  });
});
