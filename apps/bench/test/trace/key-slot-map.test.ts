import fc from "fast-check";
import { expect, test } from "vitest";
import { KeySlotMap } from "../../src/trace/key-slot-map.js";

test("model-based: any sequence of set, delete and get agrees with a Map (keys: pfns, ids as -1 - id, near 2^53)", () => {
  const key = fc.oneof(fc.nat(64), fc.integer({ min: -64, max: -1 }), fc.constantFrom(2 ** 53 - 1, 2 ** 32, 2 ** 32 + 16, 2 ** 31, -(2 ** 40)));
  fc.assert(
    fc.property(fc.array(fc.tuple(fc.constantFrom("set", "delete", "get", "take", "put"), key, fc.nat(1000)), { maxLength: 300 }), (ops) => {
      const map = new KeySlotMap(4);
      const model = new Map<number, number>();
      for (const [op, k, v] of ops) {
        if (op === "set") {
          map.set(k, v);
          model.set(k, v);
        } else if (op === "delete") expect(map.delete(k)).toBe(model.delete(k));
        else if (op === "put") {
          // probe + insertAt: one probe for a miss-then-insert (or the bucket of a key already there).
          const at = map.probe(k);
          if (at < 0) {
            map.insertAt(-1 - at, k, v);
            model.set(k, v);
          } else expect(map.slotAt(at)).toBe(model.get(k));
        } else if (op === "take") {
          // find + slotAt + deleteAt: one probe for a look-then-delete.
          const bucket = map.find(k);
          expect(bucket === -1 ? undefined : map.slotAt(bucket)).toBe(model.get(k));
          if (bucket !== -1) map.deleteAt(bucket);
          model.delete(k);
        }
        expect(map.get(k)).toBe(model.get(k));
        expect(map.has(k)).toBe(model.has(k));
        expect(map.size).toBe(model.size);
      }
      expect(new Map([...map])).toEqual(model);
    }),
    { numRuns: 300 },
  );
});

test("churn through many tombstones keeps lookups whole and the table bounded", () => {
  const map = new KeySlotMap();
  for (let round = 0; round < 50; round++) {
    for (let i = 0; i < 1000; i++) map.set(round * 1000 + i, i);
    for (let i = 0; i < 1000; i++) if (i % 10 !== 0) map.delete(round * 1000 + i);
  }
  expect(map.size).toBe(50 * 100);
  expect(map.get(49_000)).toBe(0);
  expect(map.get(49_001)).toBeUndefined();
  expect([...map].length).toBe(5000);
});
