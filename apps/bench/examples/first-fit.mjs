// A first-fit page allocator, as a --system-file example (plain JavaScript, no build step):
//
//   pnpm bench --system-file examples/first-fit.mjs --trace fixtures/traces/linux-6.1-small/trace.txt.gz
//
// Free memory is a list of extents (first pfn, length) in address order, kept in two typed arrays
// from the bench's arena (so its metadata bytes are measured). An allocation of 2^order pages takes
// the front of the first extent long enough (no alignment, no size classes: the opposite of a buddy
// allocator); a free puts the pages back and merges them with the extents on either side.
// Cost: allocPages O(extents) (the scan) plus a memmove when an extent empties; freePages
// O(log extents) to find its place plus a memmove when it opens a new extent.

/** An error the bench understands: code ERR_OUT_OF_RANGE means "cannot serve this order". */
function failure(code, message) {
  return Object.assign(new Error(message), { code });
}

export class FirstFitPages {
  constructor({ pages, arena }) {
    this.pages = pages;
    // At most one extent per two pages (free, used, free, ...), plus one.
    const capacity = Math.floor(pages / 2) + 1;
    this.start = arena.float64(capacity, "first-fit extent start");
    this.length = arena.float64(capacity, "first-fit extent length");
    this.count = 1;
    this.start[0] = 0;
    this.length[0] = pages;
    this.allocatedPages = 0;
  }

  allocPages(order) {
    if (!Number.isInteger(order) || order < 0 || 2 ** order > this.pages) {
      throw failure("ERR_OUT_OF_RANGE", `order must be an integer in [0, ${Math.log2(this.pages) | 0}], got ${String(order)}`);
    }
    const n = 2 ** order;
    for (let i = 0; i < this.count; i++) {
      if (this.length[i] < n) continue;
      const pfn = this.start[i];
      this.start[i] += n;
      this.length[i] -= n;
      if (this.length[i] === 0) this.#remove(i);
      this.allocatedPages += n;
      return pfn;
    }
    return -1;
  }

  freePages(pfn, order) {
    if (!Number.isInteger(order) || order < 0 || 2 ** order > this.pages) throw failure("ERR_OUT_OF_RANGE", `order must be an integer in [0, ${Math.log2(this.pages) | 0}], got ${String(order)}`);
    const n = 2 ** order;
    if (!Number.isInteger(pfn) || pfn < 0 || pfn + n > this.pages) throw failure("ERR_OUT_OF_RANGE", `pfn ${String(pfn)} + ${n} pages is outside [0, ${this.pages})`);
    // i = the first extent starting after pfn.
    let lo = 0;
    let hi = this.count;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.start[mid] <= pfn) lo = mid + 1;
      else hi = mid;
    }
    const i = lo;
    const prevEnd = i > 0 ? this.start[i - 1] + this.length[i - 1] : 0;
    if (i > 0 && prevEnd > pfn) throw failure("ERR_DOUBLE_FREE", `pfn ${pfn} is free already`);
    if (i < this.count && pfn + n > this.start[i]) throw failure("ERR_DOUBLE_FREE", `pfns ${pfn}..${pfn + n - 1} overlap free pfn ${this.start[i]}`);
    const joinsPrev = i > 0 && prevEnd === pfn;
    const joinsNext = i < this.count && pfn + n === this.start[i];
    if (joinsPrev && joinsNext) {
      this.length[i - 1] += n + this.length[i];
      this.#remove(i);
    } else if (joinsPrev) this.length[i - 1] += n;
    else if (joinsNext) {
      this.start[i] = pfn;
      this.length[i] += n;
    } else {
      this.start.copyWithin(i + 1, i, this.count);
      this.length.copyWithin(i + 1, i, this.count);
      this.start[i] = pfn;
      this.length[i] = n;
      this.count++;
    }
    this.allocatedPages -= n;
  }

  /** Extents in order, not touching, not empty; free + allocated pages = all pages. */
  check() {
    let free = 0;
    for (let i = 0; i < this.count; i++) {
      if (!(this.length[i] > 0)) throw new Error(`first-fit: extent ${i} is empty`);
      if (i > 0 && this.start[i - 1] + this.length[i - 1] >= this.start[i]) throw new Error(`first-fit: extents ${i - 1} and ${i} overlap or touch`);
      if (this.start[i] + this.length[i] > this.pages) throw new Error(`first-fit: extent ${i} ends past the last page`);
      free += this.length[i];
    }
    if (free + this.allocatedPages !== this.pages) throw new Error(`first-fit: ${free} free + ${this.allocatedPages} allocated != ${this.pages} pages`);
  }

  /** Each extent cut into the largest aligned power-of-two blocks, as buddyinfo would count them. */
  freeBlocksPerOrder() {
    const out = new Array(11).fill(0);
    for (let i = 0; i < this.count; i++) {
      let p = this.start[i];
      const end = p + this.length[i];
      while (p < end) {
        let o = 10;
        while (o > 0 && (p % 2 ** o !== 0 || p + 2 ** o > end)) o--;
        out[o]++;
        p += 2 ** o;
      }
    }
    return out;
  }

  stats() {
    let largest = 0;
    for (let i = 0; i < this.count; i++) largest = Math.max(largest, this.length[i]);
    return { extents: this.count, largestExtentPages: largest, allocatedPages: this.allocatedPages };
  }

  #remove(i) {
    this.start.copyWithin(i, i + 1, this.count);
    this.length.copyWithin(i, i + 1, this.count);
    this.count--;
  }
}

/** The allocator, for systems of your own (`pageAllocator: firstFit`). */
export const firstFit = { name: "first-fit", create: (machine) => new FirstFitPages(machine) };

/** Systems this file adds beside the shipped ones: first-fit under classic's descriptor table and caches. */
export const systems = [
  {
    name: "first-fit",
    description: "a first-fit page allocator (examples/first-fit.mjs) + 64-byte memmap + caches + shrinker",
    pageAllocator: firstFit,
    perCpuLists: false,
    descriptors: "memmap-64",
    fragmentCache: true,
    pteCache: true,
    shrinker: true,
  },
];
