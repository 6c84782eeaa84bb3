import type { SlabMemory } from "./interfaces.js";

/** 2^-32, exact: a multiply by it takes a pointer's bits above 32 down (no division per write). */
const TWO_TO_MINUS_32 = 1 / 4294967296;

/**
 * Reads and writes the bytes the slab allocator keeps inside objects: the free pointer (an
 * 8-byte little-endian word holding the next free object's address + 1, so 0 ends the list and a
 * zero-filled page reads as an empty list), poison and red-zone patterns. A memory that offers
 * `whole()` is read and written through one view of everything (a byte's place in it is
 * `offsetOf(address)`, or `address - base`), so no access makes a view; any other memory goes
 * through `bytes(address, length)`, so any byte source fits.
 *
 * A caller that knows where a byte is in that view (a slab keeps its first byte's place, see
 * {@link ObjectMemory.viewOffset}) reads and writes free pointers by that place
 * ({@link ObjectMemory.readPointerAt}), with no address translation per access.
 *
 * Cost: with `whole()`, one `whole()` call and one offset per access (`offsetOf` for a packed
 * memory; none with the `...At` methods), no allocation; otherwise one view of the touched bytes per call.
 *
 * @example
 * ```ts
 * const om = new ObjectMemory(machine);
 * om.writePointer(4096, 8192);
 * om.readPointer(4096); // 8192
 * if (om.direct) om.readPointerAt(om.viewOffset(4096)); // 8192, by the byte's place in whole()
 * ```
 */
export class ObjectMemory {
  /** The bytes read and written. */
  readonly memory: SlabMemory;
  /** True when the memory offers `whole()`: then {@link viewOffset} and the `...At` methods work. */
  readonly direct: boolean;
  readonly #fast: boolean;
  readonly #base: number;
  readonly #mapped: boolean;
  #whole: Uint8Array | null = null;
  #view: DataView | null = null;

  constructor(memory: SlabMemory) {
    this.memory = memory;
    this.#fast = typeof memory.whole === "function";
    this.direct = this.#fast;
    this.#base = typeof memory.base === "number" ? memory.base : 0;
    this.#mapped = this.#fast && typeof memory.offsetOf === "function";
  }

  /** The whole view when the memory offers one (re-read each call: it changes after a grow), else null. */
  #wholeView(): Uint8Array | null {
    if (!this.#fast) return null;
    const whole = this.memory.whole!();
    if (whole !== this.#whole) {
      this.#whole = whole;
      this.#view = new DataView(whole.buffer, whole.byteOffset, whole.byteLength);
    }
    return whole;
  }

  /** Where the byte at `address` is in the whole view. */
  #offset(address: number): number {
    return this.#mapped ? this.memory.offsetOf!(address) : address - this.#base;
  }

  /**
   * Where the byte at `address` is in `whole()`'s view (what the `...At` methods take), or -1 for a
   * memory without one. A packed memory keeps a slab's bytes in place while the slab lives, so a
   * slab translates its first byte once and finds each object's bytes at an offset from it.
   */
  viewOffset(address: number): number {
    return this.#fast ? this.#offset(address) : -1;
  }

  /** The free pointer stored at place `offset` of the whole view ({@link direct} memories only). */
  readPointerAt(offset: number): number {
    this.#wholeView();
    const dv = this.#view!;
    return dv.getUint32(offset + 4, true) * 4294967296 + dv.getUint32(offset, true) - 1;
  }

  /** Stores `next` (an address, or -1) as the free pointer at place `offset` of the whole view ({@link direct} memories only). */
  writePointerAt(offset: number, next: number): void {
    this.#wholeView();
    const v = next + 1;
    const dv = this.#view!;
    dv.setUint32(offset, v >>> 0, true);
    dv.setUint32(offset + 4, Math.floor(v * TWO_TO_MINUS_32), true);
  }

  /** The free pointer stored at `address`: an address, or -1 for the end of the list. */
  readPointer(address: number): number {
    if (this.#wholeView() !== null) {
      const dv = this.#view!;
      const offset = this.#offset(address);
      return dv.getUint32(offset + 4, true) * 4294967296 + dv.getUint32(offset, true) - 1;
    }
    const b = this.memory.bytes(address, 8);
    const lo = (b[0]! | (b[1]! << 8) | (b[2]! << 16) | (b[3]! << 24)) >>> 0;
    const hi = (b[4]! | (b[5]! << 8) | (b[6]! << 16) | (b[7]! << 24)) >>> 0;
    return hi * 4294967296 + lo - 1;
  }

  /** Stores `next` (an address, or -1) as the free pointer at `address`. */
  writePointer(address: number, next: number): void {
    const v = next + 1;
    const lo = v >>> 0;
    const hi = Math.floor(v * TWO_TO_MINUS_32);
    if (this.#wholeView() !== null) {
      const dv = this.#view!;
      const offset = this.#offset(address);
      dv.setUint32(offset, lo, true);
      dv.setUint32(offset + 4, hi, true);
      return;
    }
    const b = this.memory.bytes(address, 8);
    b[0] = lo;
    b[1] = lo >>> 8;
    b[2] = lo >>> 16;
    b[3] = lo >>> 24;
    b[4] = hi;
    b[5] = hi >>> 8;
    b[6] = hi >>> 16;
    b[7] = hi >>> 24;
  }

  /** Fills `length` bytes at `address` with `value`. */
  fill(address: number, length: number, value: number): void {
    if (length <= 0) return;
    const whole = this.#wholeView();
    if (whole !== null) {
      const offset = this.#offset(address);
      whole.fill(value, offset, offset + length);
      return;
    }
    this.memory.bytes(address, length).fill(value);
  }

  /** Offset of the first of `length` bytes at `address` that is not `value`, or -1. */
  mismatch(address: number, length: number, value: number): number {
    if (length <= 0) return -1;
    const whole = this.#wholeView();
    if (whole !== null) {
      const offset = this.#offset(address);
      for (let i = 0; i < length; i++) if (whole[offset + i] !== value) return i;
      return -1;
    }
    const b = this.memory.bytes(address, length);
    for (let i = 0; i < length; i++) if (b[i] !== value) return i;
    return -1;
  }

  /** The byte at `address`. */
  byte(address: number): number {
    const whole = this.#wholeView();
    if (whole !== null) return whole[this.#offset(address)]!;
    return this.memory.bytes(address, 1)[0]!;
  }
}
