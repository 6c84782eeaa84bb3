import { MetadataArena, MiB, ProbingArena } from "@mmkit/physmem";
import { AlignedBlockIndex, Potad } from "@mmkit/potad";
import { expectMmkitError } from "@mmkit/test-support";
import fc from "fast-check";
import { expect, test } from "vitest";

test("store, load, erase; a range that is no aligned power of two is kept as its aligned pieces", () => {
  const arena = new MetadataArena();
  const index = new AlignedBlockIndex({ arena });
  expect(arena.bytes).toBe(0); // nothing until the first store
  expect(index.load(0)).toBeUndefined();
  expect(index.erase(0)).toBeUndefined();
  index.store(4096, 8191, 7); // one 4 KiB piece
  index.store(MiB, 4 * MiB - 1, 9); // 3 MiB at 1 MiB: 1 MiB + 2 MiB
  index.store(2 ** 50, 2 ** 50 + 4095, 3);
  index.store(0, 0, 1); // one byte at address 0
  expect([index.size, index.pieces, index.capacity]).toEqual([4, 5, 16]);
  expect(arena.byLabel()).toEqual({ "potad descriptor index": 16 * 24, "potad descriptor index orders": 58 * 8 });
  expect(index.entries()).toEqual([[0, 0, 1], [4096, 8191, 7], [MiB, 4 * MiB - 1, 9], [2 ** 50, 2 ** 50 + 4095, 3]]);
  const at = [0, 1, 4095, 4096, 8191, 8192, MiB - 1, MiB, 2 * MiB - 1, 2 * MiB, 4 * MiB - 1, 4 * MiB, 2 ** 50 + 4095, 2 ** 50 + 4096];
  expect(at.map((a) => index.load(a))).toEqual([1, undefined, undefined, 7, 7, undefined, undefined, 9, 9, 9, 9, undefined, 3, undefined]);
  index.check();
  expect(index.erase(3 * MiB)).toBe(9); // from inside the second piece: the whole range goes
  expect([index.size, index.pieces, index.load(MiB), index.load(3 * MiB)]).toEqual([3, 3, undefined, undefined]);
  expect(index.erase(4096)).toBe(7);
  expect(index.erase(4096)).toBeUndefined();
  index.check();
  expect(index.entries()).toEqual([[0, 0, 1], [2 ** 50, 2 ** 50 + 4095, 3]]);
});

test("the table doubles at half full and erase never takes memory", () => {
  const arena = new MetadataArena();
  const index = new AlignedBlockIndex({ arena });
  for (let i = 0; i < 8; i++) index.store(i * 512, i * 512 + 511, i);
  expect(index.capacity).toBe(16);
  index.store(8 * 512, 8 * 512 + 511, 8);
  expect(index.capacity).toBe(32);
  expect(arena.byLabel()).toEqual({ "potad descriptor index": 32 * 24, "potad descriptor index orders": 58 * 8 });
  const bytes = arena.bytes;
  arena.sealWhile(() => {
    for (let i = 0; i < 9; i++) expect(index.erase(i * 512)).toBe(i);
  });
  expect([arena.bytes, index.size, index.pieces]).toEqual([bytes, 0, 0]);
  index.check();
});

test("a range with a covered piece start is refused and changes nothing", () => {
  const index = new AlignedBlockIndex();
  index.store(100, 199, 1);
  index.store(1024, 2047, 2);
  const cases: Array<[() => void, string, string]> = [
    [() => index.store(150, 300, 3), "ERR_OCCUPIED", "range [150, 300] overlaps the stored range [100, 199]"],
    [() => index.store(0, 100, 3), "ERR_OCCUPIED", "range [0, 100] overlaps the stored range [100, 199]"],
    [() => index.store(512, 4095, 3), "ERR_OCCUPIED", "range [512, 4095] overlaps the stored range [1024, 2047]"], // at the start of its piece [1024, 2047]
    [() => index.store(50, 40, 3), "ERR_OUT_OF_RANGE", "last must be in [50, "],
    [() => index.store(-1, 40, 3), "ERR_OUT_OF_RANGE", "got -1"],
    [() => index.store(300, 400, Number.NaN), "ERR_INVALID_ARGUMENT", "value must be a finite number, got NaN"],
    [() => index.load(0.5), "ERR_INVALID_ARGUMENT", "index must be an integer, got 0.5"],
  ];
  for (const [fn, code, text] of cases) {
    expectMmkitError(fn, code, text);
    expect(index.entries()).toEqual([[100, 199, 1], [1024, 2047, 2]]);
    index.check();
  }
});

test("a stored range strictly inside a new piece, clear of its start, is not refused, and check() reports it", () => {
  // Documented: finding it would need a search over the addresses inside the new piece.
  const index = new AlignedBlockIndex();
  index.store(8, 9, 1);
  index.store(0, 31, 2);
  expectMmkitError(() => index.check(), "ERR_INVARIANT", "descriptor index: ranges ending at 31 and starting at 8 overlap");
});

/** Canonical split of [first, last]: largest aligned power of two first (the model's own arithmetic). */
function pieceStarts(first: number, last: number): number[] {
  const starts: number[] = [];
  for (let at = first; at <= last; ) {
    let size = 1;
    while (at % (size * 2) === 0 && at + size * 2 - 1 <= last) size *= 2;
    starts.push(at);
    at += size;
  }
  return starts;
}

test("agrees with a byte-owner model under random stores and erases; check() after every step", () => {
  const SPACE = 160;
  const op = fc.oneof(
    fc.record({ kind: fc.constant("store" as const), at: fc.nat(SPACE - 1), length: fc.integer({ min: 1, max: 40 }) }),
    fc.record({ kind: fc.constant("block" as const), order: fc.nat(5), slot: fc.nat(SPACE - 1), vacant: fc.boolean() }),
    fc.record({ kind: fc.constant("erase" as const), at: fc.nat(SPACE + 8) }),
  );
  fc.assert(
    fc.property(fc.array(op, { maxLength: 120 }), (ops) => {
      const index = new AlignedBlockIndex();
      const owner = new Float64Array(SPACE + 64).fill(-1);
      const firsts = new Map<number, [number, number]>(); // value -> range
      ops.forEach((o, value) => {
        if (o.kind === "erase") {
          const v = owner[o.at]!;
          expect(index.erase(o.at)).toBe(v < 0 ? undefined : v);
          if (v >= 0) {
            const [f, l] = firsts.get(v)!;
            owner.fill(-1, f, l + 1);
            firsts.delete(v);
          }
        } else {
          // A block is what POTAD stores: an aligned power of two.
          const first = o.kind === "block" ? o.slot - (o.slot % 2 ** o.order) : o.at;
          const last = o.kind === "block" ? first + 2 ** o.order - 1 : Math.min(o.at + o.length - 1, SPACE + 63);
          const free = owner.subarray(first, last + 1).every((v) => v < 0);
          const detectable = pieceStarts(first, last).some((a) => owner[a]! >= 0);
          if (free) {
            // POTAD's path for a block it just allocated: no overlap probes, the same result.
            if (o.kind === "block" && o.vacant) index.storeVacant(first, last, value);
            else index.store(first, last, value);
            owner.fill(value, first, last + 1);
            firsts.set(value, [first, last]);
          } else if (detectable) {
            expectMmkitError(() => index.store(first, last, value), "ERR_OCCUPIED", `range [${first}, ${last}] overlaps the stored range`);
          }
        }
        index.check();
        expect(index.size).toBe(firsts.size);
        expect(index.pieces).toBe([...firsts.values()].reduce((n, [f, l]) => n + pieceStarts(f, l).length, 0));
        for (let a = 0; a < owner.length; a++) expect(index.load(a)).toBe(owner[a]! < 0 ? undefined : owner[a]);
      });
    }),
    { numRuns: 100, seed: 0x15 },
  );
});

/** Cache lines one POTAD-shaped churn step (erase a block, store another) touches, summed over `steps`. */
function churnLines(live: number, steps: number, vacant = false): { lines: number; loadLines: number; maxLoadLines: number } {
  const arena = new ProbingArena();
  const index = new AlignedBlockIndex({ arena });
  const potad = new Potad(); // only to place blocks the way POTAD does: 512 B..64 KiB, aligned
  const s = potad.addSpace({ base: 0, size: 1 << 30, granule: 512 });
  const held = new Float64Array(live);
  const size = (i: number): number => 512 << (Math.imul(i, 0x9e3779b1) >>> 29);
  for (let i = 0; i < live; i++) {
    held[i] = potad.alloc(s, size(i));
    if (vacant) index.storeVacant(held[i]!, held[i]! + size(i) - 1, i);
    else index.store(held[i]!, held[i]! + size(i) - 1, i);
  }
  let lines = 0;
  let loadLines = 0;
  let maxLoadLines = 0;
  for (let k = 0; k < steps; k++) {
    const i = (Math.imul(k, 0x85ebca6b) >>> 0) % live;
    const old = held[i]!;
    potad.free(old);
    const bytes = size(live + k);
    held[i] = potad.alloc(s, bytes);
    lines += arena.measure(() => {
      index.erase(old);
      if (vacant) index.storeVacant(held[i]!, held[i]! + bytes - 1, live + k);
      else index.store(held[i]!, held[i]! + bytes - 1, live + k);
    }).lines;
    const probe = held[(i * 7) % live]! + 100;
    const l = arena.measure(() => index.load(probe)).lines;
    loadLines += l;
    if (l > maxLoadLines) maxLoadLines = l;
  }
  index.check();
  return { lines, loadLines, maxLoadLines };
}

test("cost per operation does not grow with the number of ranges (cache lines, counted exactly)", () => {
  // 512 B..64 KiB blocks (8 orders in use). A load probes one key per order; a free erases by the
  // block's address (one probe); an alloc's store checks its two ends and its key, then inserts.
  const small = churnLines(1_000, 500);
  const large = churnLines(16_000, 500);
  expect(small).toEqual({ lines: 4587, loadLines: 1176, maxLoadLines: 4 });
  expect(large).toEqual({ lines: 4333, loadLines: 1182, maxLoadLines: 5 });
  // storeVacant (POTAD's own stores) skips the overlap probes: 5.6-5.7 lines a step instead of 8.7-9.2.
  expect(churnLines(1_000, 500, true).lines).toBe(2866);
  expect(churnLines(16_000, 500, true).lines).toBe(2788);
});

test("storeVacant stores what store does, without the overlap probes; bad bounds are refused and change nothing", () => {
  const a = new AlignedBlockIndex();
  const b = new AlignedBlockIndex();
  for (const [first, last, value] of [[4096, 8191, 7], [MiB, 4 * MiB - 1, 9], [0, 0, 1]] as const) {
    a.store(first, last, value);
    b.storeVacant(first, last, value);
  }
  expect(b.entries()).toEqual(a.entries());
  expect([b.size, b.pieces, b.capacity]).toEqual([a.size, a.pieces, a.capacity]);
  b.check();
  expectMmkitError(() => b.storeVacant(10, 9, 1), "ERR_OUT_OF_RANGE", "last must be in [10, ");
  expectMmkitError(() => b.storeVacant(20, 30, Number.NaN), "ERR_INVALID_ARGUMENT", "value must be a finite number, got NaN");
  expect(b.entries()).toEqual(a.entries());
  // The caller's promise broken: nothing refuses it, and check() reports it.
  b.storeVacant(4096, 4096 + 511, 5);
  expect(() => b.check()).toThrow(/not found by its address|overlap/);
  // Once someone else has stored with store(), storeVacant checks too, and refuses an overlap.
  a.store(20_000, 20_999, 11);
  const before = a.entries();
  expectMmkitError(() => a.storeVacant(4096, 4096 + 511, 5), "ERR_OCCUPIED", "range [4096, 4607] overlaps the stored range [4096, 8191]");
  expect(a.entries()).toEqual(before);
});

test("an index passed in may be shared: two POTADs over the same addresses still refuse each other's ranges (store, not storeVacant)", () => {
  const shared = new AlignedBlockIndex();
  const a = new Potad({ descriptorIndex: shared });
  const b = new Potad({ descriptorIndex: shared });
  const sa = a.addSpace({ base: 0, size: MiB, granule: 512 });
  const sb = b.addSpace({ base: 0, size: MiB, granule: 512 });
  const at = a.alloc(sa, 4096, { descriptor: 1 });
  const before = shared.entries();
  // b's first 4 KiB block lies where a's does: the shared index refuses it, and b is unchanged.
  expectMmkitError(() => b.alloc(sb, 4096, { descriptor: 2 }), "ERR_OCCUPIED", `range [${at}, ${at + 4095}] overlaps the stored range [${at}, ${at + 4095}]`);
  expect(shared.entries()).toEqual(before);
  expect(b.alloc(sb, 4096)).toBe(at); // without a descriptor it is b's own business
  a.check();
  b.check();
});
