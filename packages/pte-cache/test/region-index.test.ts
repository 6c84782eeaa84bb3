import fc from "fast-check";
import { MetadataArena } from "@mmkit/physmem";
import { expect, test } from "vitest";
import { RegionIndex } from "../src/region-index.js";
import { RegionList, RegionLru } from "../src/region-lru.js";
import { KEY_HI, KEY_LO, NEXT, PREV, RECORD_STRIDE, WHERE, keyAt, keyHi, keyLo } from "../src/region-record.js";
import { firstSetBit, popcount, popcount32 } from "../src/bitmap.js";

test("region keys split into int32 halves and back, up to 2^44", () => {
  for (const key of [0, 1, 2 ** 31 - 1, 2 ** 31, 2 ** 32 - 1, 2 ** 32, 2 ** 41 + 12345, 2 ** 44 - 1]) {
    const records = new Int32Array(RECORD_STRIDE);
    records[KEY_LO] = keyLo(key);
    records[KEY_HI] = keyHi(key);
    expect(keyAt(records, 0)).toBe(key);
  }
});

test("region index: inserts, lookups and backward-shift deletes agree with a Map, keys up to 2^41", () => {
  fc.assert(
    fc.property(
      fc.array(fc.record({ insert: fc.boolean(), key: fc.oneof(fc.integer({ min: 0, max: 40 }), fc.integer({ min: 0, max: 2 ** 41 })) }), { maxLength: 300, size: "max" }),
      (ops) => {
        const slots = 8; // 16 buckets: long probe runs and wrap-around
        const arena = new MetadataArena();
        const index = new RegionIndex(arena, slots * 2);
        const records = new Int32Array(slots * RECORD_STRIDE).fill(-1);
        const model = new Map<number, number>();
        const freeSlots = Array.from({ length: slots }, (_, i) => slots - 1 - i);
        for (const { insert, key } of ops) {
          const present = model.has(key);
          if (insert && !present && freeSlots.length > 0) {
            const s = freeSlots.pop()!;
            records[s * RECORD_STRIDE + KEY_LO] = keyLo(key);
            records[s * RECORD_STRIDE + KEY_HI] = keyHi(key);
            index.insert(key, s);
            model.set(key, s);
          } else if (!insert && present) {
            const s = model.get(key)!;
            index.remove(key, records);
            records[s * RECORD_STRIDE + KEY_LO] = -1;
            records[s * RECORD_STRIDE + KEY_HI] = -1;
            model.delete(key);
            freeSlots.push(s);
          }
          for (const [k, s] of model) expect(index.find(k, records)).toBe(s);
          expect(index.find(key, records)).toBe(model.get(key) ?? -1);
          expect(index.size()).toBe(model.size);
        }
        index.release();
        expect(arena.bytes).toBe(0);
      },
    ),
    { numRuns: 60 },
  );
});

test("region lru: push, place, remove, remap keep both directions linked", () => {
  const records = new Int32Array(8 * RECORD_STRIDE);
  for (let s = 0; s < 8; s++) {
    records[s * RECORD_STRIDE + PREV] = -1;
    records[s * RECORD_STRIDE + NEXT] = -1;
    records[s * RECORD_STRIDE + WHERE] = -1;
  }
  const lru = new RegionLru(new MetadataArena(), 1);
  lru.attach(records);
  const fail = (m: string): never => {
    throw new Error(m);
  };
  for (const s of [1, 2, 3]) lru.pushHead(0, RegionList.Pieces, s);
  lru.pushTail(0, RegionList.Pieces, 4);
  const order = () => {
    const out: number[] = [];
    for (let s = lru.head(0, RegionList.Pieces); s >= 0; s = lru.next(s)) out.push(s);
    return out;
  };
  expect(order()).toEqual([3, 2, 1, 4]);
  lru.place(0, RegionList.Pieces, 1, true);
  expect(order()).toEqual([1, 3, 2, 4]);
  lru.place(0, RegionList.Pieces, 2, false); // stays where it is
  expect(order()).toEqual([1, 3, 2, 4]);
  lru.place(0, RegionList.BlockFree, 2, false);
  expect([order(), lru.tail(0, RegionList.BlockFree), lru.length(0, RegionList.Pieces)]).toEqual([[1, 3, 4], 2, 3]);
  lru.growNodes(3);
  lru.pushHead(2, RegionList.BlockPartial, 5);
  expect(lru.validate(fail)).toBe(5);
  lru.remove(3);
  lru.remove(3);
  expect(order()).toEqual([1, 4]);
  expect(lru.prev(4)).toBe(1);
  expect(lru.validate(fail)).toBe(4);
  // Heads and tails follow a renumbering of the records.
  lru.remap(Int32Array.from([-1, 0, 1, -1, 3, 4, -1, -1]));
  expect([lru.head(0, RegionList.Pieces), lru.tail(0, RegionList.Pieces), lru.head(0, RegionList.BlockFree), lru.head(2, RegionList.BlockPartial)]).toEqual([0, 3, 1, 4]);
});

test("bitmap helpers, plain and interleaved", () => {
  const bits = new Uint32Array(64);
  expect(firstSetBit(bits, 32, 16)).toBe(-1);
  bits[32 + 15] = 0x80000000;
  expect(firstSetBit(bits, 32, 16)).toBe(511);
  bits[32 + 3] = 0b1010000;
  expect(firstSetBit(bits, 32, 16)).toBe(3 * 32 + 4);
  expect(popcount(bits, 32, 16)).toBe(3);
  // Stride 2 from an odd base reads words 33, 35, ... only.
  expect(firstSetBit(bits, 33, 16, 2)).toBe(32 + 4); // word 35 is the second odd word
  expect(popcount(bits, 33, 16, 2)).toBe(3); // words 35 and 47
  expect(firstSetBit(bits, 32, 16, 2)).toBe(-1); // the even words are empty
  expect([popcount32(0), popcount32(0xffffffff), popcount32(0x80000001)]).toEqual([0, 32, 2]);
});
