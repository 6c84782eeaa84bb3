import { MemoryBacking, MemoryMap } from "@mmkit/physmem";

/**
 * A small page source for tests: first fit over a bitmap of `pages` pages, each block aligned to
 * its size (as the buddy allocator and POTAD give them), with counts of what is out.
 */
export class TestPages {
  readonly used: Uint8Array;
  allocated = 0;
  calls = 0;
  constructor(readonly pages: number) {
    this.used = new Uint8Array(pages);
  }
  allocPages(order: number): number {
    this.calls++;
    const n = 2 ** order;
    for (let pfn = 0; pfn + n <= this.pages; pfn += n) {
      let free = true;
      for (let i = 0; i < n && free; i++) if (this.used[pfn + i]) free = false;
      if (free) {
        this.used.fill(1, pfn, pfn + n);
        this.allocated += n;
        return pfn;
      }
    }
    return -1;
  }
  freePages(pfn: number, order: number): void {
    const n = 2 ** order;
    for (let i = 0; i < n; i++) {
      if (!this.used[pfn + i]) throw new Error(`page ${pfn + i} freed twice`);
      this.used[pfn + i] = 0;
    }
    this.allocated -= n;
  }
}

/** `pages` pages of 4 KiB, backed by real bytes. */
export function machine(pages: number): { pages: TestPages; memory: MemoryBacking } {
  return { pages: new TestPages(pages), memory: new MemoryBacking(MemoryMap.uniform(pages * 4096)) };
}

/**
 * `pages` pages of 4 KiB whose bytes sit in one buffer in another order: aligned groups of 8 pages
 * (the largest slab) are stored back to front, so `offsetOf` must be used, and `base` would be
 * wrong. Offers the `whole()` fast path and counts `bytes()` calls.
 */
export class PackedMemory {
  readonly buffer: Uint8Array;
  bytesCalls = 0;
  constructor(readonly pages: number) {
    if (pages % 8 !== 0) throw new Error("pages must be a multiple of 8");
    this.buffer = new Uint8Array(pages * 4096);
  }
  offsetOf(address: number): number {
    const group = Math.floor(address / (8 * 4096));
    return (this.pages / 8 - 1 - group) * 8 * 4096 + (address % (8 * 4096));
  }
  whole(): Uint8Array {
    return this.buffer;
  }
  bytes(address: number, length: number): Uint8Array {
    this.bytesCalls++;
    const offset = this.offsetOf(address);
    return this.buffer.subarray(offset, offset + length);
  }
}
