import fc from "fast-check";
import { MetadataArena } from "@mmkit/physmem";
import { AddressMap } from "@mmkit/slab";
import { describe, expect, it } from "vitest";

describe("AddressMap", () => {
  it("agrees with a Map over random sets and deletes (clustered keys, keys above 2^32, growth, backward shift)", () => {
    // Keys from a small range collide and form runs, so deletes shift entries back; a few sit above 2^32.
    const key = fc.oneof(fc.integer({ min: 0, max: 200 }), fc.integer({ min: 0, max: 200 }).map((k) => 2 ** 33 + k * 4096));
    const op = fc.oneof(fc.record({ set: key, value: fc.integer({ min: -5, max: 1e9 }) }), fc.record({ del: key }));
    fc.assert(
      fc.property(fc.array(op, { maxLength: 300 }), (ops) => {
        const arena = new MetadataArena();
        const map = new AddressMap(arena, "test", 4);
        const model = new Map<number, number>();
        for (const o of ops) {
          if ("set" in o) {
            map.set(o.set, o.value);
            model.set(o.set, o.value);
          } else {
            expect(map.delete(o.del)).toBe(model.delete(o.del));
          }
          expect(map.size).toBe(model.size);
        }
        for (const [k, v] of model) expect(map.get(k)).toBe(v);
        for (let k = 0; k <= 200; k++) if (!model.has(k)) expect(map.get(k)).toBe(-1);
        const seen = new Map<number, number>();
        map.forEach((k, v) => seen.set(k, v));
        expect(seen).toEqual(model);
      }),
      { numRuns: 200 },
    );
  });

  it("keeps each key beside its value: 16 bytes per slot in one arena array", () => {
    const arena = new MetadataArena();
    const map = new AddressMap(arena, "pages", 8);
    expect(arena.bytes).toBe(128);
    for (let k = 0; k < 5; k++) map.set(k, k * 10); // the fifth set finds the map half full: 16 slots
    expect(arena.bytes).toBe(256);
    expect([map.get(4), map.get(5), map.size]).toEqual([40, -1, 5]);
  });
});
