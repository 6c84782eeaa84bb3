import { MetadataArena, TiB } from "@mmkit/physmem";
import { Potad } from "@mmkit/potad";
import { expect, test } from "vitest";

test("1 TiB then 4000 small blocks out of a 1.5 TiB space costs kilobytes, not gigabytes", () => {
  const arena = new MetadataArena();
  const potad = new Potad({ arena });
  const s = potad.addSpace({ base: 0, size: 1.5 * TiB, granule: 4096 });
  expect(potad.alloc(s, TiB, { descriptor: 1 })).toBe(0);
  const small: number[] = [];
  for (let i = 0; i < 4000; i++) {
    const size = 4096 << (i % 4); // 4, 8, 16, 32 KiB
    const address = potad.alloc(s, size, { descriptor: 2 + i, descriptorBytes: 64 });
    expect(address % size).toBe(0);
    small.push(address);
  }
  potad.check();
  const stats = potad.stats(s);
  expect(stats.allocations).toBe(4001);
  expect(stats.allocatedBytes).toBe(TiB + 1000 * (4 + 8 + 16 + 32) * 1024);
  expect(stats.descriptorBytes).toBe(4000 * 64);
  // Exactly: 4019 records (4001 allocated blocks + 18 free ones) in a table of 8192 64-byte slots (load at
  // most 1/2), 4 space headers of 576 B, and the default descriptor index: 4001 blocks in a hash table of
  // 8192 24-byte slots (load at most 1/2) plus its 464-byte order counts. A struct page per 4 KiB would be 24 GiB.
  expect(potad.blockCount).toBe(4019);
  expect(arena.byLabel()).toEqual({
    "potad blocks": 8192 * 64,
    "potad spaces": 4 * 576,
    "potad descriptor index": 8192 * 24,
    "potad descriptor index orders": 58 * 8,
  });
  expect(arena.bytes).toBe(723_664); // 707 KiB
  expect(potad.metadataBytes).toBe(8192 * 64 + 4 * 576);
  expect(stats.blocks).toBe(4001 + stats.freeBlocks);
  const bytes = arena.bytes;
  for (const a of small) arena.sealWhile(() => potad.free(a));
  expect(potad.free(0)).toBe(1);
  potad.drain(); // merge what waits on the fronts
  expect(arena.bytes).toBe(bytes);
  expect(potad.stats(s).freeBlocks).toBe(2);
  expect(potad.blockCount).toBe(2);
  potad.check();
}, 10_000);
