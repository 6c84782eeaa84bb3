import { ErrorCode, MetadataArena, MmkitError } from "@mmkit/physmem";
import { describe, expect, test } from "vitest";
import { C_HITS, C_LOOKUPS, C_MISSES, C_RETRIES, C_VIOLATIONS_FREE, C_VIOLATIONS_TYPE, C_WRONG_RANGE, MemdescSlab, MemdescType, R_REF, R_TYPE, RECORD_INTS, type ReuseMode } from "../../src/q8/memdesc-slab.js";
import { MemdescReader, ReaderPhase } from "../../src/q8/reader.js";
import { MemdescWriter, SlotState } from "../../src/q8/writer.js";

// Reader and writer steps driven by hand in one thread: the races of Q8 made exact. A small slab:
// 4 slots, 4 frames of 2 pages (pfns 0..7), one reader. The writer's first allocations take slots
// 0, 1, 2... and frames 0, 1, 2... (a freed frame or slot is the next one taken).

const { Folio, Slab, Ptdesc, Free } = MemdescType;

function setup(mode: ReuseMode) {
  const slab = MemdescSlab.create({ mode, slots: 4, frames: 4, framePages: 2, readers: 1 });
  const writer = new MemdescWriter(slab, { seed: 1, liveTarget: 3 });
  const reader = new MemdescReader(slab, 0);
  const counters = () => ({
    lookups: slab.readerCounters[C_LOOKUPS],
    hits: slab.readerCounters[C_HITS],
    misses: slab.readerCounters[C_MISSES],
    retries: slab.readerCounters[C_RETRIES],
    violationsFree: slab.readerCounters[C_VIOLATIONS_FREE],
    violationsType: slab.readerCounters[C_VIOLATIONS_TYPE],
    wrongRanges: slab.readerCounters[C_WRONG_RANGE],
  });
  const ref = (slot: number) => slab.records[slot * RECORD_INTS + R_REF];
  const type = (slot: number) => slab.records[slot * RECORD_INTS + R_TYPE];
  /** Steps the reader until the next step is `phase`. */
  const until = (phase: number) => {
    for (let i = 0; i < 16 && reader.phase !== phase; i++) reader.step();
    expect(reader.phase).toBe(phase);
  };
  const finish = () => {
    while (!reader.step());
    return reader.result;
  };
  return { slab, writer, reader, counters, ref, type, until, finish };
}

describe("Q8 by hand: reuse at once (mode a)", () => {
  test("a slot freed and reused at once as a slab between the reader's type check and its get: the reader increments the slab's count", () => {
    const { slab, writer, reader, counters, ref, type, until, finish } = setup("reuse-at-once");
    expect(writer.allocate(Folio)).toBe(0); // slot 0 describes frame 0: pfns 0 and 1
    expect(slab.table[1]).toBe(0);
    reader.begin(1);
    until(ReaderPhase.Get); // it saw slot 0, a folio
    expect(writer.free(0)).toBe(true); // count frozen 1 -> 0, slot 0 back to the pool, of no type
    expect(type(0)).toBe(Free);
    expect(writer.allocate(Slab)).toBe(0); // the last slot freed, reused at once for a slab, on frame 0 again
    expect(type(0)).toBe(Slab);
    reader.step(); // get-unless-zero: the count is 1 (the slab's), so it succeeds
    expect(reader.phase).toBe(ReaderPhase.Verify);
    expect(ref(0)).toBe(2); // the violation: a reference taken on a slab descriptor
    reader.step(); // the type check after the get sees a slab: counted, undone, retried
    expect(ref(0)).toBe(1);
    expect(finish()).toBe(0); // looks again: pfn 1 is a slab's page now, a miss
    expect(counters()).toEqual({ lookups: 1, hits: 0, misses: 1, retries: 1, violationsFree: 0, violationsType: 1, wrongRanges: 0 });
    writer.check();
  });

  test("the count is set before the type: a reader's get lands in a free slot", () => {
    const { writer, reader, counters, ref, type, until, finish } = setup("reuse-at-once");
    writer.allocate(Folio);
    reader.begin(0);
    until(ReaderPhase.Get);
    writer.free(0);
    expect(writer.takeSlot(Ptdesc)).toBe(0); // count 1, type not written yet
    expect([ref(0), type(0)]).toEqual([1, Free]);
    reader.step(); // get succeeds on memory of no type
    reader.step(); // sees it: a violation into a free slot
    expect(counters().violationsFree).toBe(1);
    expect(ref(0)).toBe(1);
    writer.initialise(0, Ptdesc); // the new owner makes it a ptdesc on frame 0 (freed last)
    expect(finish()).toBe(0); // pfn 0 is a ptdesc's page now: a miss
    expect(counters()).toEqual({ lookups: 1, hits: 0, misses: 1, retries: 1, violationsFree: 1, violationsType: 0, wrongRanges: 0 });
    writer.check();
  });

  test("freeing while a reader holds a reference defers the free until the reference is dropped", () => {
    const { writer, reader, counters, ref, until, finish } = setup("reuse-at-once");
    writer.allocate(Folio);
    reader.begin(1);
    until(ReaderPhase.Recheck); // holds a reference, type checked
    expect(ref(0)).toBe(2);
    expect(writer.free(0)).toBe(false); // cannot freeze 2 -> 0: deferred, its frame unmapped already
    expect(writer.stateOf(0)).toBe(SlotState.Deferred);
    expect(finish()).toBe(0); // the re-check sees the table no longer points at slot 0: let go, look again, miss
    writer.retryDeferred();
    expect(writer.stateOf(0)).toBe(SlotState.Pool);
    expect(counters()).toEqual({ lookups: 1, hits: 0, misses: 1, retries: 1, violationsFree: 0, violationsType: 0, wrongRanges: 0 });
    writer.check();
  });

  test("an undisturbed lookup finds the folio, takes and drops one reference", () => {
    const { writer, reader, counters, ref } = setup("reuse-at-once");
    writer.allocate(Slab); // frame 0
    writer.allocate(Folio); // slot 1 on frame 1: pfns 2, 3
    expect(reader.lookup(3)).toBe(1);
    expect(reader.lookup(0)).toBe(0); // a slab's page: not a page-cache folio
    expect(reader.lookup(7)).toBe(0); // no memdesc
    expect(ref(1)).toBe(1);
    expect(counters()).toEqual({ lookups: 3, hits: 1, misses: 2, retries: 0, violationsFree: 0, violationsType: 0, wrongRanges: 0 });
  });
});

describe("Q8 by hand: type-stable (mode b)", () => {
  test("the same interleaving: the freed folio stays a folio, the slab takes another slot, the reader retries without a violation", () => {
    const { slab, writer, reader, counters, ref, type, until, finish } = setup("type-stable");
    writer.allocate(Folio);
    reader.begin(1);
    reader.step(); // enters its read section: publishes epoch 1
    expect(slab.epochs[16]).toBe(1);
    until(ReaderPhase.Get);
    expect(writer.free(0)).toBe(true);
    expect([type(0), ref(0), writer.stateOf(0)]).toEqual([Folio, 0, SlotState.Waiting]);
    expect(writer.allocate(Slab)).toBe(1); // no free slab slot: one from the pool, not slot 0
    reader.step(); // get-unless-zero sees 0: the folio is being freed, look again
    expect(reader.phase).toBe(ReaderPhase.Table);
    expect(finish()).toBe(0); // pfn 1 is slot 1's, a slab: a miss
    expect(counters()).toEqual({ lookups: 1, hits: 0, misses: 1, retries: 1, violationsFree: 0, violationsType: 0, wrongRanges: 0 });
    expect(slab.epochs[16]).toBe(0); // left its read section
    writer.check();
  });

  test("a freed folio reused at once as another folio: the reference is taken, the re-check of the table catches it", () => {
    const { writer, reader, counters, ref, until, finish } = setup("type-stable");
    writer.allocate(Folio); // slot 0, frame 0
    reader.begin(1);
    until(ReaderPhase.Get);
    writer.free(0);
    expect(writer.allocate(Ptdesc)).toBe(1); // frame 0 (freed last) goes to a ptdesc in slot 1
    expect(writer.allocate(Folio)).toBe(0); // slot 0, still a folio, reused at once for a folio on frame 1
    reader.step(); // get succeeds: slot 0 is a live folio
    reader.step(); // type after the get: a folio, no violation
    expect(ref(0)).toBe(2);
    reader.step(); // re-check: pfn 1 maps to slot 1 now: let go, look again
    expect(ref(0)).toBe(1);
    expect(finish()).toBe(0);
    expect(counters()).toEqual({ lookups: 1, hits: 0, misses: 1, retries: 1, violationsFree: 0, violationsType: 0, wrongRanges: 0 });
    writer.check();
  });

  test("a freed slot becomes another type only after every reader in a read section from before its free has left", () => {
    const { slab, writer, reader, type, until, finish } = setup("type-stable");
    writer.allocate(Folio); // slot 0, frame 0
    writer.allocate(Folio); // slot 1
    writer.allocate(Folio); // slot 2
    writer.allocate(Folio); // slot 3: every slot taken
    reader.begin(1);
    until(ReaderPhase.Get); // in a read section since epoch 1
    writer.free(0); // retired in epoch 1
    writer.advanceEpoch();
    expect(writer.reclaim()).toBe(0); // the reader published 1: slot 0 may still be what it holds
    expect(writer.allocate(Slab)).toBe(-1); // held back: only a folio may have slot 0
    expect(writer.waiting).toBe(1);
    expect(finish()).toBe(0); // get sees 0, looks again: pfn 1 unmapped
    expect(slab.epochs[16]).toBe(0);
    expect(writer.reclaim()).toBe(1); // no reader left from epoch 1: a grace period has passed
    expect([type(0), writer.stateOf(0)]).toEqual([Free, SlotState.Pool]);
    expect(writer.allocate(Slab)).toBe(0);
    writer.check();
  });

  test("reclaim needs the epoch to move past the free: without a reader, a slot freed in the current epoch waits for the next", () => {
    const { writer } = setup("type-stable");
    writer.allocate(Slab);
    writer.free(0);
    expect(writer.reclaim()).toBe(0);
    writer.advanceEpoch();
    expect(writer.reclaim()).toBe(1);
    writer.check();
  });
});

describe("Q8 pieces: bad input", () => {
  test("the writer refuses a slot that is not live, a bad type, a bad frame, and changes nothing", () => {
    const { slab, writer } = setup("type-stable");
    writer.allocate(Folio);
    const before = [Array.from(slab.records), Array.from(slab.table), writer.live, writer.pooled];
    const code = (f: () => unknown): string => {
      try {
        f();
      } catch (e) {
        expect(e).toBeInstanceOf(MmkitError);
        return (e as MmkitError).code + " " + (e as MmkitError).message;
      }
      return "no error";
    };
    expect(code(() => writer.free(1))).toMatch(new RegExp(`^${ErrorCode.NotAllocated} slot 1 `));
    expect(code(() => writer.free(4))).toMatch(/^ERR_OUT_OF_RANGE .*got 4$/);
    expect(code(() => writer.free(0.5))).toMatch(/^ERR_OUT_OF_RANGE .*got 0.5$/);
    expect(code(() => writer.allocate(7))).toMatch(/^ERR_INVALID_ARGUMENT .*got 7$/);
    expect(code(() => writer.initialise(0, Folio))).toMatch(/^ERR_INVALID_STATE slot 0 /);
    expect([Array.from(slab.records), Array.from(slab.table), writer.live, writer.pooled]).toEqual(before);
    writer.check();
  });

  test("the slab, the reader and the writer refuse bad options naming the value", () => {
    expect(() => MemdescSlab.create({ mode: "sometimes" as ReuseMode, slots: 4, frames: 4, framePages: 2, readers: 1 })).toThrow(/"sometimes"/);
    expect(() => MemdescSlab.create({ mode: "type-stable", slots: 0, frames: 4, framePages: 2, readers: 1 })).toThrow(/slots .*got 0/);
    const { slab, reader } = setup("reuse-at-once");
    expect(() => new MemdescReader(slab, 1)).toThrow(/got 1/);
    expect(() => new MemdescWriter(slab, { seed: 1, liveTarget: 5 })).toThrow(/liveTarget .*got 5/);
    expect(() => reader.begin(8)).toThrow(/pfn .*got 8/);
    reader.begin(0);
    expect(() => reader.begin(0)).toThrow(/finish the lookup/);
  });

  test("the writer's own books come from its arena, counted: 1 byte and 7 ints per slot, an int per frame, 2 per type", () => {
    const slab = MemdescSlab.create({ mode: "type-stable", slots: 4, frames: 4, framePages: 2, readers: 1 });
    const arena = new MetadataArena();
    new MemdescWriter(slab, { seed: 1, liveTarget: 3, arena });
    expect(arena.bytes).toBe(4 * (1 + 7 * 4) + 4 * 4 + 2 * 4 * 4);
    expect(arena.byLabel()["memdesc writer general pool"]).toBe(16);
  });

  test("readers publish epochs in type-stable mode, and in reuse-at-once mode only when asked (the writer ignores them there)", () => {
    for (const [mode, publishEpochs, published] of [["reuse-at-once", undefined, 0], ["reuse-at-once", true, 1], ["type-stable", undefined, 1]] as const) {
      const slab = MemdescSlab.create({ mode, slots: 4, frames: 4, framePages: 2, readers: 1, ...(publishEpochs === undefined ? {} : { publishEpochs }) });
      const reader = new MemdescReader(slab, 0);
      reader.begin(0);
      reader.step();
      expect(slab.epochs[16], `${mode} ${publishEpochs}`).toBe(published);
      expect(reader.step()).toBe(true); // pfn 0 has no memdesc: a miss, and the section is left
      expect(slab.epochs[16]).toBe(0);
      expect(MemdescSlab.attach(slab.handle).publishEpochs).toBe(published === 1);
    }
    expect(() => MemdescSlab.create({ mode: "type-stable", slots: 4, frames: 4, framePages: 2, readers: 1, publishEpochs: false })).toThrow(/needs its readers to publish epochs/);
  });

  test("a worker attaching sees the same memory and shape", () => {
    const { slab, writer } = setup("type-stable");
    writer.allocate(Folio);
    const other = MemdescSlab.attach(slab.handle);
    expect([other.mode, other.slots, other.frames, other.framePages, other.readers]).toEqual(["type-stable", 4, 4, 2, 1]);
    expect(other.table[0]).toBe(0);
    expect(new MemdescReader(other, 0).lookup(1)).toBe(1);
  });
});
