import fc from "fast-check";
import { expect, test } from "vitest";
import { BuddyAllocator, MigrateType } from "@mmkit/buddy";
import { HeldPages, Owner } from "./compaction-owner.ts";
import { pageMap } from "./helpers.ts";

// Two nodes and a hole: node 0 [0,40) + [48,100), node 1 [100,160); pageblocks of 8 pages.
const RANGES: [number, number, number][] = [
  [0, 40, 0],
  [48, 100, 0],
  [100, 160, 1],
];

type Op =
  | { kind: "alloc"; order: number; mt: number; node: number }
  | { kind: "free"; pick: number }
  | { kind: "pin"; pick: number }
  | { kind: "compact"; order: number; node: number }
  | { kind: "direct"; order: number }
  | { kind: "proactive"; proactiveness: number }
  | { kind: "misbehave"; pick: number; lie: boolean }
  | { kind: "fillAndThin"; every: number; node: number };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 6, arbitrary: fc.record({ kind: fc.constant("alloc" as const), order: fc.nat(2), mt: fc.constantFrom(0, 1, 1, 1, 2), node: fc.nat(1) }) },
  { weight: 6, arbitrary: fc.record({ kind: fc.constant("free" as const), pick: fc.nat() }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant("pin" as const), pick: fc.nat() }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant("compact" as const), order: fc.integer({ min: -1, max: 3 }), node: fc.nat(1) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant("direct" as const), order: fc.integer({ min: 1, max: 3 }) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant("proactive" as const), proactiveness: fc.nat(100) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant("misbehave" as const), pick: fc.nat(), lie: fc.boolean() }) },
  // Fill a node with movable pages, then free every 2nd..4th: the fragmented machine compaction is for.
  { weight: 1, arbitrary: fc.record({ kind: fc.constant("fillAndThin" as const), every: fc.integer({ min: 2, max: 4 }), node: fc.nat(1) }) },
);

const totals = { moved: 0, successes: 0, directSuccesses: 0, errors: 0 };

test("model: random movable/unmovable churn with compaction at random points; the owner map always matches the allocator", () => {
  fc.assert(
    fc.property(fc.array(opArb, { minLength: 40, maxLength: 160, size: "max" }), (ops) => {
      const b = new BuddyAllocator(pageMap(RANGES), { maxOrder: 4, pageblockOrder: 3, minFreeKbytes: 0 });
      const owner = new Owner();
      // The reference model: the owner's map (movable blocks) and the unmovable/reclaimable blocks held.
      const held = new HeldPages(owner);
      for (const op of ops) {
        if (op.kind === "alloc") {
          const pfn = b.allocPages(op.order, { migratetype: op.mt as MigrateType, node: op.node === 0 ? 0 : 1 });
          if (pfn >= 0) held.took(pfn, op.order, op.mt);
        } else if (op.kind === "free" || op.kind === "pin") {
          const pfn = held.pick(op.pick);
          if (pfn === undefined) continue;
          if (op.kind === "pin") {
            if (owner.pages.has(pfn)) owner.pinned.add(pfn);
            continue;
          }
          b.freePages(pfn, held.orderOf(pfn));
          held.freed(pfn);
        } else if (op.kind === "compact") {
          const free = b.freePageCount();
          const before = owner.moves.length;
          const [run] = b.compact(owner, { order: op.order, node: op.node === 0 ? 0 : 1 });
          expect(run!.migrated).toBe(owner.moves.slice(before).reduce((sum, [, , o]) => sum + 2 ** o, 0));
          expect(b.freePageCount()).toBe(free);
          totals.moved += run!.migrated;
          if (run!.result === "success" && run!.migrated > 0) totals.successes++;
          if (run!.result === "success") expect(b.largestFreeOrder(op.node === 0 ? 0 : 1)).toBeGreaterThanOrEqual(op.order);
          // Pinned pages never move.
          for (const [from] of owner.moves.slice(before)) expect(owner.pinned.has(from)).toBe(false);
        } else if (op.kind === "proactive") {
          const free = b.freePageCount();
          for (const run of b.proactiveCompact(owner, op.proactiveness)) {
            totals.moved += run.migrated;
            if (run.result === "success") expect(b.fragmentationScore(run.node)).toBeLessThanOrEqual(Math.max(100 - op.proactiveness, 5));
          }
          expect(b.freePageCount()).toBe(free);
        } else if (op.kind === "fillAndThin") {
          const node = op.node === 0 ? 0 : 1;
          const filled: number[] = [];
          for (let pfn = b.allocPages(0, { migratetype: MigrateType.Movable, node, thisNode: true }); pfn >= 0; pfn = b.allocPages(0, { migratetype: MigrateType.Movable, node, thisNode: true })) filled.push(pfn);
          filled.forEach((pfn, i) => {
            if (i % op.every === 0) b.freePages(pfn, 0);
            else held.own(pfn, 0);
          });
        } else if (op.kind === "misbehave") {
          // The mover throws (or says it moved and did not) at some owned page: a typed error or nothing.
          const owned = [...owner.pages.keys()].sort((x, y) => x - y);
          if (owned.length === 0) continue;
          const pfn = owned[op.pick % owned.length]!;
          const order = owner.pages.get(pfn)!.order;
          if (op.lie) owner.lie = "keep-source";
          else owner.throwOn = pfn;
          try {
            b.compact(owner);
          } catch (error) {
            expect((error as { code: string }).code).toBe("ERR_INVALID_STATE");
            totals.errors++;
          }
          owner.lie = null;
          owner.throwOn = -1;
          // A lying owner kept its source block: the allocator still has it allocated there.
          if (op.lie) expect(b.blockOf(owned[0]!)).toMatchObject({ pfn: owned[0], state: "allocated" });
          expect(owner.pages.get(pfn)?.order ?? order).toBe(order);
        } else {
          const got = b.allocPagesCompacting(op.order, owner, { migratetype: MigrateType.Movable });
          if (got.pfn >= 0) held.own(got.pfn, op.order);
          if (got.compaction === "success" && got.pfn >= 0) totals.directSuccesses++;
        }
        b.check();
        held.agree(b);
      }
    }),
    { numRuns: 40, seed: 16 },
  );
  // The runs did compact: pages moved, runs that moved pages reached their order, misbehaving movers were caught.
  expect(totals.moved).toBeGreaterThan(0);
  expect(totals.successes).toBeGreaterThan(0);
  expect(totals.directSuccesses).toBeGreaterThan(0);
  expect(totals.errors).toBeGreaterThan(0);
});
