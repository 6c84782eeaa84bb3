import type { PageSource } from "@mmkit/frag-cache";

/**
 * A page source over `pages` pages whose state lives in a SharedArrayBuffer, so workers can share
 * it: first fit over naturally aligned runs under a spin lock, strict about frees (a block given
 * back twice, or with the wrong order, throws: the stress test's "freed twice" detector).
 * Layout: [0] lock, [1] pages outstanding, [2] frees refused, then order + 1 at a block's first
 * page, -1 inside a block, 0 free.
 */
export class SharedPageSource implements PageSource {
  readonly state: Int32Array;
  readonly pages: number;

  constructor(stateOrPages: Int32Array | number) {
    this.state = typeof stateOrPages === "number" ? new Int32Array(new SharedArrayBuffer(4 * (3 + stateOrPages))) : stateOrPages;
    this.pages = this.state.length - 3;
  }

  /** Pages handed out and not given back. */
  get outstanding(): number {
    return Atomics.load(this.state, 1);
  }

  allocPages(order: number): number {
    const n = 1 << order;
    const s = this.state;
    this.#lock();
    try {
      for (let p = 0; p + n <= this.pages; p += n) {
        let free = true;
        for (let i = 0; i < n && free; i++) if (s[3 + p + i] !== 0) free = false;
        if (!free) continue;
        s[3 + p] = order + 1;
        for (let i = 1; i < n; i++) s[3 + p + i] = -1;
        s[1] = s[1]! + n;
        return p;
      }
      return -1;
    } finally {
      this.#unlock();
    }
  }

  freePages(pfn: number, order: number): void {
    const s = this.state;
    this.#lock();
    try {
      if (s[3 + pfn] !== order + 1) {
        s[2] = s[2]! + 1;
        throw new Error(`shared page source: bad free of pfn ${pfn} order ${order} (owner ${s[3 + pfn]})`);
      }
      for (let i = 0; i < 1 << order; i++) s[3 + pfn + i] = 0;
      s[1] = s[1]! - (1 << order);
    } finally {
      this.#unlock();
    }
  }

  #lock(): void {
    while (Atomics.compareExchange(this.state, 0, 0, 1) !== 0);
  }

  #unlock(): void {
    Atomics.store(this.state, 0, 0);
  }
}
