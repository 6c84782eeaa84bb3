import { MiB, MmkitError } from "@mmkit/physmem";
import { Potad } from "@mmkit/potad";
import { describe, expect, test } from "vitest";

function world() {
  const potad = new Potad();
  const s = potad.addSpace({ base: 0, size: 16 * MiB, granule: 4096 });
  const t = potad.addSpace({ base: 32 * MiB, size: 3 * MiB, granule: 512 });
  const a = potad.alloc(s, 64 * 1024, { descriptor: 3 });
  const c = potad.alloc(t, 2 * MiB, { alignment: MiB });
  const freed = potad.alloc(s, 4096);
  potad.free(freed);
  return { potad, s, t, a, c, freed };
}

function snapshot(potad: Potad): string {
  return JSON.stringify({ spaces: potad.spaces().map((id) => potad.stats(id)), blocks: potad.blockCount, bytes: potad.metadataBytes });
}

type Case = [name: string, fn: (w: ReturnType<typeof world>) => unknown, code: string, message: RegExp];

const cases: Case[] = [
  // spaces
  ["granule not a power of two", (w) => w.potad.addSpace({ base: 64 * MiB, size: MiB, granule: 3000 }), "ERR_INVALID_ARGUMENT", /granule must be a power of two, got 3000/],
  ["base not a multiple of the granule", (w) => w.potad.addSpace({ base: 64 * MiB + 100, size: MiB, granule: 512 }), "ERR_NOT_ALIGNED", /base 67108964 is not a multiple of the granule 512/],
  ["size not a multiple of the granule", (w) => w.potad.addSpace({ base: 64 * MiB, size: 1000, granule: 512 }), "ERR_NOT_ALIGNED", /size 1000/],
  ["size zero", (w) => w.potad.addSpace({ base: 64 * MiB, size: 0, granule: 512 }), "ERR_OUT_OF_RANGE", /size must be in \[1, .*got 0/],
  ["size NaN", (w) => w.potad.addSpace({ base: 64 * MiB, size: Number.NaN, granule: 512 }), "ERR_INVALID_ARGUMENT", /size must be an integer, got NaN/],
  ["space beyond 2^53", (w) => w.potad.addSpace({ base: 2 ** 53 - 4096, size: 8192, granule: 4096 }), "ERR_OUT_OF_RANGE", /beyond 2\^53/],
  ["overlapping spaces", (w) => w.potad.addSpace({ base: 8 * MiB, size: 16 * MiB, granule: 4096 }), "ERR_OVERLAP", /overlaps space 0 \[0, 16777216\)/],
  ["frontOrder above MAX_ORDERS - 4", (w) => w.potad.addSpace({ base: 64 * MiB, size: MiB, granule: 512, frontOrder: 51 }), "ERR_OUT_OF_RANGE", /frontOrder must be in \[0, 50\], got 51/],
  ["frontOrder negative", (w) => w.potad.addSpace({ base: 64 * MiB, size: MiB, granule: 512, frontOrder: -1 }), "ERR_OUT_OF_RANGE", /frontOrder must be in \[0, 50\], got -1/],
  ["frontOrder fractional", (w) => w.potad.addSpace({ base: 64 * MiB, size: MiB, granule: 512, frontOrder: 1.5 }), "ERR_INVALID_ARGUMENT", /frontOrder must be an integer, got 1.5/],
  ["frontOrder as a string", (w) => w.potad.addSpace({ base: 64 * MiB, size: MiB, granule: 512, frontOrder: "3" as never }), "ERR_INVALID_ARGUMENT", /frontOrder must be an integer, got "3"/],
  ["a spec that is not an object", (w) => w.potad.addSpace(null as never), "ERR_INVALID_ARGUMENT", /space must be an object, got null/],
  ["removing a space in use", (w) => w.potad.removeSpace(w.s), "ERR_INVALID_STATE", /space 0 still has 65536 bytes allocated/],
  ["removing an unknown space", (w) => w.potad.removeSpace(7), "ERR_INVALID_ARGUMENT", /space 7 does not exist/],
  // alloc
  ["alloc from an unknown space", (w) => w.potad.alloc(9, 4096), "ERR_INVALID_ARGUMENT", /space 9 does not exist/],
  ["alloc from a fractional space id", (w) => w.potad.alloc(0.5, 4096), "ERR_INVALID_ARGUMENT", /space 0.5 does not exist/],
  ["alloc size zero", (w) => w.potad.alloc(w.s, 0), "ERR_INVALID_ARGUMENT", /size must be a positive integer, got 0/],
  ["alloc size negative", (w) => w.potad.alloc(w.s, -4096), "ERR_INVALID_ARGUMENT", /got -4096/],
  ["alloc size NaN", (w) => w.potad.alloc(w.s, Number.NaN), "ERR_INVALID_ARGUMENT", /got NaN/],
  ["alloc size fractional", (w) => w.potad.alloc(w.s, 1.5), "ERR_INVALID_ARGUMENT", /got 1.5/],
  ["alloc size as a string", (w) => w.potad.alloc(w.s, "4096" as never), "ERR_INVALID_ARGUMENT", /got "4096"/],
  ["alloc beyond the space", (w) => w.potad.alloc(w.s, 16 * MiB + 1), "ERR_OUT_OF_RANGE", /size 16777217 .* exceeds space 0/],
  ["alloc a block larger than a 3 MiB space", (w) => w.potad.alloc(w.t, 3 * MiB), "ERR_OUT_OF_RANGE", /4194304-byte block\) exceeds space 1/],
  ["alignment not a power of two", (w) => w.potad.alloc(w.s, 8 * MiB, { alignment: 3 * MiB }), "ERR_INVALID_ARGUMENT", /alignment must be a power of two, got 3145728/],
  ["alignment above the block size", (w) => w.potad.alloc(w.s, 4096, { alignment: MiB }), "ERR_OUT_OF_RANGE", /alignment 1048576 exceeds the block size 4096/],
  ["contiguous beyond the space", (w) => w.potad.alloc(w.t, 5 * MiB, { alignment: MiB }), "ERR_OUT_OF_RANGE", /size 5242880 exceeds space 1/],
  ["negative descriptor", (w) => w.potad.alloc(w.s, 4096, { descriptor: -2 }), "ERR_OUT_OF_RANGE", /descriptor must be in \[0, .*got -2/],
  ["fractional descriptor", (w) => w.potad.alloc(w.s, 4096, { descriptor: 0.5 }), "ERR_INVALID_ARGUMENT", /descriptor must be an integer, got 0.5/],
  ["descriptor on a contiguous allocation", (w) => w.potad.alloc(w.s, 3 * MiB, { alignment: MiB, descriptor: Number.NaN }), "ERR_INVALID_ARGUMENT", /descriptor must be an integer, got NaN/],
  ["negative descriptor bytes", (w) => w.potad.alloc(w.s, 4096, { descriptor: 1, descriptorBytes: -1 }), "ERR_OUT_OF_RANGE", /descriptorBytes .*got -1/],
  ["a descriptor over an occupied index range", (w) => {
    const next = w.potad.alloc(w.s, MiB); // where the next 1 MiB block goes
    w.potad.free(next);
    w.potad.descriptorIndex.store(next, next + MiB - 1, 1); // a foreign range there
    try {
      return w.potad.alloc(w.s, MiB, { descriptor: 2 });
    } finally {
      w.potad.descriptorIndex.erase(next);
    }
  }, "ERR_OCCUPIED", /range \[\d+, \d+\] overlaps the stored range/],
  ["order above the space", (w) => w.potad.allocOrder(w.s, 13), "ERR_OUT_OF_RANGE", /order must be in \[0, 12\], got 13/],
  ["order negative", (w) => w.potad.allocOrder(w.s, -1), "ERR_OUT_OF_RANGE", /got -1/],
  // free
  ["double free", (w) => w.potad.free(w.freed), "ERR_DOUBLE_FREE", /address 65536 is free already|lies in the free block/],
  ["free of an address never handed out (in free space)", (w) => w.potad.free(MiB + 4096), "ERR_NOT_ALLOCATED", /address 1052672 is not allocated: it lies in free space \(the free block at 1048576\)/],
  ["free from the middle of a block", (w) => w.potad.free(w.a + 4096), "ERR_NOT_ALLOCATED", /address 4096 is not the start of an allocation: it lies inside the allocation at 0/],
  ["free of a piece of a contiguous allocation", (w) => w.potad.free(w.c + MiB), "ERR_NOT_ALLOCATED", /inside the allocation at 33554432/],
  ["free outside every space", (w) => w.potad.free(20 * MiB), "ERR_NOT_ALLOCATED", /address 20971520 is in no space/],
  ["free NaN", (w) => w.potad.free(Number.NaN), "ERR_INVALID_ARGUMENT", /address must be a non-negative integer, got NaN/],
  ["free negative", (w) => w.potad.free(-4096), "ERR_INVALID_ARGUMENT", /got -4096/],
  ["free with the wrong size", (w) => w.potad.free(w.a, 4096), "ERR_WRONG_SIZE", /the allocation at 0 is 65536 bytes, not 4096/],
  ["sizeOf free space", (w) => w.potad.sizeOf(w.freed), "ERR_DOUBLE_FREE", /65536/],
  ["page face of an unknown space", (w) => w.potad.pageFace(5), "ERR_INVALID_ARGUMENT", /space 5 does not exist/],
];

describe("misuse throws a typed error naming the value and changes nothing", () => {
  test.each(cases)("%s", (_name, fn, code, message) => {
    const w = world();
    const before = snapshot(w.potad);
    let thrown: unknown;
    try {
      fn(w);
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(MmkitError);
    expect((thrown as MmkitError).code).toBe(code);
    expect((thrown as MmkitError).message).toMatch(message);
    expect(snapshot(w.potad)).toBe(before);
    w.potad.check();
    // Still works afterwards: the allocations made before are freed as they were.
    expect(w.potad.free(w.a)).toBe(3);
    w.potad.free(w.c);
    w.potad.check();
  });

  test("bad constructor options", () => {
    expect(() => new Potad(5 as never)).toThrow(/potad options must be an object, got 5/);
  });
});
