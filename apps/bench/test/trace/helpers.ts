import { fileURLToPath } from "node:url";
import type { PageAllocator } from "../../src/trace/index.js";

/** Absolute path of a file under apps/bench/fixtures/traces/. */
export function fixture(name: string): string {
  return fileURLToPath(new URL(`../../fixtures/traces/${name}`, import.meta.url));
}

/**
 * The reference page allocator the replay tests run against: a bump pointer over `pages` pfns
 * (each block aligned to its size) with one LIFO free list per order, no splitting or merging.
 * It checks every free strictly (a pfn it handed out, with the order it was allocated with, not
 * freed twice), so a replayer that frees the wrong pfn or order fails loudly.
 */
export class ReferenceAllocator implements PageAllocator {
  readonly #pages: number;
  #bump = 0;
  readonly #free: number[][] = [];
  readonly #live = new Map<number, number>();
  allocCalls = 0;
  failures = 0;
  freeCalls = 0;

  constructor(pages: number) {
    this.#pages = pages;
  }

  allocPages(order: number): number {
    this.allocCalls++;
    const list = this.#free[order];
    let pfn: number;
    if (list !== undefined && list.length > 0) pfn = list.pop()!;
    else {
      const size = 2 ** order;
      const start = Math.ceil(this.#bump / size) * size;
      if (start + size > this.#pages) {
        this.failures++;
        return -1;
      }
      pfn = start;
      this.#bump = start + size;
    }
    this.#live.set(pfn, order);
    return pfn;
  }

  freePages(pfn: number, order: number): void {
    const allocated = this.#live.get(pfn);
    if (allocated === undefined) throw new Error(`reference allocator: free of pfn ${pfn}, not allocated`);
    if (allocated !== order) throw new Error(`reference allocator: free of pfn ${pfn} with order ${order}, allocated with ${allocated}`);
    this.#live.delete(pfn);
    (this.#free[order] ??= []).push(pfn);
    this.freeCalls++;
  }

  get liveBlocks(): number {
    return this.#live.size;
  }

  get livePages(): number {
    let n = 0;
    for (const order of this.#live.values()) n += 2 ** order;
    return n;
  }
}

/** A fake allocator that logs every call; `fail(n)` decides whether the n-th allocPages call (0-based) returns -1. */
export class RecordingAllocator implements PageAllocator {
  readonly calls: string[] = [];
  #next = 0;
  #n = 0;
  readonly #fail: (n: number) => boolean;
  constructor(fail: (n: number) => boolean = () => false) {
    this.#fail = fail;
  }
  allocPages(order: number): number {
    if (this.#fail(this.#n++)) {
      this.calls.push(`alloc ${order} -> -1`);
      return -1;
    }
    const pfn = this.#next;
    this.#next += 1024;
    this.calls.push(`alloc ${order} -> ${pfn}`);
    return pfn;
  }
  freePages(pfn: number, order: number): void {
    this.calls.push(`free ${pfn} ${order}`);
  }
}
