import { ErrorCode, MetadataArena, MmkitError, type MetadataArray } from "@mmkit/physmem";
import { describe, expect, test } from "vitest";
import { BuddyAllocator } from "@mmkit/buddy";
import { pageMap } from "./helpers.ts";

/** An arena that lets the test reach the allocator's arrays, to break them on purpose. */
class CapturingArena extends MetadataArena {
  readonly arrays = new Map<string, MetadataArray>();
  protected override expose(array: MetadataArray, label: string): MetadataArray {
    this.arrays.set(label, array);
    return array;
  }
}

function setup() {
  const arena = new CapturingArena();
  const b = new BuddyAllocator(pageMap([[0, 64]]), { arena, maxOrder: 4, minFreeKbytes: 0, defaultMigratetype: 1 });
  const p = b.allocPages(0); // 0 allocated; 1 (o0), 2 (o1), 4 (o2), 8 (o3), 16, 32, 48 (o4) free
  const mem = arena.arrays.get("buddy memmap (struct page)") as Int32Array;
  const fa = arena.arrays.get("buddy free_area") as Int32Array;
  const zone = arena.arrays.get("buddy zone") as Int32Array;
  const pb = arena.arrays.get("buddy pageblock flags") as Uint8Array;
  return { b, p, mem, fa, zone, pb };
}

function expectBroken(b: BuddyAllocator, text: string): void {
  let error: unknown;
  try {
    b.check();
  } catch (e) {
    error = e;
  }
  expect(error).toBeInstanceOf(MmkitError);
  expect((error as MmkitError).code).toBe(ErrorCode.Invariant);
  expect((error as MmkitError).message).toContain(text);
}

describe("check() finds broken invariants", () => {
  test("a healthy allocator passes", () => {
    setup().b.check();
  });
  test("free pages counter", () => {
    const { b, zone } = setup();
    zone[0]!++;
    expectBroken(b, "node 0: free pages counter is 64, the lists other than Isolate hold 63");
  });
  test("a list count", () => {
    const { b, fa } = setup();
    fa[16 * 4 + 1 + 3 + 2]!++; // order 4, Movable count
    expectBroken(b, "node 0 order 4 Movable free list: count is 4, the list holds 3");
  });
  test("a broken prev link", () => {
    const { b, mem } = setup();
    mem[(32 << 4) + 2] = 48;
    expectBroken(b, "pfn 32 has a wrong prev link");
  });
  test("a list cycle", () => {
    const { b, mem } = setup();
    mem[(48 << 4) + 1] = 16;
    expectBroken(b, "on more than one list (or the list has a cycle)");
  });
  test("an allocated page that lost its head", () => {
    const { b, mem } = setup();
    mem[0] = 0;
    expectBroken(b, "pfn 0 is not inside any block");
  });
  test("a tail page with state", () => {
    const { b, mem } = setup();
    mem[17 << 4] = 3;
    expectBroken(b, "pfn 17 inside the order-4 block at pfn 16 has flags 0x3");
  });
  test("a free block in a pageblock of another type", () => {
    const { b, pb } = setup();
    pb[0] = 0;
    expectBroken(b, "lies in a pageblock of type Unmovable");
  });
  test("two free buddies left unmerged", () => {
    const { b, mem, fa, zone } = setup();
    // Hand-free page 0 as an order-0 block without merging it with its free buddy 1.
    mem[0] = (1 << 8) * 0 + (1 << 2) + 1; // Movable, order 0, free
    mem[1] = fa[1 + 3]!; // next = old head (1)
    mem[2] = -1;
    mem[(1 << 4) + 2] = 0;
    fa[1 + 3] = 0;
    fa[1 + 3 + 2]!++;
    fa[0]!++;
    zone[0]!++;
    expectBroken(b, "free buddies at pfn 0 and 1 (order 0) were not merged");
  });
});
