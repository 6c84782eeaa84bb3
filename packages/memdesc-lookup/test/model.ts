import type { MapleEntry } from "@mmkit/memdesc-lookup";

const MAX = Number.MAX_SAFE_INTEGER;

/** The reference: a sorted array of ranges, every operation done the obvious way. */
export class RangeModel {
  ranges: MapleEntry[] = [];

  store(first: number, last: number, value: number): void {
    const out: MapleEntry[] = [];
    for (const r of this.ranges) {
      if (r.last < first || r.first > last) out.push(r);
      else {
        if (r.first < first) out.push({ first: r.first, last: first - 1, value: r.value });
        if (r.last > last) out.push({ first: last + 1, last: r.last, value: r.value });
      }
    }
    out.push({ first, last, value });
    out.sort((a, b) => a.first - b.first);
    this.ranges = out;
  }
  eraseRange(first: number, last: number): void {
    this.store(first, last, NaN);
    this.ranges = this.ranges.filter((r) => r.value === r.value);
  }
  loadRange(index: number): MapleEntry | undefined {
    return this.ranges.find((r) => r.first <= index && index <= r.last);
  }
  load(index: number): number | undefined {
    return this.loadRange(index)?.value;
  }
  insert(first: number, last: number, value: number): boolean {
    if (this.ranges.some((r) => r.last >= first && r.first <= last)) return false;
    this.store(first, last, value);
    return true;
  }
  erase(index: number): number | undefined {
    const r = this.loadRange(index);
    if (r === undefined) return undefined;
    this.ranges = this.ranges.filter((x) => x !== r);
    return r.value;
  }
  find(index: number, max: number): MapleEntry | undefined {
    if (index > max) return undefined;
    return this.ranges.find((r) => r.last >= index && r.first <= max);
  }
  findPrev(index: number, min: number): MapleEntry | undefined {
    if (index < min) return undefined;
    return [...this.ranges].reverse().find((r) => r.first <= index && r.last >= min);
  }
  /** Free runs inside [min, max], clipped. */
  gaps(min: number, max: number): Array<[number, number]> {
    const out: Array<[number, number]> = [];
    let at = min;
    for (const r of this.ranges) {
      if (r.last < min) continue;
      if (r.first > max) break;
      if (r.first > at) out.push([at, r.first - 1]);
      at = r.last + 1;
    }
    if (at <= max) out.push([at, max]);
    return out;
  }
  emptyArea(min: number, max: number, size: number): number {
    for (const [a, b] of this.gaps(min, max)) if (b - a + 1 >= size) return a;
    return -1;
  }
  emptyAreaRev(min: number, max: number, size: number): number {
    const g = this.gaps(min, max).reverse();
    for (const [a, b] of g) if (b - a + 1 >= size) return b - size + 1;
    return -1;
  }
}
export { MAX };
