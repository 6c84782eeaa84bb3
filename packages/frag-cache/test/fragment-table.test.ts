import fc from "fast-check";
import { expect, test } from "vitest";
import { ErrorCode, MetadataArena, MmkitError } from "@mmkit/physmem";
import { FragmentTable } from "../src/fragment-table.js";

test("insert, find and remove with large addresses, collisions and growth", () => {
  const arena = new MetadataArena();
  const t = new FragmentTable(arena, 16);
  expect(arena.byLabel()).toEqual({ "frag-cache fragment table": 16 * 16 });
  const addrs: number[] = [];
  for (let i = 0; i < 100; i++) {
    t.reserve();
    const a = i * 4096 * 1024 + 2 ** 40; // large addresses, one stride
    t.insert(a, 1 + i, i % 7);
    addrs.push(a);
  }
  expect(t.count).toBe(100);
  expect(t.capacity).toBe(256);
  expect(arena.byLabel()).toEqual({ "frag-cache fragment table": 256 * 16 }); // old arrays released
  addrs.forEach((a, i) => {
    const e = t.find(a);
    expect([t.addressAt(e), t.sizeAt(e), t.slotAt(e)]).toEqual([a, 1 + i, i % 7]);
  });
  expect(t.find(5)).toBe(-1);
  for (const a of addrs) if (a % 3 === 0) t.remove(t.find(a));
  expect(t.check()).toBe(addrs.filter((a) => a % 3 !== 0).length);
  for (const a of addrs) expect(t.find(a) === -1).toBe(a % 3 === 0);
});

test("addresses that alias in 32 bits, and non-integers, are told apart", () => {
  const t = new FragmentTable(new MetadataArena(), 16);
  t.reserve();
  t.insert(2 ** 32 - 1, 8, 1); // low word -1
  t.reserve();
  t.insert(2 ** 33 + 7, 8, 2);
  expect(t.find(-1)).toBe(-1);
  expect(t.find(7)).toBe(-1);
  expect(t.slotAt(t.find(2 ** 32 - 1))).toBe(1);
  expect(t.slotAt(t.find(2 ** 33 + 7))).toBe(2);
  expect(t.find(Number.NaN)).toBe(-1);
  expect(t.find("4294967295" as unknown as number)).toBe(-1);
});

test("a refused growth leaves the table as it was", () => {
  const arena = new MetadataArena();
  const t = new FragmentTable(arena, 16);
  for (let i = 0; i < 8; i++) {
    t.reserve();
    t.insert(i * 64, 64, 0);
  }
  expect(() => arena.sealWhile(() => t.reserve())).toThrow(MmkitError);
  try {
    arena.sealWhile(() => t.reserve());
  } catch (e) {
    expect((e as MmkitError).code).toBe(ErrorCode.ArenaSealed);
  }
  expect(t.check()).toBe(8);
  expect(t.capacity).toBe(16);
});

test("model: random inserts and removes keep every key findable", () => {
  fc.assert(
    fc.property(fc.array(fc.tuple(fc.boolean(), fc.integer({ min: 0, max: 2 ** 45 })), { minLength: 50, maxLength: 400 }), (ops) => {
      const t = new FragmentTable(new MetadataArena(), 16);
      const model = new Map<number, number>();
      for (const [add, raw] of ops) {
        if (add || model.size === 0) {
          if (model.has(raw)) continue;
          t.reserve();
          const size = 1 + (raw % 1000);
          t.insert(raw, size, raw % 13);
          model.set(raw, size);
        } else {
          const keys = [...model.keys()];
          const k = keys[raw % keys.length]!;
          t.remove(t.find(k));
          model.delete(k);
        }
      }
      expect(t.check()).toBe(model.size);
      for (const [k, size] of model) expect(t.sizeAt(t.find(k))).toBe(size);
    }),
    { numRuns: 100 },
  );
});
