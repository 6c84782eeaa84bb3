import { ErrorCode, MmkitError } from "@mmkit/physmem";
import fc from "fast-check";
import { describe, expect, test } from "vitest";
import { TraceError, TraceErrorCode, TraceEventKind as K, TraceReplayer, replayTrace, type PageAllocator, type TraceRecord } from "../../src/trace/index.js";
import { RecordingAllocator } from "./helpers.js";

let line = 0;
const alloc = (pfn: number, order: number): TraceRecord => ({ kind: K.Alloc, line: ++line, pfn, id: -1, order, count: 1, text: "" });
const free = (pfn: number, order: number): TraceRecord => ({ kind: K.Free, line: ++line, pfn, id: -1, order, count: 1, text: "" });
const allocId = (id: number, order: number): TraceRecord => ({ kind: K.Alloc, line: ++line, pfn: -1, id, order, count: 1, text: "" });
const freeId = (id: number, order = -1): TraceRecord => ({ kind: K.Free, line: ++line, pfn: -1, id, order, count: 1, text: "" });
const marker = (text: string): TraceRecord => ({ kind: K.Marker, line: ++line, pfn: -1, id: -1, order: -1, count: 1, text });

function run(records: TraceRecord[], sut = new RecordingAllocator()) {
  const replayer = new TraceReplayer(sut);
  for (const r of records) {
    replayer.apply(r);
    replayer.check();
  }
  return { report: replayer.report(), calls: sut.calls };
}

describe("matching frees to allocations (pfn-keyed)", () => {
  test("exact free: the allocator gets its own pfn back with the allocation's order", () => {
    const { report, calls } = run([alloc(0x1000, 2), alloc(0x2000, 0), free(0x1000, 2), free(0x2000, 0)]);
    expect(calls).toEqual(["alloc 2 -> 0", "alloc 0 -> 1024", "free 0 2", "free 1024 0"]);
    expect([report.freesMatched, report.freesUnmatched, report.freesOrderMismatch, report.freesPartial, report.peakLivePages]).toEqual([2, 0, 0, 0, 5]);
  });

  test("a free with no allocation is unmatched (allocated before the capture) and never reaches the allocator", () => {
    const { report, calls } = run([free(7, 0), free(64, 3)]);
    expect(calls).toEqual([]);
    expect([report.freesMatched, report.freesUnmatched, report.livePagesAtEnd]).toEqual([0, 2, 0]);
  });

  test("split_page style: an order-2 block freed as order 0 pages (in any order) frees the block at its last page", () => {
    const { report, calls } = run([alloc(8, 2), free(10, 0), free(8, 0), free(11, 0)]);
    expect(calls).toEqual(["alloc 2 -> 0"]);
    expect([report.liveAllocationsAtEnd, report.livePagesAtEnd, report.freesPartial]).toEqual([1, 1, 3]);
    const done = run([alloc(8, 2), free(10, 0), free(8, 0), free(11, 0), free(9, 0)]);
    expect(done.calls).toEqual(["alloc 2 -> 0", "free 0 2"]);
    expect([done.report.liveAllocationsAtEnd, done.report.livePagesAtEnd, done.report.freesPartial, done.report.freesMatched]).toEqual([0, 0, 4, 4]);
  });

  test("a free of the first half (order 1 of an order-2 block) is partial; a second free of the same pages is unmatched", () => {
    const { report } = run([alloc(8, 2), free(8, 1), free(8, 1)]);
    expect([report.freesMatched, report.freesUnmatched, report.freesPartial, report.freesOrderMismatch, report.livePagesAtEnd]).toEqual([1, 1, 1, 1, 2]);
  });

  test("a free of a larger order than the allocation frees every allocation in its range", () => {
    const { report, calls } = run([alloc(16, 0), alloc(17, 0), alloc(18, 1), alloc(20, 0), free(16, 2)]);
    expect(calls.slice(4)).toEqual(["free 0 0", "free 1024 0", "free 2048 1"]);
    expect([report.freesMatched, report.freesOrderMismatch, report.freesPartial, report.liveAllocationsAtEnd, report.livePagesAtEnd]).toEqual([1, 1, 0, 1, 1]);
  });

  test("an allocation of pages the trace still holds frees the old allocation first (a missed free)", () => {
    const { report, calls } = run([alloc(32, 3), alloc(36, 0), alloc(40, 0)]);
    // The order-0 allocation at 36 lies inside the live order-3 block at 32: that block is split and loses page 36.
    expect(calls).toEqual(["alloc 3 -> 0", "alloc 0 -> 1024", "alloc 0 -> 2048"]);
    expect([report.allocsOverLive, report.liveAllocationsAtEnd, report.livePagesAtEnd, report.peakLivePages]).toEqual([1, 3, 9, 9]);
    const again = run([alloc(32, 0), alloc(32, 0)]);
    expect(again.calls).toEqual(["alloc 0 -> 0", "free 0 0", "alloc 0 -> 1024"]);
    expect(again.report.allocsOverLive).toBe(1);
  });

  test("allocation failures of the system under test are counted; their frees are not passed on", () => {
    const sut = new RecordingAllocator((n) => n === 1);
    const { report, calls } = run([alloc(0, 0), alloc(4, 2), free(4, 2), free(0, 0)], sut);
    expect(calls).toEqual(["alloc 0 -> 0", "alloc 2 -> -1", "free 0 0"]);
    expect([report.sutFailures, report.freesOfFailedAllocs, report.freesMatched, report.peakLivePages]).toEqual([1, 1, 2, 5]);
    expect(report.sutFailuresByOrder).toEqual([0, 0, 1]);
  });
});

describe("mmkit ids", () => {
  test("frees match by id; no pfn arithmetic between neighbouring ids", () => {
    const { report, calls } = run([allocId(4, 2), freeId(5), freeId(4, 0), allocId(4, 0), allocId(4, 0)]);
    expect(calls).toEqual(["alloc 2 -> 0", "free 0 2", "alloc 0 -> 1024", "free 1024 0", "alloc 0 -> 2048"]);
    expect([report.freesMatched, report.freesUnmatched, report.freesOrderMismatch, report.allocsOverLive, report.livePagesAtEnd]).toEqual([1, 1, 1, 1, 1]);
  });
});

describe("phases, markers and hooks", () => {
  test("PHASE markers split the counts; other markers are listed only; onPhase and onSample fire", () => {
    const seen: string[] = [];
    const replayer = new TraceReplayer(new RecordingAllocator(), {
      sampleEvery: 2,
      onSample: (p) => seen.push(`sample ${p.pageEvents} ${p.phase} ${p.livePages}`),
      onPhase: (name, p) => seen.push(`phase ${name} at ${p.livePages}`),
    });
    for (const r of [alloc(0, 0), marker("PHASE one"), alloc(1, 0), marker("note"), free(0, 0), marker("PHASE two"), free(1, 0)]) replayer.apply(r);
    const report = replayer.report();
    expect(seen).toEqual(["phase one at 1", "sample 2 one 2", "phase two at 1", "sample 4 two 0"]);
    expect(report.phases.map((p) => [p.name, p.allocs, p.frees, p.livePagesAtStart, p.livePagesAtEnd, p.peakLivePages])).toEqual([
      ["", 1, 0, 0, 1, 1],
      ["one", 1, 1, 1, 1, 2],
      ["two", 0, 1, 1, 0, 1],
    ]);
    expect(report.markers.map((m) => m.text)).toEqual(["PHASE one", "note", "PHASE two"]);
    expect(report.events.marker).toBe(3);
  });

  test("a custom phaseMarker", () => {
    const report = replayTrace([marker("== step A =="), alloc(0, 0)], new RecordingAllocator(), { phaseMarker: /^== (.*) ==$/ });
    expect(report.phases.map((p) => p.name)).toEqual(["step A"]);
  });

  test("annotations, unknown and lost events are counted and never replayed", () => {
    const rec = (kind: (typeof K)[keyof typeof K], text = "", count = 1): TraceRecord => ({ kind, line: ++line, pfn: 5, id: -1, order: 0, count, text });
    const sut = new RecordingAllocator();
    const report = replayTrace([rec(K.FreeBatched), rec(K.PcpuDrain), rec(K.ZoneLocked), rec(K.ExtFrag), rec(K.Unknown, "kfree"), rec(K.Lost, "cpu 1", 40), rec(K.AllocFailed)], sut);
    expect(sut.calls).toEqual([]);
    expect(report.events).toMatchObject({ freeBatched: 1, pcpuDrain: 1, zoneLocked: 1, extfrag: 1, unknown: 1, lost: 1, allocFailed: 1 });
    expect([report.lostEvents, report.unknownEvents]).toEqual([40, { kfree: 1 }]);
  });
});

describe("misuse", () => {
  test("bad options and allocators are typed errors naming the value", () => {
    const sut = new RecordingAllocator();
    const cases: [() => unknown, string, string][] = [
      [() => new TraceReplayer({ allocPages: () => 0 } as unknown as PageAllocator), ErrorCode.InvalidArgument, "allocator"],
      [() => new TraceReplayer(sut, { sampleEvery: 0, onSample: () => {} }), ErrorCode.OutOfRange, "sampleEvery must be in [1"],
      [() => new TraceReplayer(sut, { sampleEvery: 1.5, onSample: () => {} }), ErrorCode.InvalidArgument, "1.5"],
      [() => new TraceReplayer(sut, { sampleEvery: 10 }), ErrorCode.InvalidArgument, "sampleEvery and onSample go together"],
      [() => new TraceReplayer(sut, { phaseMarker: "PHASE" as never }), ErrorCode.InvalidArgument, '"PHASE"'],
    ];
    for (const [fn, code, text] of cases) {
      try {
        fn();
        expect.unreachable();
      } catch (e) {
        expect(e).toBeInstanceOf(MmkitError);
        expect((e as MmkitError).code).toBe(code);
        expect((e as Error).message).toContain(text);
      }
    }
  });

  test("bad records throw before anything changes", () => {
    const replayer = new TraceReplayer(new RecordingAllocator());
    replayer.apply(alloc(8, 1));
    const before = JSON.stringify(replayer.report());
    const bad: [TraceRecord, string][] = [
      [{ ...alloc(0, 0), order: 31 }, "order 31"],
      [{ ...alloc(0, 0), order: 0.5 }, "order 0.5"],
      [{ ...alloc(0, 0), order: -1 }, "order -1"],
      [{ ...alloc(0, 0), pfn: -1 }, "pfn -1 and id -1"],
      [{ ...alloc(0, 0), id: 3 }, "pfn 0 and id 3"],
      [{ ...free(0, 0), pfn: Number.NaN }, "pfn NaN"],
      [{ ...alloc(0, 0), pfn: 2 ** 53 - 2, order: 2 }, "beyond 2^53"],
      [{ ...alloc(0, 0), kind: 42 as never }, "record.kind must be a TraceEventKind, got 42"],
      [{ ...alloc(0, 0), kind: K.Lost, count: -3 }, "count must be a non-negative integer, got -3"],
    ];
    for (const [record, text] of bad) {
      expect(() => replayer.apply(record)).toThrow(MmkitError);
      try {
        replayer.apply(record);
      } catch (e) {
        expect((e as Error).message).toContain(text);
      }
      expect(JSON.stringify(replayer.report())).toBe(before);
      replayer.check();
    }
  });

  test("an allocator that misbehaves stops the replay with ERR_TRACE_REPLAY naming the line", () => {
    const returnsJunk: PageAllocator = { allocPages: () => 1.5, freePages: () => {} };
    line = 99;
    const e1 = (() => {
      try {
        new TraceReplayer(returnsJunk).apply(alloc(0, 0));
      } catch (e) {
        return e as TraceError;
      }
    })();
    expect([e1?.code, e1?.line]).toEqual([TraceErrorCode.Replay, 100]);
    expect(e1?.message).toBe("line 100: allocPages(0) returned 1.5, not a pfn or -1");
    const throwsOnFree: PageAllocator = {
      allocPages: () => 0,
      freePages: () => {
        throw new MmkitError(ErrorCode.DoubleFree, "pfn 0 is free");
      },
    };
    const replayer = new TraceReplayer(throwsOnFree);
    replayer.apply(alloc(0, 0));
    try {
      replayer.apply(free(0, 0));
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(TraceError);
      expect((e as TraceError).code).toBe(TraceErrorCode.Replay);
      expect((e as Error).message).toContain("freePages(0, 0): pfn 0 is free");
      expect((e as Error & { cause: unknown }).cause).toBeInstanceOf(MmkitError);
    }
  });
});

/**
 * The reference model: one owner per page (pfn 0..127), allocations with their pages left and
 * split flag. It restates the matching rules in the plainest way (page by page), independently
 * of the replayer's Map + typed-array slots and its covering search.
 */
class Model {
  readonly owner = new Int32Array(160).fill(-1);
  readonly allocs = new Map<number, { head: number; order: number; left: number; split: boolean; sutPfn: number }>();
  readonly calls: string[] = [];
  nextId = 0;
  sutCalls = 0;
  sutNext = 0;
  counts = { freesMatched: 0, freesUnmatched: 0, freesOrderMismatch: 0, freesPartial: 0, freesOfFailedAllocs: 0, allocsOverLive: 0, sutFailures: 0, livePages: 0, liveAllocs: 0, peak: 0 };

  constructor(readonly fails: (n: number) => boolean) {}

  #finish(id: number): void {
    const a = this.allocs.get(id)!;
    this.allocs.delete(id);
    this.counts.liveAllocs--;
    if (a.sutPfn === -1) this.counts.freesOfFailedAllocs++;
    else this.calls.push(`free ${a.sutPfn} ${a.order}`);
  }

  #release(p0: number, n: number): { released: number; partial: boolean; mismatch: boolean } {
    let released = 0;
    let partial = false;
    let mismatch = false;
    const touched: number[] = [];
    for (let p = p0; p < p0 + n; p++) if (this.owner[p]! >= 0 && !touched.includes(this.owner[p]!)) touched.push(this.owner[p]!);
    for (const id of touched) {
      const a = this.allocs.get(id)!;
      const size = 2 ** a.order;
      if (!a.split && a.head >= p0 && a.head + size <= p0 + n) {
        if (size !== n) mismatch = true;
        for (let p = a.head; p < a.head + size; p++) this.owner[p] = -1;
        released += size;
        this.counts.livePages -= size;
        this.#finish(id);
        continue;
      }
      a.split = true;
      partial = mismatch = true;
      for (let p = Math.max(p0, a.head); p < Math.min(p0 + n, a.head + size); p++) {
        if (this.owner[p] !== id) continue;
        this.owner[p] = -1;
        a.left--;
        released++;
        this.counts.livePages--;
      }
      if (a.left === 0) this.#finish(id);
    }
    return { released, partial, mismatch };
  }

  alloc(pfn: number, order: number): void {
    const size = 2 ** order;
    if (this.#release(pfn, size).released > 0) this.counts.allocsOverLive++;
    const fail = this.fails(this.sutCalls++);
    const sutPfn = fail ? -1 : this.sutNext;
    if (!fail) this.sutNext += 1024;
    this.calls.push(`alloc ${order} -> ${sutPfn}`);
    if (fail) this.counts.sutFailures++;
    const id = this.nextId++;
    this.allocs.set(id, { head: pfn, order, left: size, split: false, sutPfn });
    for (let p = pfn; p < pfn + size; p++) this.owner[p] = id;
    this.counts.liveAllocs++;
    this.counts.livePages += size;
    this.counts.peak = Math.max(this.counts.peak, this.counts.livePages);
  }

  free(pfn: number, order: number): void {
    const r = this.#release(pfn, 2 ** order);
    if (r.released === 0) {
      this.counts.freesUnmatched++;
      return;
    }
    this.counts.freesMatched++;
    if (r.mismatch) this.counts.freesOrderMismatch++;
    if (r.partial) this.counts.freesPartial++;
  }
}

describe("model-based", () => {
  test("random aligned allocations and arbitrary frees: same allocator calls and counts as a page-by-page model, check() after every step", () => {
    const op = fc.oneof(
      // Allocations are aligned to their size, as the buddy allocator's are.
      fc.record({ op: fc.constant("alloc" as const), slot: fc.nat(15), order: fc.nat(3) }).map(({ op, slot, order }) => ({ op, pfn: ((slot * 8) >> order) << order, order })),
      fc.record({ op: fc.constant("free" as const), pfn: fc.nat(127), order: fc.nat(3) }),
    );
    fc.assert(
      fc.property(fc.array(op, { maxLength: 60 }), fc.nat(6), (ops, failEvery) => {
        const fails = (n: number) => failEvery > 1 && n % failEvery === 1;
        const model = new Model(fails);
        const sut = new RecordingAllocator(fails);
        const replayer = new TraceReplayer(sut);
        for (const o of ops) {
          if (o.op === "alloc") {
            model.alloc(o.pfn, o.order);
            replayer.apply(alloc(o.pfn, o.order));
          } else {
            model.free(o.pfn, o.order);
            replayer.apply(free(o.pfn, o.order));
          }
          replayer.check();
          const r = replayer.report();
          const m = model.counts;
          expect([r.freesMatched, r.freesUnmatched, r.freesOrderMismatch, r.freesPartial, r.freesOfFailedAllocs, r.allocsOverLive, r.sutFailures]).toEqual([
            m.freesMatched,
            m.freesUnmatched,
            m.freesOrderMismatch,
            m.freesPartial,
            m.freesOfFailedAllocs,
            m.allocsOverLive,
            m.sutFailures,
          ]);
          expect([r.liveAllocationsAtEnd, r.livePagesAtEnd, r.peakLivePages]).toEqual([m.liveAllocs, m.livePages, m.peak]);
          expect(sut.calls).toEqual(model.calls);
        }
      }),
      { numRuns: 300 },
    );
  });
});
