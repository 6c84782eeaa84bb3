import { MiB, MmkitError } from "@mmkit/physmem";
import { Potad } from "@mmkit/potad";
import { expect, test } from "vitest";

/** What the fragment cache and the PTE cache declare they need (their `PageSource`). */
interface PageSource {
  allocPages(order: number): number;
  freePages(pfn: number, order: number): void;
}

test("the page face hands out page frame numbers by order, as the buddy allocator does", () => {
  const potad = new Potad();
  const ram = potad.addSpace({ base: 16 * MiB, size: 16 * MiB, granule: 512 });
  const pages: PageSource = potad.pageFace(ram, 4096);
  expect(pages.allocPages(0)).toBe(4096); // 16 MiB / 4 KiB
  expect(pages.allocPages(3)).toBe(4096 + 8);
  expect(pages.allocPages(0)).toBe(4097);
  expect(pages.allocPages(12)).toBe(-1); // 16 MiB of pages, but 4 pages are taken
  expect(pages.allocPages(11)).toBe(4096 + 2048);
  pages.freePages(4096, 0);
  pages.freePages(4097, 0);
  pages.freePages(4104, 3);
  pages.freePages(4096 + 2048, 11);
  expect(potad.stats(ram).allocatedBytes).toBe(0);
  expect(pages.allocPages(12)).toBe(4096);
  potad.check();
});

test("freeing with another order, a pfn never handed out, or a bad order throws and changes nothing", () => {
  const potad = new Potad();
  const ram = potad.addSpace({ base: 0, size: 8 * MiB, granule: 1024 });
  const pages = potad.pageFace(ram);
  const pfn = pages.allocPages(2);
  const before = JSON.stringify(potad.stats(ram));
  const cases: Array<[() => void, string, RegExp]> = [
    [() => pages.freePages(pfn, 1), "ERR_WRONG_SIZE", /is 16384 bytes, not 8192/],
    [() => pages.freePages(pfn + 1, 2), "ERR_NOT_ALLOCATED", /4096 .*inside the allocation at 0/],
    [() => pages.freePages(100, 0), "ERR_NOT_ALLOCATED", /409600 is not allocated/],
    [() => pages.freePages(Number.NaN, 0), "ERR_INVALID_ARGUMENT", /pfn must be a non-negative integer, got NaN/],
    [() => pages.freePages(pfn, -1), "ERR_OUT_OF_RANGE", /order must be in .* got -1/],
    [() => pages.allocPages(1.5), "ERR_INVALID_ARGUMENT", /order must be an integer, got 1.5/],
    [() => pages.allocPages(12), "ERR_OUT_OF_RANGE", /order must be in \[0, 11\], got 12/],
  ];
  for (const [fn, code, message] of cases) {
    expect(fn).toThrow(MmkitError);
    try {
      fn();
    } catch (error) {
      expect((error as MmkitError).code).toBe(code);
      expect((error as MmkitError).message).toMatch(message);
    }
    expect(JSON.stringify(potad.stats(ram))).toBe(before);
  }
  potad.check();
});

test("a page face frees only pages of its own space: another space's pfn throws and changes nothing", () => {
  const potad = new Potad();
  const a = potad.addSpace({ base: 0, size: 8 * MiB, granule: 4096 });
  const b = potad.addSpace({ base: 8 * MiB, size: 8 * MiB, granule: 4096 });
  const faceA = potad.pageFace(a);
  const faceB = potad.pageFace(b);
  const pfn = faceB.allocPages(0);
  expect(pfn).toBe(2048);
  const before = JSON.stringify([potad.stats(a), potad.stats(b)]);
  let thrown: unknown;
  try {
    faceA.freePages(pfn, 0);
  } catch (error) {
    thrown = error;
  }
  expect((thrown as MmkitError).code).toBe("ERR_OUT_OF_RANGE");
  expect((thrown as MmkitError).message).toBe("pfn 2048 (address 8388608) is not in space 0 [0, 8388608)");
  expect(JSON.stringify([potad.stats(a), potad.stats(b)])).toBe(before);
  faceB.freePages(pfn, 0);
  expect(potad.stats(b).allocatedBytes).toBe(0);
  potad.check();
});

test("a page face needs pages at least as large as the granule and a page-aligned base", () => {
  const potad = new Potad();
  const a = potad.addSpace({ base: 0, size: MiB, granule: 8192 });
  const b = potad.addSpace({ base: MiB + 512, size: 4096, granule: 512 });
  expect(() => potad.pageFace(a, 4096)).toThrow(/pageSize must be in \[8192/);
  expect(() => potad.pageFace(b, 4096)).toThrow(/base 1049088 is not a multiple of the page size 4096/);
  expect(potad.pageFace(a, 8192).allocPages(0)).toBe(0);
});

test("the face's fast paths take nothing a full validation would refuse: odd pfns and orders throw and change nothing", () => {
  const potad = new Potad();
  // A 512-byte granule: the raw API can place a 2 KiB block at a page-aligned address, which a pfn
  // of the wrong type, a fraction or a negative order could otherwise reach.
  const ram = potad.addSpace({ base: 0, size: 8 * MiB, granule: 512 });
  const pages = potad.pageFace(ram);
  const pfn = pages.allocPages(0); // pfn 0, 4 KiB at address 0
  const small = potad.alloc(ram, 2048); // a 2 KiB block, granule order 2
  expect([pfn, small]).toEqual([0, 4096]);
  const pfn1 = pages.allocPages(1); // 8 KiB at 8192: pfn 2
  expect(pfn1).toBe(2);
  const before = JSON.stringify(potad.stats(ram));
  const cases: Array<[() => void, string, RegExp]> = [
    [() => pages.freePages("0" as unknown as number, 0), "ERR_INVALID_ARGUMENT", /pfn must be a non-negative integer, got "0"/],
    [() => pages.freePages(false as unknown as number, 0), "ERR_INVALID_ARGUMENT", /pfn must be a non-negative integer, got boolean/],
    [() => pages.freePages(0.5, 0), "ERR_INVALID_ARGUMENT", /got 0.5/], // address 2048: a granule, not a page
    [() => pages.freePages(-1 / 4096, 0), "ERR_INVALID_ARGUMENT", /got -0.000244140625/], // address -1, an empty slot's key
    [() => pages.freePages(1, -1), "ERR_OUT_OF_RANGE", /order must be in .* got -1/], // the 2 KiB block at 4096
    [() => pages.freePages(2, "1" as unknown as number), "ERR_INVALID_ARGUMENT", /order must be an integer, got "1"/],
    [() => pages.freePages(2, 0), "ERR_WRONG_SIZE", /is 8192 bytes, not 4096/],
    [() => pages.freePages(1, 0), "ERR_WRONG_SIZE", /is 2048 bytes, not 4096/],
    [() => pages.allocPages("0" as unknown as number), "ERR_INVALID_ARGUMENT", /order must be an integer, got "0"/],
    [() => pages.allocPages(-1), "ERR_OUT_OF_RANGE", /order must be in \[0, 11\], got -1/],
  ];
  for (const [fn, code, message] of cases) {
    let thrown: unknown;
    try {
      fn();
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(MmkitError);
    expect((thrown as MmkitError).code).toBe(code);
    expect((thrown as MmkitError).message).toMatch(message);
    expect(JSON.stringify(potad.stats(ram))).toBe(before);
    potad.check();
  }
  pages.freePages(pfn, 0); // on its front
  expect(() => pages.freePages(pfn, 0)).toThrow(/address 0 is free already/);
  expect(potad.stats(ram).cachedBlocks).toBe(1);
  expect(pages.allocPages(0)).toBe(0); // popped back
  pages.freePages(0, 0);
  pages.freePages(2, 1);
  potad.free(small);
  expect(potad.stats(ram).allocatedBytes).toBe(0);
  potad.check();
});

test("a face over a removed space allocates and frees nothing: ERR_INVALID_ARGUMENT names the space", () => {
  const potad = new Potad();
  const ram = potad.addSpace({ base: 0, size: 8 * MiB, granule: 4096 });
  const pages = potad.pageFace(ram);
  pages.freePages(pages.allocPages(0), 0); // a block on the front of order 0
  potad.removeSpace(ram);
  expect(() => pages.allocPages(0)).toThrow(/space 0 does not exist/);
  expect(() => pages.freePages(0, 0)).toThrow(/space 0 does not exist/);
  expect(potad.blockCount).toBe(0);
  potad.check();
});

test("a space's frontOrder picks which face orders have fronts: granule 512, frontOrder 3, 1 KiB pages", () => {
  const potad = new Potad();
  const ram = potad.addSpace({ base: 0, size: MiB, granule: 512, frontOrder: 3 }); // fronts: 4..32 KiB
  const pages = potad.pageFace(ram, 1024); // face order k is granule order k + 1: fronts on face orders 2..5
  const freed = [0, 1, 2, 5, 6].map((order) => {
    const pfn = pages.allocPages(order);
    const pin = pages.allocPages(order); // keeps the first from merging with its buddy
    expect(pin).toBeGreaterThan(pfn);
    return [pfn, order] as const;
  });
  for (const [pfn, order] of freed) pages.freePages(pfn, order);
  potad.check();
  // Orders 2 and 5 wait on their fronts; 0, 1 (below frontOrder) and 6 (above it + 3) went to the buddy allocator.
  expect(potad.stats(ram).cachedBlocks).toBe(2);
  expect(pages.allocPages(5)).toBe(freed[3]![0]);
  expect(pages.allocPages(2)).toBe(freed[2]![0]);
  expect(potad.stats(ram).cachedBlocks).toBe(0);
  potad.drain();
  potad.check();
});
