import { MetadataArena, type ArrayFactory, type MetadataArray } from "@mmkit/physmem";

/**
 * Node storage of a {@link MapleTree}: two pools of fixed-width nodes in typed arrays from an arena.
 *
 * Layout (node `n` of a pool owns elements `n * 16 .. n * 16 + 15` of each per-slot array):
 *
 * | pool  | array          | type    | per slot                                   | bytes/node |
 * | ----- | -------------- | ------- | ------------------------------------------ | ---------- |
 * | leaf  | `lpiv`         | f64     | last index of entry i (unused: +Infinity)  | 128        |
 * | leaf  | `lval`         | f64     | value of entry i (NaN: empty)              | 128        |
 * | leaf  | `lcount/lborn` | u8/u32  | per node: entries, epoch it was written in | 5          |
 * | inner | `ipiv`         | f64     | last index under child i (unused: +Inf)    | 128        |
 * | inner | `ichild`       | i32     | leaf or inner node id of child i           | 64         |
 * | inner | `ihead`        | f64     | end of the empty run at child i's start, -1| 128        |
 * | inner | `itail`        | f64     | start of the empty run at child i's end, -1| 128        |
 * | inner | `imax`         | f64     | longest empty run strictly inside child i  | 128        |
 * | inner | `icount/iborn` | u8/u32  | per node: children, epoch                  | 5          |
 *
 * A leaf is the kernel's 16-slot range node (256 bytes of pivots and values). Inner nodes keep 16
 * children and track gaps, where the kernel's 256-byte arange node fits only 10: separate arrays per
 * field free the width from the node size. A node's last pivot is its maximum, so a descent needs no
 * bounds from the parent and stops without a count check. Gap summaries are positions, not lengths,
 * so a node's summary depends only on its own contents, not on where its neighbour ends.
 *
 * Free nodes are chained through slot 0 of `lval` / `ichild`.
 */
export const SLOTS = 16;
/** log2 of {@link SLOTS}. */
export const SLOT_SHIFT = 4;
/** Fewest entries or children a node other than the root keeps. */
export const MIN_SLOTS = 8;

const LEAF_BYTES = SLOTS * 16 + 5;
const INNER_BYTES = SLOTS * (8 + 4 + 8 + 8 + 8) + 5;

export class MapleNodes {
  readonly arena: ArrayFactory;
  lpiv!: Float64Array;
  lval!: Float64Array;
  lcount!: Uint8Array;
  lborn!: Uint32Array;
  ipiv!: Float64Array;
  ichild!: Int32Array;
  ihead!: Float64Array;
  itail!: Float64Array;
  imax!: Float64Array;
  icount!: Uint8Array;
  iborn!: Uint32Array;
  leafCapacity = 0;
  innerCapacity = 0;
  leafUsed = 0;
  innerUsed = 0;
  leafLive = 0;
  innerLive = 0;
  leafFree = -1;
  innerFree = -1;
  /** Epoch new nodes are born in; nodes born after the newest live snapshot are written in place. */
  epoch = 1;
  #bytes = 0;

  constructor(arena: ArrayFactory | undefined, leaves: number, inners: number) {
    this.arena = arena ?? new MetadataArena();
    this.#growLeaves(Math.max(1, leaves));
    this.#growInners(Math.max(1, inners));
  }

  /** Bytes of the node arrays (capacity, not just live nodes). */
  get bytes(): number {
    return this.#bytes;
  }
  /** Bytes of live nodes. */
  get liveBytes(): number {
    return this.leafLive * LEAF_BYTES + this.innerLive * INNER_BYTES;
  }

  allocLeaf(): number {
    let n = this.leafFree;
    if (n >= 0) this.leafFree = this.lval[n << SLOT_SHIFT]!;
    else {
      if (this.leafUsed === this.leafCapacity) this.#growLeaves(this.leafCapacity * 2);
      n = this.leafUsed++;
    }
    this.lborn[n] = this.epoch;
    this.leafLive++;
    return n;
  }

  allocInner(): number {
    let n = this.innerFree;
    if (n >= 0) this.innerFree = this.ichild[n << SLOT_SHIFT]!;
    else {
      if (this.innerUsed === this.innerCapacity) this.#growInners(this.innerCapacity * 2);
      n = this.innerUsed++;
    }
    this.iborn[n] = this.epoch;
    this.innerLive++;
    return n;
  }

  freeLeaf(n: number): void {
    this.lcount[n] = 0;
    this.lval[n << SLOT_SHIFT] = this.leafFree;
    this.leafFree = n;
    this.leafLive--;
  }

  freeInner(n: number): void {
    this.icount[n] = 0;
    this.ichild[n << SLOT_SHIFT] = this.innerFree;
    this.innerFree = n;
    this.innerLive--;
  }

  /** Makes room for at least `leaves` and `inners` nodes in total (bulk loading sizes exactly). */
  reserve(leaves: number, inners: number): void {
    if (leaves > this.leafCapacity) this.#growLeaves(leaves);
    if (inners > this.innerCapacity) this.#growInners(inners);
  }

  /** Gives every array back to the arena. The store is unusable afterwards. */
  dispose(): void {
    for (const a of [this.lpiv, this.lval, this.lcount, this.lborn, this.ipiv, this.ichild, this.ihead, this.itail, this.imax, this.icount, this.iborn]) {
      this.arena.release(a);
    }
    this.#bytes = 0;
    // What is left reads as an empty tree: one leaf whose only entry is the empty [0, 2^53 - 1].
    this.lpiv = new Float64Array(SLOTS).fill(Infinity);
    this.lpiv[0] = Number.MAX_SAFE_INTEGER;
    this.lval = new Float64Array(SLOTS).fill(NaN);
    this.lcount = Uint8Array.of(1);
    this.leafCapacity = this.innerCapacity = 0;
  }

  #grow<T extends MetadataArray>(old: T | undefined, fresh: T): T {
    if (old !== undefined) {
      fresh.set(old as never);
      this.#bytes -= old.byteLength;
      this.arena.release(old);
    }
    this.#bytes += fresh.byteLength;
    return fresh;
  }

  #growLeaves(capacity: number): void {
    const a = this.arena;
    const n = capacity * SLOTS;
    this.lpiv = this.#grow(this.lpiv, a.float64(n, "maple leaf pivots"));
    this.lval = this.#grow(this.lval, a.float64(n, "maple leaf values"));
    this.lcount = this.#grow(this.lcount, a.uint8(capacity, "maple leaf counts"));
    this.lborn = this.#grow(this.lborn, a.uint32(capacity, "maple leaf epochs"));
    this.leafCapacity = capacity;
  }

  #growInners(capacity: number): void {
    const a = this.arena;
    const n = capacity * SLOTS;
    this.ipiv = this.#grow(this.ipiv, a.float64(n, "maple node pivots"));
    this.ichild = this.#grow(this.ichild, a.int32(n, "maple node children"));
    this.ihead = this.#grow(this.ihead, a.float64(n, "maple node gaps"));
    this.itail = this.#grow(this.itail, a.float64(n, "maple node gaps"));
    this.imax = this.#grow(this.imax, a.float64(n, "maple node gaps"));
    this.icount = this.#grow(this.icount, a.uint8(capacity, "maple node counts"));
    this.iborn = this.#grow(this.iborn, a.uint32(capacity, "maple node epochs"));
    this.innerCapacity = capacity;
  }
}
