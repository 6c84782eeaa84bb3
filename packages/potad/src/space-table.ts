import { type ArrayFactory, ErrorCode, MmkitError, describeValue } from "@mmkit/physmem";
import { FRONT_ORDERS, HEADER_STRIDE, H_BASE, H_FRONT, H_HEADS, H_SHAPE, H_SIZE, MAX_ORDERS, SHAPE_FRONT } from "./layout.js";

const INITIAL_SPACES = 4;

/**
 * The space headers (layout in `layout.ts`): one 576-byte header per space in one arena array,
 * ids reused lowest-first after a space is removed. Grows (doubling) only when a space is added.
 *
 * Cost: `header` is O(1) and touches the header's first line; `containing` and `overlapping` scan
 * the headers, O(spaces) (spaces are few; no hot path uses them).
 *
 * @example
 * ```ts
 * const spaces = new SpaceTable(new MetadataArena());
 * const id = spaces.add(0, 1 << 20, 12, 8, 0);
 * spaces.header(id);   // id * 72, the header's offset in `spaces.headers`
 * ```
 */
export class SpaceTable {
  /** The headers, 72 doubles each; replaced when the table grows. */
  headers: Float64Array;
  #arena: ArrayFactory;
  #capacity = 0;

  constructor(arena: ArrayFactory) {
    this.#arena = arena;
    this.headers = arena.float64(0, "potad spaces");
  }

  /** Header slots (live or not). */
  get capacity(): number {
    return this.#capacity;
  }

  /** Ids of the live spaces, ascending. */
  ids(): number[] {
    const out: number[] = [];
    for (let id = 0; id < this.#capacity; id++) if (this.headers[id * HEADER_STRIDE + H_SHAPE]! >= 0) out.push(id);
    return out;
  }

  /** Offset of live space `space`'s header; throws `ERR_INVALID_ARGUMENT` naming it otherwise. */
  header(space: number): number {
    if (typeof space === "number" && (space >>> 0) === space && space < this.#capacity) {
      const h = space * HEADER_STRIDE;
      if (this.headers[h + H_SHAPE]! >= 0) return h;
    }
    throw new MmkitError(ErrorCode.InvalidArgument, `space ${describeValue(space)} does not exist`);
  }

  /** Id of the live space containing `address`, or -1. */
  containing(address: number): number {
    const hdr = this.headers;
    for (let id = 0; id < this.#capacity; id++) {
      const h = id * HEADER_STRIDE;
      if (hdr[h + H_SHAPE]! >= 0 && address >= hdr[h + H_BASE]! && address < hdr[h + H_BASE]! + hdr[h + H_SIZE]!) return id;
    }
    return -1;
  }

  /** Id of a live space overlapping `[base, base + size)`, or -1. */
  overlapping(base: number, size: number): number {
    const hdr = this.headers;
    for (let id = 0; id < this.#capacity; id++) {
      const h = id * HEADER_STRIDE;
      if (hdr[h + H_SHAPE]! >= 0 && base < hdr[h + H_BASE]! + hdr[h + H_SIZE]! && hdr[h + H_BASE]! < base + size) return id;
    }
    return -1;
  }

  /** Makes room for one more space (may grow); call before mutating anything. */
  reserve(): void {
    for (let id = 0; id < this.#capacity; id++) if (this.headers[id * HEADER_STRIDE + H_SHAPE]! < 0) return;
    const capacity = Math.max(INITIAL_SPACES, this.#capacity * 2);
    const next = this.#arena.float64(capacity * HEADER_STRIDE, "potad spaces");
    next.set(this.headers);
    for (let id = this.#capacity; id < capacity; id++) next[id * HEADER_STRIDE + H_SHAPE] = -1;
    this.#arena.release(this.headers);
    this.headers = next;
    this.#capacity = capacity;
  }

  /** Claims the lowest free id for a space (after {@link reserve}) with empty free lists and fronts. */
  add(base: number, size: number, granuleLog2: number, maxOrder: number, frontOrder: number): number {
    const hdr = this.headers;
    let id = 0;
    while (hdr[id * HEADER_STRIDE + H_SHAPE]! >= 0) id++;
    const h = id * HEADER_STRIDE;
    hdr.fill(0, h, h + HEADER_STRIDE);
    hdr.fill(-1, h + H_HEADS, h + H_HEADS + MAX_ORDERS);
    hdr.fill(-1, h + H_FRONT, h + H_FRONT + FRONT_ORDERS);
    hdr[h + H_SHAPE] = frontOrder * SHAPE_FRONT + granuleLog2 * 64 + maxOrder;
    hdr[h + H_BASE] = base;
    hdr[h + H_SIZE] = size;
    return id;
  }

  /** Marks a space's header free. */
  /** Sets the size of `space` (which grew at its end) and the largest order it can hold. */
  resize(space: number, size: number, maxOrder: number): void {
    const h = space * HEADER_STRIDE;
    const shape = this.headers[h + H_SHAPE]!;
    this.headers[h + H_SHAPE] = shape - (shape & 63) + maxOrder;
    this.headers[h + H_SIZE] = size;
  }

  remove(space: number): void {
    const h = space * HEADER_STRIDE;
    this.headers.fill(0, h, h + HEADER_STRIDE);
    this.headers[h + H_SHAPE] = -1;
  }
}
