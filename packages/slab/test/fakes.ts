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
