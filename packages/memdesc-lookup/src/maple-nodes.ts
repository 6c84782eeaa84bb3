import { MetadataArena, requireArrayFactory, type ArrayFactory, type MetadataArray } from "@mmkit/physmem";

/**
 * Node storage of a {@link MapleTree}: two pools of fixed-width nodes in typed arrays from an arena.
 *
 * Layout. Every node's search data is one 256-byte block of 32 Float64 elements (`lnode` for
 * leaves, `inode` for inner nodes; node `n` owns elements `n * 32 .. n * 32 + 31`), made of four
 * 64-byte groups, one cache line each: group g holds the pivots of slots 4g .. 4g + 3, then their
 * four values (leaf) or child ids (inner node). Slot i's pivot is at {@link slotAt}(i) and its
 * value or child 4 elements further ({@link SLOT_VALUE}). A lookup compares the pivots of slots 3, 7
 * and 11 (three lines, read in parallel), which names the group, then the group's first three
 * pivots, and finds the slot's value or child on the line it has just read: one dependent line
 * per level instead of two or three. Per-slot gap summaries are only read by writes and gap
 * searches, so they stay in an array of their own, `igap`: child i of inner node n has its head,
 * tail and max side by side at `3 * (n * 16 + i)` (24 bytes, one cache line for most slots), so a
 * write that patches or compares one child's summary touches one line, not three:
 *
 * | pool  | array          | type    | per slot                                   | bytes/node |
 * | ----- | -------------- | ------- | ------------------------------------------ | ---------- |
 * | leaf  | `lnode`        | f64     | last index of entry i (unused: +Infinity)  | 128        |
 * | leaf  | `lnode`        | f64     | value of entry i (NaN: empty)              | 128        |
 * | leaf  | `lcount/lborn` | u8/u32  | per node: entries, epoch it was written in | 5          |
 * | leaf  | `ldirty`       | u8      | per node: its parent's copy of its summary is stale | 1 |
 * | inner | `inode`        | f64     | last index under child i (unused: +Inf)    | 128        |
 * | inner | `inode`        | f64     | leaf or inner node id of child i           | 128        |
 * | inner | `igap` + 0     | f64     | end of the empty run at child i's start, -1| 128        |
 * | inner | `igap` + 1     | f64     | start of the empty run at child i's end, -1| 128        |
 * | inner | `igap` + 2     | f64     | longest empty run strictly inside child i  | 128        |
 * | inner | `icount/iborn` | u8/u32  | per node: children, epoch                  | 5          |
 * | inner | `idirty`       | u8      | per node: as `ldirty`                      | 1          |
 *
 * A leaf is the kernel's 16-slot range node (256 bytes of pivots and values). Inner nodes keep 16
 * children and track gaps, where the kernel's 256-byte arange node fits only 10: gap summaries in
 * arrays of their own free the width from the node size. A node's last pivot is its maximum, so a
 * descent needs no bounds from the parent and stops without a count check. Gap summaries are
 * positions, not lengths, so a node's summary depends only on its own contents, not on where its
 * neighbour ends.
 *
 * The dirty bytes serve the tree's lazy gap summaries (see `MapleTree`): one byte per node in a
 * small array stays cached where the gap lines of a large tree do not.
 *
 * Free nodes are chained through the value / child of slot 0.
 */
export const SLOTS = 16;
/** log2 of {@link SLOTS}: per-slot gap arrays hold 16 elements per node. */
export const SLOT_SHIFT = 4;
/** log2 of a node block's length in `lnode` / `inode` (32 elements: 16 pivots, 16 values or children). */
export const NODE_SHIFT = 5;
/** A slot's value (leaf) or child id (inner node) sits this many elements after its pivot. */
export const SLOT_VALUE = 4;
/** Fewest entries or children a node other than the root keeps. */
export const MIN_SLOTS = 6;

/**
 * Element of slot `i`'s pivot inside its node block: groups of four pivots and their four values.
 * `slotAt(i) = 8 * (i >> 2) + (i & 3)`.
 */
export function slotAt(i: number): number {
  return i + (i & ~3);
}

const LEAF_BYTES = SLOTS * 16 + 6;
const INNER_BYTES = SLOTS * (8 + 8 + 8 + 8 + 8) + 6;

export class MapleNodes {
  readonly arena: ArrayFactory;
  /** Leaf blocks: leaf `n` at `n << NODE_SHIFT`, slot i's pivot at `slotAt(i)`, its value 4 further. */
  lnode!: Float64Array;
  lcount!: Uint8Array;
  lborn!: Uint32Array;
  /** 1: the parent's copy of this leaf's gap summary is stale (lazy summaries). */
  ldirty!: Uint8Array;
  /** Inner node blocks: as `lnode`, with child ids in place of values. */
  inode!: Float64Array;
  /** Inner nodes' gap summaries: child i of node n at `3 * (n * 16 + i)`: head, tail, max (one line). */
  igap!: Float64Array;
  icount!: Uint8Array;
  iborn!: Uint32Array;
  /** 1: the parent's copy of this inner node's gap summary is stale, and maybe some of its children's. */
  idirty!: Uint8Array;
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
    this.arena = requireArrayFactory(arena ?? new MetadataArena());
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
    if (n >= 0) this.leafFree = this.lnode[(n << NODE_SHIFT) + SLOT_VALUE]!;
    else {
      if (this.leafUsed === this.leafCapacity) this.#growLeaves(this.leafCapacity * 2);
      n = this.leafUsed++;
    }
    this.lborn[n] = this.epoch;
    this.ldirty[n] = 0;
    this.leafLive++;
    return n;
  }

  allocInner(): number {
    let n = this.innerFree;
    if (n >= 0) this.innerFree = this.inode[(n << NODE_SHIFT) + SLOT_VALUE]!;
    else {
      if (this.innerUsed === this.innerCapacity) this.#growInners(this.innerCapacity * 2);
      n = this.innerUsed++;
    }
    this.iborn[n] = this.epoch;
    this.idirty[n] = 0;
    this.innerLive++;
    return n;
  }

  freeLeaf(n: number): void {
    this.lcount[n] = 0;
    this.lnode[(n << NODE_SHIFT) + SLOT_VALUE] = this.leafFree;
    this.leafFree = n;
    this.leafLive--;
  }

  freeInner(n: number): void {
    this.icount[n] = 0;
    this.inode[(n << NODE_SHIFT) + SLOT_VALUE] = this.innerFree;
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
    for (const a of [this.lnode, this.lcount, this.lborn, this.ldirty, this.inode, this.igap, this.icount, this.iborn, this.idirty]) {
      this.arena.release(a);
    }
    this.#bytes = 0;
    // What is left reads as an empty tree: one leaf whose only entry is the empty [0, 2^53 - 1].
    this.lnode = new Float64Array(1 << NODE_SHIFT);
    for (let i = 0; i < SLOTS; i++) {
      this.lnode[slotAt(i)] = i === 0 ? Number.MAX_SAFE_INTEGER : Infinity;
      this.lnode[slotAt(i) + SLOT_VALUE] = NaN;
    }
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
    this.lnode = this.#grow(this.lnode, a.float64(capacity << NODE_SHIFT, "maple leaves"));
    this.lcount = this.#grow(this.lcount, a.uint8(capacity, "maple leaf counts"));
    this.lborn = this.#grow(this.lborn, a.uint32(capacity, "maple leaf epochs"));
    this.ldirty = this.#grow(this.ldirty, a.uint8(capacity, "maple leaf stale marks"));
    this.leafCapacity = capacity;
  }

  #growInners(capacity: number): void {
    const a = this.arena;
    const n = capacity * SLOTS;
    this.inode = this.#grow(this.inode, a.float64(capacity << NODE_SHIFT, "maple node pivots and children"));
    this.igap = this.#grow(this.igap, a.float64(3 * n, "maple node gaps"));
    this.icount = this.#grow(this.icount, a.uint8(capacity, "maple node counts"));
    this.iborn = this.#grow(this.iborn, a.uint32(capacity, "maple node epochs"));
    this.idirty = this.#grow(this.idirty, a.uint8(capacity, "maple node stale marks"));
    this.innerCapacity = capacity;
  }
}
