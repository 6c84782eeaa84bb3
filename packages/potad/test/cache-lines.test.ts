import { ProbingArena } from "@mmkit/physmem";
import { Potad } from "@mmkit/potad";
import { describe, expect, test } from "vitest";

// Cache lines per operation, counted exactly by physmem's ProbingArena (layout in src/layout.ts).
function setup(live: number, frontHigh?: number) {
  const arena = new ProbingArena();
  const potad = new Potad({ arena, frontHigh });
  const s = potad.addSpace({ base: 0, size: 2 ** 36, granule: 4096 });
  const blocks: number[] = [];
  for (let i = 0; i < live; i++) blocks.push(potad.allocOrder(s, i % 4));
  for (let i = 0; i < live; i++) if (Math.floor(i / 4) % 2 === 0) potad.free(blocks[i]!); // half of every order
  return { arena, potad, s };
}

/** A seeded xorshift, so the churn below is the same on every run. */
function xorshift(seed: number): () => number {
  let x = seed;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return x >>> 0;
  };
}

describe("cache lines per operation", () => {
  test("a free of a small block goes on its front: the block's record and the header's line 0", () => {
    const arena = new ProbingArena();
    const potad = new Potad({ arena });
    const s = potad.addSpace({ base: 0, size: 2 ** 20, granule: 4096 });
    const a = potad.allocOrder(s, 0);
    potad.allocOrder(s, 0);
    const probe = arena.measure(() => potad.free(a));
    expect(probe.linesByLabel).toEqual({ "potad blocks": 1, "potad spaces": 1 });
  });

  test("an alloc of a small order pops its front: the header's line 0 and the block's record", () => {
    const { arena, potad, s } = setup(64);
    const x = potad.allocOrder(s, 1);
    potad.free(x);
    const probe = arena.measure(() => potad.allocOrder(s, 1));
    expect(probe.value).toBe(x);
    expect(probe.linesByLabel).toEqual({ "potad spaces": 1, "potad blocks": 1 });
  });

  test("each split adds the new upper half's record (the table holds the records in place)", () => {
    const arena = new ProbingArena();
    const potad = new Potad({ arena });
    const s = potad.addSpace({ base: 0, size: 2 ** 20, granule: 4096 });
    const probe = arena.measure(() => potad.allocOrder(s, 0)); // 8 splits from 1 MiB
    // Header lines 0 (front, counters), 1 (bitmap, heads 0..5) and 2 (heads 6..13).
    expect(probe.linesByLabel).toEqual({ "potad spaces": 3, "potad blocks": 1 + 8 });
  });

  test("without fronts a free without a merge touches the record, its buddy's and header lines 0 and 1", () => {
    const arena = new ProbingArena();
    const potad = new Potad({ arena, frontHigh: 0 });
    const s = potad.addSpace({ base: 0, size: 2 ** 20, granule: 4096 });
    const a = potad.allocOrder(s, 0);
    potad.allocOrder(s, 0); // a's buddy, allocated
    const probe = arena.measure(() => potad.free(a));
    expect(probe.linesByLabel).toEqual({ "potad blocks": 2, "potad spaces": 2 });
  });

  test("the fit does not depend on how many blocks are live (a front pop, or find-first-set on the order bitmap)", () => {
    const header: Record<number, number[][]> = {};
    const total: Record<number, number[][]> = {};
    for (const frontHigh of [64, 0]) {
      for (const live of [16, 16384]) {
        const { arena, potad, s } = setup(live, frontHigh);
        const probes = [0, 1, 2, 3].map((order) => arena.measure(() => potad.allocOrder(s, order)));
        (header[frontHigh] ??= []).push(probes.map((p) => p.linesByLabel["potad spaces"]!));
        (total[frontHigh] ??= []).push(probes.map((p) => p.lines));
      }
    }
    // The header lines (the fit) are the same with 16 and 16384 live blocks.
    expect(header[64]).toEqual([[1, 1, 1, 1], [1, 1, 1, 1]]);
    expect(header[0]).toEqual([[2, 2, 2, 2], [2, 2, 2, 2]]); // without fronts: lines 0 and 1 (bitmap, heads 0..5)
    // Plus the records: one each, and more only where a record sits past its home slot (linear probing,
    // O(1) expected at a load of at most 1/2). Fibonacci hashing of the page number puts every one of
    // these on its home slot, in the 16384-block table too.
    expect(total[64]).toEqual([[2, 2, 2, 2], [2, 2, 2, 2]]);
    expect(total[0]).toEqual([[3, 3, 3, 3], [3, 3, 3, 3]]);
  });

  test("mixed orders 0-3 churn (2000 live, as the bench runs it): 2 lines per free and per alloc in the steady state", () => {
    // The buddy allocator's free-list path takes 5.5 lines per op on this workload (see the bench).
    expect(pageChurnLines({ granule: 4096 })).toEqual([2015, 2064]); // 2.015 and 2.064 lines per op
  });

  test("the same page churn over a 512 B granule: frontOrder 3 puts the fronts on page orders 0-3", () => {
    // The same addresses and records as with a 4 KiB granule: the same 2015 lines per 1000 frees; the
    // allocations that miss their front touch 8 more, because a page order's free-list head sits 3
    // slots further along the header (page orders 0..2 on line 1, 3.. on line 2).
    expect(pageChurnLines({ granule: 512, frontOrder: 3 })).toEqual([2015, 2072]);
    // The default frontOrder 0 fronts 512 B..4 KiB: only page order 0 has a front, orders 1-3 merge.
    expect(pageChurnLines({ granule: 512 })).toEqual([4207, 3037]);
  });
});

/**
 * Lines touched by the second 1000 of 2000 free/alloc pairs of random page orders 0..3 through the
 * page face (4 KiB pages) of a 1 GiB space, 2000 blocks live; `check()` passes at the end.
 */
function pageChurnLines(space: { granule: number; frontOrder?: number }): [free: number, alloc: number] {
  const arena = new ProbingArena();
  const potad = new Potad({ arena });
  const pages = potad.pageFace(potad.addSpace({ base: 0, size: 2 ** 30, ...space }));
  const random = xorshift(0x6d6d6b74);
  const live = 2000;
  const pfns: number[] = [];
  const orders: number[] = [];
  for (let i = 0; i < live; i++) {
    orders.push(random() % 4);
    pfns.push(pages.allocPages(orders[i]!));
  }
  let freeLines = 0;
  let allocLines = 0;
  for (let i = 0; i < 2000; i++) {
    const slot = random() % live;
    const order = random() % 4;
    const freed = arena.measure(() => pages.freePages(pfns[slot]!, orders[slot]!)).lines;
    const probe = arena.measure(() => pages.allocPages(order));
    if (i >= 1000) {
      freeLines += freed;
      allocLines += probe.lines;
    }
    pfns[slot] = probe.value;
    orders[slot] = order;
  }
  potad.check();
  return [freeLines, allocLines];
}
