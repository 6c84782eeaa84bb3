import type { MapleNodes } from "./maple-nodes.js";
import { MapleView, releasedError, type MapleCursor, type MapleEntry } from "./maple-view.js";

/**
 * A read-only view of a {@link MapleTree} as it was when {@link MapleTree.snapshot} was called,
 * like a reader inside an RCU read-side critical section. Writers copy every node they change while
 * a snapshot can see it, so the view never changes; the nodes it pins are reused only after
 * {@link release}. Every method of a released snapshot throws `ERR_INVALID_STATE`.
 *
 * Cost: reads cost what the tree's reads cost; holding a snapshot makes each write copy the nodes
 * on its path (height + 1 nodes, about 256-400 bytes each) until it is released.
 *
 * @example
 * ```ts
 * tree.store(0, 9, 1);
 * const snap = tree.snapshot();
 * tree.store(0, 9, 2);
 * snap.load(5); // 1
 * tree.load(5); // 2
 * snap.release();
 * ```
 */
export class MapleSnapshot extends MapleView {
  /** Epoch the snapshot was taken in. */
  readonly epoch: number;
  #released = false;
  readonly #onRelease: (snapshot: MapleSnapshot) => void;
  readonly #size: number;

  /** @internal */
  constructor(nodes: MapleNodes, root: number, height: number, size: number, epoch: number, onRelease: (snapshot: MapleSnapshot) => void) {
    super(nodes);
    this.root = root;
    this.levels = height;
    this.#size = size;
    this.epoch = epoch;
    this.#onRelease = onRelease;
  }

  /** True once released. */
  get released(): boolean {
    return this.#released;
  }
  /** Ranges the tree held when the snapshot was taken. */
  get size(): number {
    this.#live();
    return this.#size;
  }

  /** Unpins the snapshot's nodes. Releasing twice throws `ERR_INVALID_STATE`. */
  release(): void {
    this.#live();
    this.#released = true;
    this.#onRelease(this);
  }

  override load(index: number): number | undefined {
    this.#live();
    return super.load(index);
  }
  override loadMany(indices: ArrayLike<number>, out: Float64Array, count?: number): Float64Array {
    this.#live();
    return super.loadMany(indices, out, count);
  }
  override loadRange(index: number, out?: MapleEntry): MapleEntry | undefined {
    this.#live();
    return super.loadRange(index, out);
  }
  override find(index: number, max?: number): MapleEntry | undefined {
    this.#live();
    return super.find(index, max);
  }
  override findPrev(index: number, min?: number): MapleEntry | undefined {
    this.#live();
    return super.findPrev(index, min);
  }
  override emptyArea(min: number, max: number, size: number): number {
    this.#live();
    return super.emptyArea(min, max, size);
  }
  override emptyAreaRev(min: number, max: number, size: number): number {
    this.#live();
    return super.emptyAreaRev(min, max, size);
  }
  override cursor(min?: number, max?: number): MapleCursor {
    this.#live();
    return super.cursor(min, max);
  }

  #live(): void {
    if (this.#released) throw releasedError();
  }
}
