import type { PageSource } from "@mmkit/pte-cache";

/**
 * A small page allocator for tests: a bitmap over `pages` pages from `startPfn`, first fit over
 * naturally aligned runs, and a record of every block handed out with its order, so a free with the
 * wrong order or of something never handed out throws. `failOrder9` injects order-9 failures;
 * `splitPages` lets a page of an order-9 block be freed alone (Linux split_page semantics).
 */
export class FakePageSource implements PageSource {
  readonly used: Uint8Array;
  readonly blocks = new Map<number, number>(); // first pfn -> order
  failOrder9 = false;
  splitPages = false;
  calls: string[] = [];
  logCalls = false;

  constructor(
    readonly pages: number,
    readonly startPfn = 0,
  ) {
    this.used = new Uint8Array(pages);
  }

  allocPages(order: number): number {
    if (this.logCalls) this.calls.push(`alloc ${order}`);
    if (order === 9 && this.failOrder9) return -1;
    const n = 1 << order;
    for (let i = (n - (this.startPfn % n)) % n; i + n <= this.pages; i += n) {
      let free = true;
      for (let k = 0; k < n; k++) {
        if (this.used[i + k]) {
          free = false;
          break;
        }
      }
      if (free) {
        this.used.fill(1, i, i + n);
        this.blocks.set(this.startPfn + i, order);
        return this.startPfn + i;
      }
    }
    return -1;
  }

  freePages(pfn: number, order: number): void {
    if (this.logCalls) this.calls.push(`free ${pfn} ${order}`);
    const have = this.blocks.get(pfn);
    if (have === order) {
      this.blocks.delete(pfn);
      this.used.fill(0, pfn - this.startPfn, pfn - this.startPfn + (1 << order));
      return;
    }
    if (this.splitPages && order === 0) {
      // A page out of a larger block: split the block into pages first.
      for (const [first, o] of this.blocks) {
        if (o > 0 && pfn >= first && pfn < first + (1 << o)) {
          this.blocks.delete(first);
          for (let p = first; p < first + (1 << o); p++) this.blocks.set(p, 0);
          this.freePages(pfn, 0);
          return;
        }
      }
    }
    throw new Error(`fake page source: free of ${pfn} order ${order}, handed out: ${have ?? "nothing"}`);
  }

  /** Pages handed out and not freed. */
  get usedPages(): number {
    let n = 0;
    for (const u of this.used) n += u;
    return n;
  }

  snapshot(): string {
    return JSON.stringify([...this.blocks].sort((a, b) => a[0] - b[0]));
  }
}
