import fc from "fast-check";
import { describe, expect, test } from "vitest";
import { C_HITS, C_LOOKUPS, C_MISSES, C_VIOLATIONS_FREE, C_VIOLATIONS_TYPE, C_WRONG_RANGE, MODES, MemdescSlab, R_FIRST, R_TYPE, RECORD_INTS, type ReuseMode } from "../../src/q8/memdesc-slab.js";
import { MemdescReader, ReaderPhase } from "../../src/q8/reader.js";
import { MemdescWriter } from "../../src/q8/writer.js";

// Random interleavings of writer operations and single reader steps, replayed against a model of
// the live memdescs (slot -> type): the writer's books match the model and check() holds whenever
// the reader holds no reference; in type-stable mode no interleaving gives a violation or a wrong
// range, in either mode every lookup ends as a hit or a miss.

type Op =
  | { kind: "alloc"; type: number }
  | { kind: "free"; pick: number }
  | { kind: "freeSeen" }
  | { kind: "retry" }
  | { kind: "epoch" }
  | { kind: "read"; pfn: number; until: number }
  | { kind: "steps"; n: number };

const FRAMES = 6;
const PAGES = 2;
const op: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ kind: fc.constant("alloc" as const), type: fc.integer({ min: 1, max: 3 }) }),
  fc.record({ kind: fc.constant("free" as const), pick: fc.nat(63) }),
  // The adversary's move: free the memdesc the reader is looking at.
  fc.record({ kind: fc.constant("freeSeen" as const) }),
  fc.record({ kind: fc.constant("retry" as const) }),
  fc.record({ kind: fc.constant("epoch" as const) }),
  // The reader runs until its next step is `until` (or its lookup ends): the scheduler's choice of where to stop it.
  fc.record({ kind: fc.constant("read" as const), pfn: fc.nat(FRAMES * PAGES - 1), until: fc.integer({ min: ReaderPhase.Table, max: ReaderPhase.Drop }) }),
  fc.record({ kind: fc.constant("steps" as const), n: fc.integer({ min: 1, max: 2 }) }),
);

const HOLDS_REFERENCE: number[] = [ReaderPhase.Verify, ReaderPhase.Recheck, ReaderPhase.Drop];

/** Returns the violations the reader committed (by kind, summed). */
function replay(mode: ReuseMode, ops: Op[]): number {
  const slab = MemdescSlab.create({ mode, slots: 8, frames: FRAMES, framePages: PAGES, readers: 1 });
  const writer = new MemdescWriter(slab, { seed: 7, liveTarget: 4 });
  const reader = new MemdescReader(slab, 0);
  const model = new Map<number, number>();
  const c = slab.readerCounters;
  for (const o of ops) {
    const holding = HOLDS_REFERENCE.includes(reader.phase);
    switch (o.kind) {
      case "alloc": {
        const slot = writer.allocate(o.type);
        if (slot < 0) expect(model.size === FRAMES || writer.pooled === 0).toBe(true);
        else {
          expect(model.has(slot)).toBe(false);
          model.set(slot, o.type);
        }
        break;
      }
      case "free": {
        if (model.size === 0) break;
        const slot = writer.liveAt(o.pick % writer.live);
        // The free is deferred exactly when the reader holds a reference to that slot.
        expect(writer.free(slot)).toBe(!(holding && reader.slot === slot));
        model.delete(slot);
        break;
      }
      case "freeSeen": {
        const slot = reader.slot;
        if (reader.phase === ReaderPhase.Idle || slot < 0 || !model.has(slot)) break;
        expect(writer.free(slot)).toBe(!holding);
        model.delete(slot);
        break;
      }
      case "retry":
        writer.retryDeferred();
        break;
      case "epoch":
        writer.advanceEpoch();
        writer.reclaim();
        break;
      case "read":
        if (reader.phase !== ReaderPhase.Idle) break; // parked where it stopped until a "steps" moves it
        reader.begin(o.pfn);
        for (let i = 0; i < 8 && reader.phase !== o.until && reader.phase !== ReaderPhase.Idle; i++) reader.step();
        break;
      case "steps":
        for (let i = 0; i < o.n && reader.phase !== ReaderPhase.Idle; i++) reader.step();
        break;
    }
    expect(writer.live).toBe(model.size);
    for (const [slot, type] of model) {
      expect(slab.records[slot * RECORD_INTS + R_TYPE]).toBe(type);
      expect(slab.table[slab.records[slot * RECORD_INTS + R_FIRST]!]).toBe(slot);
    }
    if (!HOLDS_REFERENCE.includes(reader.phase)) writer.check();
    expect(c[C_LOOKUPS]).toBe(c[C_HITS]! + c[C_MISSES]!);
    expect(c[C_WRONG_RANGE]).toBe(0);
    if (mode === "type-stable") expect(c[C_VIOLATIONS_FREE]! + c[C_VIOLATIONS_TYPE]!).toBe(0);
  }
  return c[C_VIOLATIONS_FREE]! + c[C_VIOLATIONS_TYPE]!;
}

describe("Q8 writer and reader against a model", () => {
  for (const mode of MODES) {
    test(`${mode}: random interleavings keep the books, and check() holds`, () => {
      let violations = 0;
      fc.assert(
        fc.property(fc.array(op, { maxLength: 80, size: "max" }), (ops) => {
          violations += replay(mode, ops);
        }),
        { numRuns: 100, seed: 18 },
      );
      // The same generator finds the race when slots are reused at once (so zero in type-stable mode says something).
      if (mode === "reuse-at-once") expect(violations).toBeGreaterThan(0);
      else expect(violations).toBe(0);
    });
  }

  test("the churn (step) keeps its live target and every invariant, with a reader interleaved", () => {
    for (const mode of MODES) {
      const slab = MemdescSlab.create({ mode, slots: 12, frames: 8, framePages: 4, readers: 1 });
      const writer = new MemdescWriter(slab, { seed: 3, liveTarget: 7, epochEvery: 4 });
      const reader = new MemdescReader(slab, 0);
      writer.fill();
      expect(writer.live).toBe(7);
      for (let i = 0; i < 2000; i++) {
        writer.step();
        if (reader.phase === ReaderPhase.Idle) reader.begin((i * 7) % 32);
        reader.step();
        if (!HOLDS_REFERENCE.includes(reader.phase)) writer.check();
      }
      if (mode === "type-stable") expect(slab.readerCounters[C_VIOLATIONS_FREE]! + slab.readerCounters[C_VIOLATIONS_TYPE]!).toBe(0);
    }
  });
});
