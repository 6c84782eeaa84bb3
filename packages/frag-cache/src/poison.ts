import { POISON_BYTE } from "./constants.js";

/**
 * A use-after-free write found in poison mode: bytes of a freed fragment (or of a block's padding
 * or tail, which no fragment owned) that no longer hold {@link POISON_BYTE} when the block is
 * recycled in place or given back to the page source.
 *
 * @example
 * ```ts
 * const cache = new FragmentCache(pages, { backing, poison: true, onPoison: (r) => console.log(r) });
 * const a = cache.alloc(64);
 * cache.free(a);
 * backing.bytes(a + 3, 1)[0] = 1;   // a write after free
 * cache.drain();                    // { address: a + 3, bytes: 1, fragment: a, fragmentSize: 64, pfn, when: "return" }
 * ```
 */
export interface PoisonReport {
  /** Byte address of the first changed byte. */
  address: number;
  /** How many bytes of that fragment (or of that gap between fragments) were changed. */
  bytes: number;
  /** Address of the freed fragment the bytes belong to, or -1 for padding or the block's tail. */
  fragment: number;
  /** Size of that fragment, 0 outside fragments. */
  fragmentSize: number;
  /** First page frame number of the block. */
  pfn: number;
  /** Whether the block was being recycled in place or given back to the page source. */
  when: "recycle" | "return";
}

/**
 * Poison mode's memory of freed fragments, per block slot, until the block is recycled or given
 * back: it names the fragment a stray write landed in, and tells a double free from an address that
 * never was a fragment. Debug mode only, so plain arrays (a flat list of address, size pairs per block).
 *
 * @example
 * ```ts
 * const log = new FreedLog();
 * log.add(0, 4096, 64);
 * log.has(0, 4096);      // true
 * log.clear(0);
 * ```
 */
export class FreedLog {
  readonly #bySlot = new Map<number, number[]>();

  /** Notes that the fragment at `address` of `size` bytes in block `slot` was freed. */
  add(slot: number, address: number, size: number): void {
    let list = this.#bySlot.get(slot);
    if (list === undefined) this.#bySlot.set(slot, (list = []));
    list.push(address, size);
  }

  /** The size of the freed fragment at `address` in block `slot`, or 0. O(freed fragments of the block). */
  sizeOf(slot: number, address: number): number {
    const list = this.#bySlot.get(slot);
    if (list === undefined) return 0;
    for (let i = 0; i < list.length; i += 2) if (list[i] === address) return list[i + 1]!;
    return 0;
  }

  has(slot: number, address: number): boolean {
    return this.sizeOf(slot, address) > 0;
  }

  /** The freed fragments of block `slot` as a flat (address, size) list, ascending by address. */
  sorted(slot: number): number[] {
    const list = this.#bySlot.get(slot) ?? [];
    const pairs: [number, number][] = [];
    for (let i = 0; i < list.length; i += 2) pairs.push([list[i]!, list[i + 1]!]);
    pairs.sort((x, y) => x[0] - y[0]);
    return pairs.flat();
  }

  /** Forgets block `slot` (it was recycled or given back). */
  clear(slot: number): void {
    this.#bySlot.delete(slot);
  }
}

/**
 * Scans one block's bytes for anything but {@link POISON_BYTE}, fragment by fragment and gap by
 * gap, and reports each dirty stretch: inside a freed fragment (named by its address) or in the
 * padding and tail no fragment owned (`fragment: -1`). `freed` is the block's freed fragments as a
 * flat (address, size) list ascending by address. Returns the number of reports.
 *
 * Cost: O(block bytes) reads of the block plus O(fragments); debug mode only.
 *
 * @example
 * ```ts
 * const n = scanBlockPoison(view, base, pfn, log.sorted(slot), "return", (r) => reports.push(r));
 * ```
 */
export function scanBlockPoison(view: Uint8Array, base: number, pfn: number, freed: readonly number[], when: "recycle" | "return", report: (r: PoisonReport) => void): number {
  let found = 0;
  const scan = (from: number, to: number, fragment: number, fragmentSize: number): void => {
    let first = -1;
    let dirty = 0;
    for (let i = from - base; i < to - base; i++) {
      if (view[i] !== POISON_BYTE) {
        if (first < 0) first = i;
        dirty++;
      }
    }
    if (dirty > 0) {
      found++;
      report({ address: base + first, bytes: dirty, fragment, fragmentSize, pfn, when });
    }
  };
  let above = base;
  for (let i = 0; i < freed.length; i += 2) {
    const start = freed[i]!;
    const size = freed[i + 1]!;
    scan(above, start, -1, 0);
    scan(start, start + size, start, size);
    above = start + size;
  }
  scan(above, base + view.length, -1, 0);
  return found;
}
