/// <reference types="node" />
import fc from "fast-check";
import { describe, expect, test } from "vitest";
import { ErrorCode, MiB } from "@mmkit/physmem";
import { expectMmkitError, runTsWorker } from "@mmkit/test-support";
import { Potad, SharedPotad, type SharedPotadOptions } from "@mmkit/potad";
import { stressFaults } from "@mmkit/test-support/shared-stress";
import { runSharedStress } from "./stress/shared-stress.ts";

// Two spaces: 3 MiB of 4 KiB granules (a 2 MiB and a 1 MiB block), and 1 MiB of 512 B slots at 1 GiB whose fronts serve orders 3..6.
const SPACES = [
  { base: 0, size: 3 * MiB, granule: 4096 },
  { base: 1 << 30, size: MiB, granule: 512, frontOrder: 3 },
];
const OPTIONS: SharedPotadOptions = { spaces: SPACES, cpus: 3, frontHigh: 8, frontBatch: 4 };

/** Everything observable that a refused call must leave as it was (the lock's own counters aside: a locked diagnosis takes the lock). */
function observable(p: SharedPotad): string {
  return JSON.stringify([p.stats(0), p.stats(1), p.counters()]);
}

describe("SharedPotad in one thread", () => {
  test("starts with the blocks Potad.addSpace makes; with the fronts off it hands out exactly Potad's addresses", () => {
    fc.assert(
      fc.property(fc.array(fc.record({ alloc: fc.boolean(), space: fc.nat(1), order: fc.nat(9), pick: fc.nat() }), { maxLength: 150 }), (ops) => {
        const single = new Potad({ frontHigh: 0 });
        for (const s of SPACES) single.addSpace(s);
        const shared = SharedPotad.create({ ...OPTIONS, frontHigh: 0, frontBatch: 1 });
        const other = SharedPotad.attach(structuredClone(shared.handle));
        expect(shared.stats(0).freeBytesByOrder).toEqual(single.stats(0).freeBytesByOrder);
        expect(shared.stats(1).freeBytesByOrder).toEqual(single.stats(1).freeBytesByOrder);
        const live: number[] = [];
        for (const op of ops) {
          if (op.alloc) {
            const a = single.allocOrder(op.space, op.order);
            // Half through a (fronts-off) CPU front, half through the zone-lock path of another instance.
            const b = op.pick % 2 === 0 ? shared.claimCpu(0).allocOrder(op.space, op.order) : other.allocOrder(op.space, op.order);
            expect(b).toBe(a);
            if (a >= 0) live.push(a);
          } else if (live.length > 0) {
            const a = live.splice(op.pick % live.length, 1)[0]!;
            single.free(a);
            if (op.pick % 3 === 0) other.free(a);
            else shared.claimCpu(0).free(a);
          }
          expect(shared.stats(op.space).freeBytesByOrder).toEqual(single.stats(op.space).freeBytesByOrder);
        }
        shared.check();
      }),
      { numRuns: 60 },
    );
  });

  test("model: random allocations and frees through three instances' fronts and the zone lock; check() after every step; everything back after a drain", () => {
    fc.assert(
      fc.property(fc.array(fc.record({ kind: fc.nat(9), who: fc.nat(3), space: fc.nat(1), order: fc.nat(7), pick: fc.nat() }), { maxLength: 200 }), (ops) => {
        const creator = SharedPotad.create(OPTIONS);
        const instances = [0, 1, 2].map(() => SharedPotad.attach(structuredClone(creator.handle)));
        const fronts = instances.map((p, c) => p.claimCpu(c));
        // The reference model: the live allocations, [address, bytes].
        const live: [number, number][] = [];
        const sizes = [0, 0];
        for (const op of ops) {
          if (op.kind < 5) {
            const bytes = SPACES[op.space]!.granule * 2 ** op.order;
            const a = op.who < 3 ? fronts[op.who]!.allocOrder(op.space, op.order) : creator.allocOrder(op.space, op.order);
            if (a >= 0) {
              const s = SPACES[op.space]!;
              expect(a % bytes).toBe(0);
              expect(a >= s.base && a + bytes <= s.base + s.size).toBe(true);
              for (const [b, n] of live) expect(a + bytes <= b || b + n <= a).toBe(true);
              live.push([a, bytes]);
              sizes[op.space]! += bytes;
            }
          } else if (op.kind < 9 && live.length > 0) {
            const [a, bytes] = live.splice(op.pick % live.length, 1)[0]!;
            if (op.who < 3) fronts[op.who]!.free(a, op.pick % 2 === 0 ? bytes : undefined);
            else creator.free(a);
            sizes[a >= SPACES[1]!.base ? 1 : 0]! -= bytes;
          } else if (op.kind === 9) {
            fronts[op.who % 3]!.drain();
          }
          creator.check();
          expect(creator.stats(0).allocatedBytes).toBe(sizes[0]);
          expect(creator.stats(1).allocatedBytes).toBe(sizes[1]);
          for (const [a, bytes] of live) expect(creator.sizeOf(a)).toBe(bytes);
        }
        for (const [a] of live) fronts[a % 3]!.free(a);
        for (const f of fronts) f.drain();
        creator.check();
        for (const s of [0, 1]) {
          const st = creator.stats(s);
          expect([st.allocatedBytes, st.cachedBlocks, st.freeBytes]).toEqual([0, 0, SPACES[s]!.size]);
        }
        expect(creator.stats(0).freeBlocks).toBe(2);
        expect(creator.counters().allocs).toBe(creator.counters().frees);
      }),
      { numRuns: 40 },
    );
  });

  test("a front: a refill takes batch blocks under one lock, the next batch - 1 allocations take none; a free reaching high merges batch under one", () => {
    const p = SharedPotad.create(OPTIONS);
    const f = p.claimCpu(0);
    const a = [f.alloc(0, 4096)];
    expect(p.lockStats().acquisitions).toBe(1);
    expect(f.cachedBlocks).toBe(3);
    for (let i = 0; i < 3; i++) a.push(f.alloc(0, 4096));
    expect(p.lockStats().acquisitions).toBe(1);
    expect(a).toEqual([2097152, 2101248, 2105344, 2109440]);
    a.push(f.alloc(0, 4096));
    expect(p.lockStats().acquisitions).toBe(2);
    for (let i = 0; i < 3; i++) a.push(f.alloc(0, 4096));
    for (const x of a.slice(0, 7)) f.free(x);
    expect([p.lockStats().acquisitions, f.cachedBlocks]).toEqual([2, 7]);
    // The 8th free fills the front to high (8): batch (4) of them merge, under the lock.
    f.free(a[7]!);
    expect([p.lockStats().acquisitions, f.cachedBlocks]).toEqual([3, 4]);
    expect(p.counters()).toMatchObject({ allocs: 8, frees: 8, fastAllocs: 6, fastFrees: 8, refills: 2, refilled: 6, flushes: 1, flushed: 4 });
    p.check();
  });

  test("a block freed by another worker goes on the freeing CPU's front; larger orders go to the free lists", () => {
    const p = SharedPotad.create(OPTIONS);
    const w0 = p.claimCpu(0);
    const w1 = SharedPotad.attach(p.handle).claimCpu(1);
    const a = w0.alloc(1, 4096);
    expect(a).toBe((1 << 30) + 0);
    expect([w0.cachedBlocks, w1.cachedBlocks]).toEqual([3, 0]);
    w1.free(a);
    expect([w0.cachedBlocks, w1.cachedBlocks]).toEqual([3, 1]);
    // A 512-byte slot (order 0) is below the space's fronts: straight to the free lists, under the lock.
    const slot = w1.alloc(1, 512);
    expect(w1.cachedBlocks).toBe(1);
    w0.free(slot);
    expect([w0.cachedBlocks, w1.cachedBlocks]).toEqual([3, 1]);
    expect(w1.alloc(1, 4096)).toBe(a);
    p.check();
  });

  test("a page face over a space: pfns of pageSize pages, freed with their order", () => {
    const p = SharedPotad.create(OPTIONS);
    const pages = p.claimCpu(2).pageFace(1, 4096);
    const pfn = pages.allocPages(1);
    expect(pfn).toBe((1 << 30) / 4096);
    expect(p.sizeOf(pfn * 4096)).toBe(8192);
    expectMmkitError(() => pages.freePages(pfn, 0), ErrorCode.WrongSize, "8192");
    expectMmkitError(() => pages.freePages(5, 0), ErrorCode.OutOfRange, "pfn 5");
    expectMmkitError(() => pages.allocPages(9), ErrorCode.OutOfRange, "9");
    pages.freePages(pfn, 1);
    expectMmkitError(() => p.claimCpu(2).pageFace(1, 256), ErrorCode.OutOfRange, "256");
    p.check();
  });

  test("misuse is a typed error naming the value, and changes nothing", () => {
    const p = SharedPotad.create(OPTIONS);
    const f = p.claimCpu(0);
    const a = f.alloc(0, 8192);
    const big = p.alloc(0, MiB);
    const cached = a + 8192; // the refill's second order-1 block waits on cpu 0's front
    const before = observable(p);
    expectMmkitError(() => f.free(cached), ErrorCode.DoubleFree, `${cached}`);
    expectMmkitError(() => f.free(a + 4096), ErrorCode.NotAllocated, `${a + 4096}`);
    expectMmkitError(() => f.free(a, 4096), ErrorCode.WrongSize, "8192");
    expectMmkitError(() => f.free(a, 0), ErrorCode.InvalidArgument, "0");
    expectMmkitError(() => f.free(-1), ErrorCode.InvalidArgument, "-1");
    expectMmkitError(() => f.free(1.5), ErrorCode.InvalidArgument, "1.5");
    expectMmkitError(() => f.free(10n as never), ErrorCode.InvalidArgument, "10n");
    expectMmkitError(() => f.free(5 * MiB), ErrorCode.NotAllocated, "in no space");
    expectMmkitError(() => p.free(big + 4096), ErrorCode.NotAllocated, `${big + 4096}`);
    expectMmkitError(() => p.free(2 * MiB + 1024 * 1024 - 4096), ErrorCode.NotAllocated, "not the start");
    expectMmkitError(() => f.alloc(0, 0), ErrorCode.InvalidArgument, "0");
    expectMmkitError(() => f.alloc(0, 4 * MiB), ErrorCode.OutOfRange, "4194304");
    expectMmkitError(() => f.alloc(2, 4096), ErrorCode.InvalidArgument, "2");
    expectMmkitError(() => f.allocOrder(0, 10), ErrorCode.OutOfRange, "10");
    expectMmkitError(() => f.allocOrder(0, -1), ErrorCode.OutOfRange, "-1");
    expectMmkitError(() => p.allocOrder(0.5, 0), ErrorCode.InvalidArgument, "0.5");
    expectMmkitError(() => p.sizeOf(big + 1), ErrorCode.NotAllocated, `${big + 1}`);
    expectMmkitError(() => p.claimCpu(3), ErrorCode.OutOfRange, "3");
    expect(observable(p)).toBe(before);
    f.free(a);
    expectMmkitError(() => f.free(a), ErrorCode.DoubleFree, `${a}`);
    p.free(big);
    expectMmkitError(() => p.free(big), ErrorCode.NotAllocated, `${big}`);
    p.check();
  });

  test("bad options and spaces are refused", () => {
    expectMmkitError(() => SharedPotad.create(null as never), ErrorCode.InvalidArgument, "null");
    expectMmkitError(() => SharedPotad.create({ spaces: [] }), ErrorCode.InvalidArgument, "spaces");
    expectMmkitError(() => SharedPotad.create({ spaces: [SPACES[0]!, { base: MiB, size: MiB, granule: 4096 }] }), ErrorCode.Overlap, "overlaps space 0");
    expectMmkitError(() => SharedPotad.create({ spaces: [{ base: 0, size: 2 ** 40, granule: 4096 }] }), ErrorCode.OutOfRange, "use a larger granule");
    expectMmkitError(() => SharedPotad.create({ spaces: [{ base: 100, size: 4096, granule: 4096 }] }), ErrorCode.NotAligned, "100");
    expectMmkitError(() => SharedPotad.create({ spaces: SPACES, frontHigh: 4, frontBatch: 5 }), ErrorCode.OutOfRange, "5");
    expectMmkitError(() => SharedPotad.create({ spaces: SPACES, cpus: 0 }), ErrorCode.OutOfRange, "0");
    expectMmkitError(() => SharedPotad.create({ spaces: SPACES, lock: "ticket" as never }), ErrorCode.InvalidArgument, '"ticket"');
    // 1 TiB is fine with a granule that keeps it within 2^26 slots: 16 MiB of them.
    const huge = SharedPotad.create({ spaces: [{ base: 0, size: 2 ** 40, granule: 2 ** 20 }] });
    expect(huge.alloc(0, 2 ** 39)).toBe(0);
    expect(huge.metadataBytes).toBeLessThan(16 * 2 ** 20 + 4096);
  });

  test("attach refuses a handle of another format, version or layout; a detached instance and its fronts refuse every call; a claimed CPU is refused", () => {
    const p = SharedPotad.create(OPTIONS);
    const h = p.handle;
    expectMmkitError(() => SharedPotad.attach({ ...h, format: "mmkit-shared-buddy" } as never), ErrorCode.LayoutMismatch, "not a shared potad handle");
    expectMmkitError(() => SharedPotad.attach({ ...h, version: 2 }), ErrorCode.LayoutMismatch, "version 2");
    expectMmkitError(() => SharedPotad.attach({ ...h, options: { ...h.options, cpus: 4 } }), ErrorCode.LayoutMismatch, "another version or shape");
    expectMmkitError(() => SharedPotad.attach({ ...h, options: { ...h.options, spaces: [{ base: 0, size: 4 * MiB, granule: 4096 }] } }), ErrorCode.LayoutMismatch, "another version or shape");
    expectMmkitError(() => SharedPotad.attach({ ...h, options: { ...h.options, frontHigh: -1 } }), ErrorCode.LayoutMismatch, "does not describe its buffer");
    expectMmkitError(() => SharedPotad.attach(null as never), ErrorCode.LayoutMismatch, "null");
    const w = SharedPotad.attach(h);
    const f = w.claimCpu(2);
    expectMmkitError(() => p.claimCpu(2), ErrorCode.InvalidState, `owner ${w.owner}`);
    const a = f.alloc(0, 4096);
    expect(w.attachedCount).toBe(2);
    w.detach();
    w.detach();
    expect(p.attachedCount).toBe(1);
    expect(p.cpuOwner(2)).toBe(0);
    expectMmkitError(() => f.alloc(0, 4096), ErrorCode.Detached, "cpu 2");
    expectMmkitError(() => f.free(a), ErrorCode.Detached, "detached");
    expectMmkitError(() => w.stats(0), ErrorCode.Detached, "detached");
    expectMmkitError(() => w.handle, ErrorCode.Detached, "detached");
    // The CPU's front kept its blocks: a new owner frees into it and drains it.
    const again = p.claimCpu(2);
    expect(again.cachedBlocks).toBe(3);
    again.free(a);
    again.drain();
    expect(p.stats(0).freeBytes).toBe(3 * MiB);
    p.check();
  });

  test("recoverFrom: a dead owner's CPUs come back and drain", () => {
    const p = SharedPotad.create(OPTIONS);
    const dead = SharedPotad.attach(p.handle);
    const f = dead.claimCpu(1);
    f.free(f.alloc(0, 4096));
    // (a worker killed between operations: simulated by not detaching)
    expect(p.recoverFrom(dead.owner)).toEqual({ lockBroken: false, cpus: [1] });
    p.claimCpu(1).drain();
    expect(p.stats(0).freeBytes).toBe(3 * MiB);
    p.check();
  });
});

test.each(["mutex", "spin"] as const)("4 workers (more than the cores) x 25k random ops under a %s, cross-worker frees through rings: nothing lost or doubled, all back, check() passes", async (lock) => {
  const r = await runSharedStress({ workers: 4, opsPerWorker: 25_000, seed: 5, potad: { lock } });
  // Nothing doubled or misaligned, check() passes, the rings empty, every allocation freed, the counters agree, no unit still claimed.
  expect(stressFaults(r)).toEqual([]);
  expect([r.cachedAfter, r.allocatedAfter, r.freeAfter, r.ownedAfter, r.attachedAfter]).toEqual([0, 0, r.size, 0, 1]);
  expect(r.sent).toBeGreaterThan(1000);
  expect(r.counters.fastAllocs).toBeGreaterThan(r.allocs / 2);
}, 120_000);

test("a worker that dies holding the zone lock: recoverFrom breaks the lock and frees its CPU, the others carry on, check() says the state is whole", async () => {
  const p = SharedPotad.create(OPTIONS);
  const f = p.claimCpu(0);
  const held = [f.alloc(0, 4096), f.alloc(0, MiB)];
  const dead = (await runTsWorker(new URL("./stress/die-in-lock.ts", import.meta.url), { handle: p.handle })) as number;
  expect(dead).toBe(p.owner + 1);
  // The lock is held by a thread that is gone: a survivor that needed it now would wait forever.
  expect(p.recoverFrom(dead)).toEqual({ lockBroken: true, cpus: [1] });
  expect(p.recoverFrom(dead)).toEqual({ lockBroken: false, cpus: [] });
  // It died outside any allocator operation, so the state is whole and everything works on.
  p.check();
  f.free(held[1]!);
  f.free(held[0]!);
  f.drain();
  expect(p.stats(0).freeBytes).toBe(3 * MiB);
  p.check();
}, 60_000);
