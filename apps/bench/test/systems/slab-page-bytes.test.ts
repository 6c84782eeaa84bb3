import { ErrorCode } from "@mmkit/physmem";
import fc from "fast-check";
import { describe, expect, test } from "vitest";
import { SlabPageBytes } from "../../src/systems/index.js";

/** Throws an MmkitError of `code` whose message names `text`. */
function expectMmkitError(fn: () => unknown, code: string, text: string): void {
  expect(fn).toThrow(expect.objectContaining({ name: "MmkitError", code, message: expect.stringContaining(text) }));
}

describe("SlabPageBytes: slab pages packed into one buffer", () => {
  test("each slab's pages get contiguous slots; a run given back goes to the next slab of its order, zeroed; whole() changes only when the buffer doubles", () => {
    const bytes = new SlabPageBytes(4096);
    const first = bytes.whole();
    expect(bytes.capacityBytes).toBe(16 * 4096);
    bytes.add(1000, 1); // slots 0-1
    bytes.add(7, 0); // slot 2
    bytes.add(5000, 2); // slots 3-6
    expect([bytes.offsetOf(1000 * 4096), bytes.offsetOf(1001 * 4096 + 5), bytes.offsetOf(7 * 4096 + 64), bytes.offsetOf(5003 * 4096 + 4095)]).toEqual([0, 4096 + 5, 2 * 4096 + 64, 7 * 4096 - 1]);
    expect(bytes.heldBytes).toBe(7 * 4096);
    // Across the two pages of one slab: one view.
    bytes.bytes(1000 * 4096 + 4090, 12).set([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
    expect(Array.from(first.subarray(4090, 4102))).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
    bytes.remove(1000, 1);
    expect(bytes.heldBytes).toBe(5 * 4096);
    expectMmkitError(() => bytes.offsetOf(1000 * 4096), ErrorCode.NotAllocated, "4096000");
    // An order-0 slab does not take the order-1 run; the next order-1 slab does, zeroed.
    bytes.add(8, 0);
    expect(bytes.offsetOf(8 * 4096)).toBe(7 * 4096);
    bytes.add(2000, 1);
    expect(bytes.offsetOf(2000 * 4096)).toBe(0);
    expect(Array.from(bytes.bytes(2000 * 4096 + 4090, 12))).toEqual(new Array(12).fill(0));
    expect(bytes.whole()).toBe(first);
    // Past 16 pages the buffer doubles, keeping every byte where it was.
    bytes.add(9000, 3); // slots 8-15
    expect(bytes.whole()).toBe(first);
    bytes.bytes(7 * 4096, 1)[0] = 42;
    bytes.add(64, 0); // slot 16: the buffer doubles
    expect(bytes.capacityBytes).toBe(32 * 4096);
    expect(bytes.whole()).not.toBe(first);
    expect([bytes.whole()[2 * 4096], bytes.offsetOf(64 * 4096)]).toEqual([42, 16 * 4096]);
  });

  test("refuses misuse with typed errors and changes nothing", () => {
    const bytes = new SlabPageBytes(4096);
    bytes.add(10, 1);
    bytes.add(12, 0);
    expectMmkitError(() => bytes.add(11, 0), ErrorCode.InvalidArgument, "11");
    expectMmkitError(() => bytes.remove(11, 0), ErrorCode.NotAllocated, "11");
    expectMmkitError(() => bytes.remove(10, 2), ErrorCode.NotAllocated, "10");
    expectMmkitError(() => bytes.remove(20, 0), ErrorCode.NotAllocated, "20");
    expectMmkitError(() => bytes.bytes(13 * 4096, 1), ErrorCode.NotAllocated, "53248");
    expectMmkitError(() => bytes.bytes(12 * 4096 + 4000, 200), ErrorCode.NotAllocated, "53152");
    expectMmkitError(() => bytes.offsetOf(-1), ErrorCode.NotAllocated, "-1");
    expectMmkitError(() => new SlabPageBytes(3000), ErrorCode.InvalidArgument, "3000");
    expect([bytes.heldBytes, bytes.offsetOf(11 * 4096), bytes.offsetOf(12 * 4096)]).toEqual([3 * 4096, 4096, 2 * 4096]);
  });

  test("random adds and removes against a map of pages: every backed byte reads what was written to it, through offsetOf and bytes", () => {
    const op = fc.oneof(
      fc.record({ kind: fc.constant("add" as const), block: fc.nat(63), order: fc.nat(3), fill: fc.integer({ min: 1, max: 255 }) }),
      fc.record({ kind: fc.constant("remove" as const), pick: fc.nat() }),
    );
    fc.assert(
      fc.property(fc.array(op, { maxLength: 80 }), (ops) => {
        const pageSize = 256;
        const bytes = new SlabPageBytes(pageSize);
        // The model: pfn -> that page's bytes; each slab is an aligned block of 2^order pages.
        const model = new Map<number, Uint8Array>();
        const slabs: { pfn: number; order: number }[] = [];
        for (const o of ops) {
          if (o.kind === "add") {
            const pfn = o.block * 8;
            if (model.has(pfn)) continue;
            bytes.add(pfn, o.order);
            slabs.push({ pfn, order: o.order });
            for (let i = 0; i < 2 ** o.order; i++) {
              const page = new Uint8Array(pageSize);
              expect(bytes.bytes((pfn + i) * pageSize, pageSize).every((b) => b === 0)).toBe(true);
              page.fill(o.fill + i);
              bytes.bytes((pfn + i) * pageSize, pageSize).set(page);
              model.set(pfn + i, page);
            }
          } else if (slabs.length > 0) {
            const [s] = slabs.splice(o.pick % slabs.length, 1);
            bytes.remove(s!.pfn, s!.order);
            for (let i = 0; i < 2 ** s!.order; i++) model.delete(s!.pfn + i);
          }
          expect(bytes.heldBytes).toBe(model.size * pageSize);
          for (const [pfn, page] of model) {
            expect(bytes.whole()[bytes.offsetOf(pfn * pageSize + 17)]).toBe(page[17]);
            expect(bytes.bytes(pfn * pageSize, pageSize)).toEqual(page);
          }
        }
      }),
      { numRuns: 60 },
    );
  });
});
