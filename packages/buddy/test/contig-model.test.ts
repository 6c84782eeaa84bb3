import fc from "fast-check";
import { expect, test } from "vitest";
import { BuddyAllocator, MigrateType } from "@mmkit/buddy";
import { HeldPages, Owner } from "./compaction-owner.ts";
import { pageMap } from "./helpers.ts";

// Two nodes and a hole: node 0 [0,40) + [48,100), node 1 [100,160) with a CMA area [120, 136); pageblocks of 8 pages.
const RANGES: [number, number, number][] = [
  [0, 40, 0],
  [48, 100, 0],
  [100, 160, 1],
];

type Op =
  | { kind: "alloc"; order: number; mt: number; node: number; cpu: boolean }
  | { kind: "free"; pick: number; cpu: boolean }
  | { kind: "pin"; pick: number }
  | { kind: "contig"; start: number; count: number }
  | { kind: "contigFree"; pick: number; from: number; count: number }
  | { kind: "misbehave"; start: number; count: number; lie: boolean }
  | { kind: "contigPages"; count: number; align: number; node: number }
  | { kind: "compact"; node: number; reclaimable: boolean };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 8, arbitrary: fc.record({ kind: fc.constant("alloc" as const), order: fc.constantFrom(0, 0, 1, 2, 4), mt: fc.constantFrom(0, 1, 1, 1, 2), node: fc.nat(1), cpu: fc.boolean() }) },
  { weight: 5, arbitrary: fc.record({ kind: fc.constant("free" as const), pick: fc.nat(), cpu: fc.boolean() }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant("pin" as const), pick: fc.nat() }) },
  { weight: 4, arbitrary: fc.record({ kind: fc.constant("contig" as const), start: fc.nat(159), count: fc.integer({ min: 1, max: 24 }) }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant("contigFree" as const), pick: fc.nat(), from: fc.nat(), count: fc.integer({ min: 1, max: 24 }) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant("misbehave" as const), start: fc.nat(159), count: fc.integer({ min: 1, max: 24 }), lie: fc.boolean() }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant("contigPages" as const), count: fc.integer({ min: 1, max: 16 }), align: fc.constantFrom(1, 2, 4, 8, 16), node: fc.nat(1) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant("compact" as const), node: fc.nat(1), reclaimable: fc.boolean() }) },
);

/** Is [start, start + count) RAM of one node (what allocContigRange accepts)? */
function validSpan(start: number, count: number): boolean {
  const r = RANGES.find(([s, e]) => start >= s && start < e);
  if (r === undefined) return false;
  if (start + count <= r[1]) return true;
  // [0,40) and [48,100) are not adjacent; [48,100) and [100,160) are on different nodes.
  return false;
}

const CMA = { startPfn: 120, count: 16 };
const inCma = (p: number) => p >= CMA.startPfn && p < CMA.startPfn + CMA.count;

const totals = { searched: 0, fromCma: 0, taken: 0, refused: { unmovable: 0, pinned: 0, other: 0 }, moved: 0, errors: 0, partialFrees: 0 };

test("model: random movable/unmovable churn with contiguous ranges taken and freed at random; nothing lost or doubled", () => {
  fc.assert(
    fc.property(fc.array(opArb, { minLength: 40, maxLength: 140, size: "max" }), (ops) => {
      const b = new BuddyAllocator(pageMap(RANGES), { maxOrder: 4, pageblockOrder: 3, minFreeKbytes: 0, cpus: 2, cma: CMA });
      const owner = new Owner();
      const held = new HeldPages(owner);
      const { others, reclaimable } = held;
      // Pages taken by allocContigRange, page by page (the reference for freeContigRange).
      const contig = new Set<number>();
      for (const op of ops) {
        if (op.kind === "alloc") {
          const options = { migratetype: op.mt as MigrateType, node: op.node === 0 ? 0 : 1 };
          const pfn = op.cpu ? b.cpu(op.node).allocPages(op.order, options) : b.allocPages(op.order, options);
          if (pfn >= 0) {
            for (let p = pfn; p < pfn + 2 ** op.order; p++) expect(contig.has(p)).toBe(false);
            // Only Movable requests use the CMA area.
            if (op.mt !== MigrateType.Movable) expect(inCma(pfn)).toBe(false);
            held.took(pfn, op.order, op.mt);
          }
        } else if (op.kind === "free" || op.kind === "pin") {
          const pfn = held.pick(op.pick);
          if (pfn === undefined) continue;
          if (op.kind === "pin") {
            if (owner.pages.has(pfn)) owner.pinned.add(pfn);
            continue;
          }
          const order = held.orderOf(pfn);
          if (op.cpu) b.cpu(1).freePages(pfn, order);
          else b.freePages(pfn, order);
          held.freed(pfn);
        } else if (op.kind === "contig" || op.kind === "misbehave") {
          if (!validSpan(op.start, op.count)) {
            expect(() => b.allocContigRange(op.start, op.count, owner)).toThrow();
            continue;
          }
          const inRange = (p: number, o: number) => p < op.start + op.count && p + 2 ** o > op.start;
          const unmovable = [...others].some(([p, o]) => !reclaimable.has(p) && inRange(p, o)) || [...contig].some((p) => inRange(p, 0));
          const pinned = [...owner.pages].some(([p, page]) => inRange(p, page.order) && owner.pinned.has(p)) || [...reclaimable].some((p) => inRange(p, others.get(p)!));
          const moves = owner.moves.length;
          if (op.kind === "misbehave") {
            const victim = [...owner.pages.keys()].find((p) => inRange(p, owner.pages.get(p)!.order));
            if (victim === undefined) continue;
            if (op.lie) owner.lie = "keep-source";
            else owner.throwOn = victim;
          }
          let got = -2;
          try {
            got = b.allocContigRange(op.start, op.count, owner);
          } catch (error) {
            expect((error as { code: string }).code).toBe("ERR_INVALID_STATE");
            totals.errors++;
          }
          owner.lie = null;
          owner.throwOn = -1;
          for (const [from, to, o] of owner.moves.slice(moves)) {
            // Pages move out of the range, never into it, and pinned ones never.
            expect(inRange(from, o)).toBe(true);
            expect(inRange(to, o)).toBe(false);
            expect(owner.pinned.has(from)).toBe(false);
            totals.moved += 2 ** o;
          }
          if (got === op.start) {
            expect(unmovable || pinned).toBe(false);
            for (let p = op.start; p < op.start + op.count; p++) {
              expect(contig.has(p)).toBe(false);
              contig.add(p);
              expect(b.blockOf(p).state).toBe("allocated");
            }
            totals.taken++;
          } else if (got === -1) {
            const reason = b.lastContigFailure!.reason;
            if (unmovable) expect(reason).toBe("unmovable");
            else if (reason === "unmovable") expect.fail(`unmovable reported for ${op.start}+${op.count} with no unmovable page in it`);
            if (reason === "unmovable") totals.refused.unmovable++;
            else if (reason === "pinned") totals.refused.pinned++;
            else totals.refused.other++;
          }
        } else if (op.kind === "contigFree") {
          const taken = [...contig].sort((x, y) => x - y);
          if (taken.length === 0) continue;
          // A run of taken pages starting at a picked one, of up to `count` pages (a part of a range or all of it).
          const start = taken[op.pick % taken.length]!;
          let count = 1;
          while (count < op.count && contig.has(start + count) && validSpan(start, count + 1)) count++;
          b.freeContigRange(start, count);
          for (let p = start; p < start + count; p++) contig.delete(p);
          totals.partialFrees++;
          // Freeing it again is a typed error that changes nothing.
          expect(() => b.freeContigRange(start, count)).toThrow(/was not taken by allocContigRange/);
        } else if (op.kind === "contigPages") {
          const got = b.allocContigPages(op.count, owner, { alignPages: op.align, node: op.node });
          if (got >= 0) {
            expect(got % op.align).toBe(0);
            expect(validSpan(got, op.count)).toBe(true);
            for (let p = got; p < got + op.count; p++) {
              expect(contig.has(p)).toBe(false);
              contig.add(p);
            }
            totals.searched++;
            if (inCma(got)) totals.fromCma++;
          } else expect(b.lastContigFailure).not.toBeNull();
        } else {
          b.compact(owner, { node: op.node === 0 ? 0 : 1, reclaimable: op.reclaimable });
        }
        b.check();
        held.agree(b, contig.size);
        for (const p of contig) expect(b.blockOf(p)).toMatchObject({ state: "allocated", migratetype: MigrateType.Unmovable });
        // The isolation never outlives a call, and the CMA area stays CMA.
        expect(b.pagetypeinfo().map((info) => [info.pageblocks[MigrateType.Isolate], info.pageblocks[MigrateType.Cma]])).toEqual([
          [0, 0],
          [0, 2],
        ]);
      }
    }),
    { numRuns: 25, seed: 16 },
  );
  expect(totals.taken).toBeGreaterThan(0);
  expect(totals.searched).toBeGreaterThan(0);
  expect(totals.fromCma).toBeGreaterThan(0);
  expect(totals.moved).toBeGreaterThan(0);
  expect(totals.refused.unmovable).toBeGreaterThan(0);
  expect(totals.refused.pinned).toBeGreaterThan(0);
  expect(totals.errors).toBeGreaterThan(0);
  expect(totals.partialFrees).toBeGreaterThan(0);
});
