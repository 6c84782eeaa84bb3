/// <reference types="node" />
import fc from "fast-check";
import { describe, expect, test } from "vitest";
import { ErrorCode, MemoryMap } from "@mmkit/physmem";
import { expectMmkitError, runTsWorker } from "@mmkit/test-support";
import { BuddyAllocator, SharedBuddy, type SharedBuddyOptions } from "@mmkit/buddy";
import { stressFaults } from "@mmkit/test-support/shared-stress";
import { runSharedStress } from "./stress/shared-stress.ts";

const OPTIONS: SharedBuddyOptions = { maxOrder: 4, pageblockOrder: 2, cpus: 3, pcpBatch: 3, pcpHigh: 8, minFreeKbytes: 0 };
const map = () => MemoryMap.uniform(160 * 4096, { nodes: 2, holeBytes: 8 * 4096 });

describe("SharedBuddy in one thread", () => {
  test("starts as BuddyAllocator does; an attached instance sees the same state", () => {
    const single = new BuddyAllocator(map(), OPTIONS);
    const shared = SharedBuddy.create(map(), OPTIONS);
    expect(shared.buddyinfo()).toEqual(single.buddyinfo());
    expect(shared.freePageCount()).toBe(single.freePageCount());
    const other = SharedBuddy.attach(structuredClone(shared.handle));
    expect(other.owner).toBe(shared.owner + 1);
    expect(other.attachedCount).toBe(2);
    const pfn = other.claimCpu(1).allocPages(0);
    expect(pfn).toBe(single.cpu(1).allocPages(0));
    expect(shared.perCpuPageCount()).toBe(single.perCpuPageCount());
    expect(shared.allocatedPageCount()).toBe(1);
    shared.check();
  });

  test("initialState (a described starting state) is built, then shared: the same state as BuddyAllocator's", () => {
    const initialState = { pageblocks: [0, 1, 1, 1], free: [{ pfn: 1024, order: 10 }, { pfn: 8, order: 3 }], allocated: [{ pfn: 16, order: 0 }] };
    const single = new BuddyAllocator(MemoryMap.uniform(8 << 20), { initialState });
    const shared = SharedBuddy.create(MemoryMap.uniform(8 << 20), { initialState });
    expect(shared.freePageCount()).toBe(1032);
    expect(shared.buddyinfo()).toEqual(single.buddyinfo());
    expect(shared.handle.options).not.toHaveProperty("initialState");
    const worker = SharedBuddy.attach(structuredClone(shared.handle));
    worker.freePages(16, 0);
    single.freePages(16, 0);
    expect(shared.buddyinfo()).toEqual(single.buddyinfo());
    shared.check();
  });

  test("the same operations through CPU fronts give exactly the pfns of the single-threaded allocator", () => {
    fc.assert(
      fc.property(fc.array(fc.record({ alloc: fc.boolean(), cpu: fc.nat(2), order: fc.nat(4), pick: fc.nat() }), { maxLength: 120 }), (ops) => {
        const single = new BuddyAllocator(map(), OPTIONS);
        const creator = SharedBuddy.create(map(), OPTIONS);
        // Three "workers" in one thread, each with its own instance and CPU.
        const workers = [0, 1, 2].map((c) => SharedBuddy.attach(creator.handle).claimCpu(c));
        const live: [number, number][] = [];
        for (const op of ops) {
          if (op.alloc) {
            const a = single.cpu(op.cpu).allocPages(op.order);
            const b = workers[op.cpu]!.allocPages(op.order);
            expect(b).toBe(a);
            if (a >= 0) live.push([a, op.order]);
          } else if (live.length > 0) {
            const [pfn, order] = live.splice(op.pick % live.length, 1)[0]!;
            single.cpu(op.cpu).freePages(pfn, order);
            workers[op.cpu]!.freePages(pfn, order);
          }
          creator.check();
        }
        expect(creator.buddyinfo()).toEqual(single.buddyinfo());
        expect(creator.perCpuPageCount()).toBe(single.perCpuPageCount());
        const c = single.counters();
        expect(creator.counters()).toEqual(c);
      }),
      { numRuns: 60 },
    );
  });

  test("model: random cross-CPU allocs, frees and drains through fronts and the zone-lock path; nothing lost or doubled", () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.oneof(
            fc.record({ kind: fc.constant("alloc" as const), who: fc.integer({ min: -1, max: 2 }), order: fc.nat(4) }),
            fc.record({ kind: fc.constant("free" as const), who: fc.integer({ min: -1, max: 2 }), pick: fc.nat() }),
            fc.record({ kind: fc.constant("drain" as const), who: fc.nat(2) }),
          ),
          { maxLength: 150 },
        ),
        (ops) => {
          const creator = SharedBuddy.create(map(), { ...OPTIONS, lock: "spin" });
          const fronts = [0, 1, 2].map((c) => SharedBuddy.attach(creator.handle).claimCpu(c));
          const owned = new Set<number>();
          const live: [number, number][] = [];
          for (const op of ops) {
            if (op.kind === "alloc") {
              const pfn = op.who < 0 ? creator.allocPages(op.order) : fronts[op.who]!.allocPages(op.order);
              if (pfn >= 0) {
                for (let p = pfn; p < pfn + 2 ** op.order; p++) {
                  expect(owned.has(p), `pfn ${p} handed out twice`).toBe(false);
                  owned.add(p);
                }
                live.push([pfn, op.order]);
              }
            } else if (op.kind === "free" && live.length > 0) {
              const [pfn, order] = live.splice(op.pick % live.length, 1)[0]!;
              for (let p = pfn; p < pfn + 2 ** order; p++) owned.delete(p);
              if (op.who < 0) creator.freePages(pfn, order);
              else fronts[op.who]!.freePages(pfn, order);
            } else if (op.kind === "drain") fronts[op.who]!.drain();
            creator.check();
            expect(creator.allocatedPageCount()).toBe(owned.size);
          }
          for (const [pfn, order] of live) fronts[0]!.freePages(pfn, order);
          for (const f of fronts) f.drain();
          creator.check();
          expect(creator.freePageCount()).toBe(creator.managedPages());
          expect(creator.buddyinfo()).toEqual(new BuddyAllocator(map(), OPTIONS).buddyinfo());
          const c = creator.counters();
          expect(c.allocs).toBe(c.frees + 0);
        },
      ),
      { numRuns: 60 },
    );
  });

  test("a page freed on another CPU goes to that CPU's list; high bounds it with a batch drain", () => {
    const creator = SharedBuddy.create(map(), OPTIONS);
    const a = SharedBuddy.attach(creator.handle).claimCpu(0);
    const b = SharedBuddy.attach(creator.handle).claimCpu(1);
    const pfns = Array.from({ length: 8 }, () => a.allocPages(0));
    expect(a.pages).toBe(1); // three refills of 3, eight taken
    for (const p of pfns.slice(0, 7)) b.freePages(p, 0);
    // The 8th page on b's list reached high (8) and drained a batch of 3.
    b.freePages(pfns[7]!, 0);
    expect(b.pages).toBe(5);
    expect(creator.counters()).toMatchObject({ pcpRefills: 3, pcpDrains: 1, allocs: 8, frees: 8 });
    creator.check();
  });

  test("bad use is a typed error: another layout or version, a claimed CPU, a detached instance, shared-mode options", () => {
    const creator = SharedBuddy.create(map(), OPTIONS);
    const h = creator.handle;
    expectMmkitError(() => SharedBuddy.attach({ ...h, version: 2 }), ErrorCode.LayoutMismatch, "version 2");
    expectMmkitError(() => SharedBuddy.attach({ ...h, options: { ...h.options, cpus: 4 } }), ErrorCode.LayoutMismatch, "buddy pcp");
    expectMmkitError(() => SharedBuddy.attach({ ...h, options: { ...h.options, maxOrder: 5 } }), ErrorCode.LayoutMismatch, "buddy memmap");
    expectMmkitError(() => SharedBuddy.attach(null as never), ErrorCode.LayoutMismatch, "null");
    const w1 = SharedBuddy.attach(h);
    const w2 = SharedBuddy.attach(h);
    const f = w1.claimCpu(2);
    expect(w1.claimCpu(2)).toBe(f);
    expectMmkitError(() => w2.claimCpu(2), ErrorCode.InvalidState, `owner ${w1.owner}`);
    expectMmkitError(() => w2.claimCpu(3), ErrorCode.OutOfRange, "3");
    const pfn = f.allocPages(0);
    w1.detach();
    w1.detach();
    expectMmkitError(() => f.allocPages(0), ErrorCode.Detached, "cpu 2");
    expectMmkitError(() => f.freePages(pfn, 0), ErrorCode.Detached, "detached");
    expectMmkitError(() => w1.counters(), ErrorCode.Detached, "detached");
    expect(creator.cpuOwner(2)).toBe(0);
    const again = w2.claimCpu(2);
    // pfn + 1 sits on a per-CPU list since the refill: free already.
    expectMmkitError(() => again.freePages(pfn + 1, 0), ErrorCode.DoubleFree, String(pfn + 1));
    again.freePages(pfn, 0);
    expectMmkitError(() => again.freePages(pfn, 0), ErrorCode.DoubleFree, String(pfn));
    creator.check();
    expectMmkitError(() => SharedBuddy.create(map(), { lock: "ticket" as never }), ErrorCode.InvalidArgument, '"ticket"');
    expectMmkitError(() => SharedBuddy.create(map(), { faultInjection: { probability: 1 } } as never), ErrorCode.InvalidArgument, "fault injection");
    expectMmkitError(() => SharedBuddy.create(map(), { cpus: 0 }), ErrorCode.OutOfRange, "0");
  });

  test("recoverFrom: a dead owner's lock and CPUs come back; its per-CPU pages drain", () => {
    const creator = SharedBuddy.create(map(), OPTIONS);
    const dead = SharedBuddy.attach(creator.handle);
    const cpu = dead.claimCpu(1);
    cpu.freePages(cpu.allocPages(0), 0);
    expect(creator.perCpuPageCount()).toBe(3);
    // (a worker killed mid-operation: simulated by not detaching)
    expect(creator.recoverFrom(dead.owner)).toEqual({ lockBroken: false, cpus: [1] });
    creator.claimCpu(1).drain();
    expect(creator.freePageCount()).toBe(creator.managedPages());
    creator.check();
  });
});

test.each(["mutex", "spin"] as const)("4 workers (more than the cores) x 20k random ops under a %s, cross-worker frees through rings: nothing lost or doubled, all back, check() passes", async (lock) => {
  const r = await runSharedStress({ workers: 4, opsPerWorker: 20_000, seed: 3, buddy: { lock } });
  // Nothing doubled or misaligned, check() passes, the rings empty, every allocation freed, the counters agree, no unit still claimed.
  expect(stressFaults(r)).toEqual([]);
  expect(r.perCpuAfter).toBe(0);
  expect(r.freeAfter).toBe(r.managed);
  expect(r.attachedAfter).toBe(1);
  expect(r.sent).toBeGreaterThan(1000);
  expect(r.lock.acquisitions).toBeGreaterThan(0);
}, 120_000);

test("stressFaults, which the run above leans on, names every fault of a bad outcome and none of a good one", () => {
  const good = { allocs: 9, frees: 9, sent: 4, received: 4, doubles: 0, misplaced: 0, failures: 2, ownedAfter: 0, check: "ok", counters: { allocs: 9, frees: 9 } };
  expect(stressFaults(good)).toEqual([]);
  expect(stressFaults({ ...good, doubles: 2, misplaced: 1, check: "pfn 8 on two lists", received: 3, frees: 8, counters: { allocs: 10, frees: 7 }, ownedAfter: 1 })).toEqual([
    "2 units handed out twice",
    "1 blocks not aligned to their order",
    "check(): pfn 8 on two lists",
    "4 blocks sent through the rings, 3 received",
    "9 allocations, 8 frees",
    "the allocator counted 10 allocations, the workers 9",
    "the allocator counted 7 frees, the workers 8",
    "1 units still claimed after the run",
  ]);
});

test("a worker that dies holding the zone lock: recoverFrom breaks the lock, the others carry on, check() says the state is whole", async () => {
  const shared = SharedBuddy.create(map(), OPTIONS);
  const cpu = shared.claimCpu(0);
  const held = [cpu.allocPages(0), cpu.allocPages(4)];
  const dead = 77;
  expect(await runTsWorker(new URL("./stress/die-in-lock.ts", import.meta.url), { handle: shared.handle, owner: dead })).toBe("holding");
  // The lock is held by a thread that is gone: a survivor that needed it now would wait forever.
  expect(shared.recoverFrom(dead)).toEqual({ lockBroken: true, cpus: [] });
  expect(shared.recoverFrom(dead)).toEqual({ lockBroken: false, cpus: [] });
  // It died outside any allocator operation, so the state is whole and everything works on.
  shared.check();
  cpu.freePages(held[1]!, 4);
  cpu.freePages(held[0]!, 0);
  cpu.drain();
  expect(shared.freePageCount()).toBe(shared.managedPages());
  shared.check();
}, 60_000);
