import type { PageSource } from "@mmkit/frag-cache";

/**
 * A small page source for tests: `pages` pages, first-fit over naturally aligned runs, strict about
 * frees (wrong order, double free, never allocated all throw), with injectable failures per order
 * and a log of every call.
 */
export class FakePageSource implements PageSource {
  readonly pages: number;
  /** Orders that fail (return -1) while listed. */
  readonly failing = new Set<number>();
  /** When set, blocks are placed `misalign` pages past a natural boundary (for alignment tests). */
  misalign = 0;
  readonly log: string[] = [];
  #owner: Int32Array; // order + 1 at a block's first page, -1 inside a block, 0 free
  #outstanding = 0;

  constructor(pages = 1024) {
    this.pages = pages;
    this.#owner = new Int32Array(pages);
  }

  /** Pages handed out and not given back. */
  get outstanding(): number {
    return this.#outstanding;
  }

  allocPages(order: number): number {
    this.log.push(`alloc ${order}`);
    if (this.failing.has(order)) return -1;
    const n = 1 << order;
    for (let p = this.misalign; p + n <= this.pages; p += n) {
      let free = true;
      for (let i = 0; i < n; i++) if (this.#owner[p + i] !== 0) free = false;
      if (!free) continue;
      this.#owner[p] = order + 1;
      for (let i = 1; i < n; i++) this.#owner[p + i] = -1;
      this.#outstanding += n;
      this.log.push(`-> ${p}`);
      return p;
    }
    return -1;
  }

  freePages(pfn: number, order: number): void {
    this.log.push(`free ${pfn} ${order}`);
    if (this.#owner[pfn] !== order + 1) throw new Error(`fake page source: bad free of pfn ${pfn} order ${order} (owner ${this.#owner[pfn]})`);
    const n = 1 << order;
    for (let i = 0; i < n; i++) this.#owner[pfn + i] = 0;
    this.#outstanding -= n;
  }
}
