import { ProbingArena } from "@mmkit/physmem";
import { Potad } from "@mmkit/potad";
import { describe, expect, test } from "vitest";

// Cache lines per operation, counted exactly by physmem's ProbingArena (layout in src/layout.ts).
function setup(live: number) {
  const arena = new ProbingArena();
  const potad = new Potad({ arena });
  const s = potad.addSpace({ base: 0, size: 2 ** 36, granule: 4096 });
  const blocks: number[] = [];
  for (let i = 0; i < live; i++) blocks.push(potad.allocOrder(s, i % 4));
  for (let i = 0; i < live; i += 2) potad.free(blocks[i]!);
  return { arena, potad, s };
}

describe("cache lines per operation", () => {
  test("alloc from a non-empty list of its order: the header's first line and the block's record", () => {
    const { arena, potad, s } = setup(64);
    potad.allocOrder(s, 0); // take the leftover buddy so order 0's list is predictable
    const x = potad.allocOrder(s, 1);
    potad.free(x); // x's buddy is allocated: x goes back on order 1's list
    const probe = arena.measure(() => potad.allocOrder(s, 1));
    expect(probe.value).toBe(x);
    expect(probe.linesByLabel).toEqual({ "potad spaces": 1, "potad blocks": 1 });
  });

  test("each split adds the new half's record and its hash slot", () => {
    const arena = new ProbingArena();
    const potad = new Potad({ arena });
    const s = potad.addSpace({ base: 0, size: 2 ** 20, granule: 4096 });
    const probe = arena.measure(() => potad.allocOrder(s, 0)); // 8 splits from 1 MiB
    expect(probe.linesByLabel["potad spaces"]).toBe(2); // orders 0-3 on line 0, 4-8 on line 1
    expect(probe.linesByLabel["potad blocks"]).toBe(1 + 8);
    expect(probe.linesByLabel["potad hash"]).toBe(8);
  });

  test("free without a merge: hash and record of the block and of its buddy, the header", () => {
    const arena = new ProbingArena();
    const potad = new Potad({ arena });
    const s = potad.addSpace({ base: 0, size: 2 ** 20, granule: 4096 });
    const a = potad.allocOrder(s, 0);
    potad.allocOrder(s, 0); // a's buddy, allocated
    const probe = arena.measure(() => potad.free(a));
    expect(probe.linesByLabel).toEqual({ "potad hash": 2, "potad blocks": 2, "potad spaces": 1 });
  });

  test("the fit does not depend on how many blocks are live (find-first-set on the order bitmap)", () => {
    const lines = [16, 16384].map((live) => {
      const { arena, potad, s } = setup(live);
      const out: number[] = [];
      for (let order = 0; order < 4; order++) {
        out.push(arena.measure(() => potad.allocOrder(s, order)).lines);
      }
      return out;
    });
    expect(lines[0]).toEqual(lines[1]);
    expect(lines[0]).toEqual([4, 2, 2, 2]); // order 0 splits one order-1 block; the others pop
  });
});
