import { ErrorCode, MmkitError } from "@mmkit/physmem";
import { innerSummary, leafSummary } from "./maple-gaps.js";
import { MIN_SLOTS, NODE_SHIFT, SLOTS, SLOT_SHIFT, SLOT_VALUE, slotAt, type MapleNodes } from "./maple-nodes.js";
import { MAX_INDEX } from "./limits.js";

/** What {@link checkMapleTree} needs to see of a tree. */
export interface MapleTreeState {
  nodes: MapleNodes;
  root: number;
  height: number;
  size: number;
  pinnedLeaves: number;
  pinnedInner: number;
  /** Whether the root's gap summary is stale (lazy summaries: see `MapleTree`'s `#rootStale`). */
  rootStale?: boolean;
  /** A deferred erase not yet settled: its entry, emptied in place, and the path it recorded. */
  pending?: MaplePendingErase;
}

/** A deferred erase as {@link checkMapleTree} validates it (see `MapleTree`'s `#pendLeaf`). */
export interface MaplePendingErase {
  leaf: number;
  slot: number;
  first: number;
  last: number;
  value: number;
  /** The recorded path: node, slot and min index per level, leaf at 0. */
  pathNode: Int32Array;
  pathSlot: Int32Array;
  pathMin: Float64Array;
}

function fail(message: string): never {
  throw new MmkitError(ErrorCode.Invariant, `maple tree: ${message}`);
}

/**
 * Walks the whole tree and throws `ERR_INVARIANT` on the first broken invariant (see
 * `MapleTree.check()`). Cost: O(nodes x 16).
 */
export function checkMapleTree(t: MapleTreeState): void {
  const p = t.pending;
  if (p === undefined) {
    checkSettled(t);
    return;
  }
  // A deferred erase: the entry must be emptied in place, and the tree with its value put back
  // (the tree it settles from) must be whole, with the recorded path leading to it.
  const v = p.leaf << NODE_SHIFT;
  const at = v + slotAt(p.slot) + SLOT_VALUE;
  if (p.leaf < 0 || p.leaf >= t.nodes.leafUsed || p.slot < 0 || p.slot >= t.nodes.lcount[p.leaf]!) fail(`deferred erase at leaf ${p.leaf} slot ${p.slot} is outside the tree`);
  if (t.nodes.lnode[at] === t.nodes.lnode[at]) fail(`deferred erase of [${p.first}, ${p.last}] left value ${t.nodes.lnode[at]} in place`);
  if (!Number.isFinite(p.value)) fail(`deferred erase of [${p.first}, ${p.last}] keeps value ${p.value}`);
  let n = t.root;
  let min = 0;
  for (let l = t.height; l >= 0; l--) {
    if (p.pathNode[l] !== n || p.pathMin[l] !== min) fail(`deferred erase's path holds node ${p.pathNode[l]} from ${p.pathMin[l]} at level ${l}, the tree node ${n} from ${min}`);
    if (l === 0) break;
    const s = p.pathSlot[l]!;
    if (s > 0) min = t.nodes.inode[(n << NODE_SHIFT) + slotAt(s - 1)]! + 1;
    n = t.nodes.inode[(n << NODE_SHIFT) + slotAt(s) + SLOT_VALUE]!;
  }
  if (p.pathNode[0] !== p.leaf || p.pathSlot[0] !== p.slot) fail(`deferred erase's path ends at leaf ${p.pathNode[0]} slot ${p.pathSlot[0]}, not ${p.leaf} slot ${p.slot}`);
  const first = p.slot === 0 ? p.pathMin[0]! : t.nodes.lnode[v + slotAt(p.slot - 1)]! + 1;
  if (first !== p.first || t.nodes.lnode[v + slotAt(p.slot)] !== p.last) fail(`deferred erase of [${p.first}, ${p.last}] sits on entry [${first}, ${t.nodes.lnode[v + slotAt(p.slot)]}]`);
  t.nodes.lnode[at] = p.value;
  try {
    checkSettled({ ...t, size: t.size + 1 });
  } finally {
    t.nodes.lnode[at] = NaN;
  }
}

function checkSettled(t: MapleTreeState): void {
  const { nodes, height } = t;
  const sum = new Float64Array(3);
  let ranges = 0;
  let leaves = 0;
  let inners = 0;
  let prevEmpty = false;
  const seenLeaf = new Set<number>();
  const seenInner = new Set<number>();

  // Returns whether node n has a dirty child (its copy of that child's gap summary is stale).
  const visit = (n: number, level: number, min: number, max: number): boolean => {
    const leaf = level === 0;
    const isRoot = level === height;
    if (leaf) {
      if (n < 0 || n >= nodes.leafUsed) fail(`leaf id ${n} out of range`);
      if (seenLeaf.has(n)) fail(`leaf ${n} reachable twice`);
      seenLeaf.add(n);
      leaves++;
    } else {
      if (n < 0 || n >= nodes.innerUsed) fail(`inner node id ${n} out of range`);
      if (seenInner.has(n)) fail(`inner node ${n} reachable twice`);
      seenInner.add(n);
      inners++;
    }
    const c = leaf ? nodes.lcount[n]! : nodes.icount[n]!;
    const where = `${leaf ? "leaf" : "node"} ${n} [${min}, ${max}] at level ${level}`;
    if (c < 1 || c > SLOTS) fail(`${where} holds ${c} slots`);
    if (!isRoot && c < MIN_SLOTS) fail(`${where} holds ${c} slots, fewer than ${MIN_SLOTS}`);
    if (isRoot && !leaf && c < 2) fail(`inner root ${n} has ${c} child`);
    const born = leaf ? nodes.lborn[n]! : nodes.iborn[n]!;
    if (born < 1 || born > nodes.epoch) fail(`${where} born in epoch ${born}, now ${nodes.epoch}`);
    const node = leaf ? nodes.lnode : nodes.inode;
    const nb = n << NODE_SHIFT;
    const b = n << SLOT_SHIFT;
    let prev = min - 1;
    for (let i = 0; i < c; i++) {
      const p = node[nb + slotAt(i)]!;
      if (!Number.isInteger(p) || p <= prev || p > max) fail(`${where}: pivot ${i} = ${p} after ${prev}`);
      prev = p;
    }
    if (prev !== max) fail(`${where}: last pivot ${prev} is not the node's max`);
    for (let i = c; i < SLOTS; i++) if (node[nb + slotAt(i)] !== Infinity) fail(`${where}: unused pivot ${i} = ${node[nb + slotAt(i)]}`);
    if (leaf) {
      for (let i = 0; i < c; i++) {
        const v = node[nb + slotAt(i) + SLOT_VALUE]!;
        if (v !== v) {
          if (prevEmpty) fail(`${where}: empty entry ${i} follows another empty run`);
          prevEmpty = true;
        } else {
          if (!Number.isFinite(v)) fail(`${where}: value ${i} = ${v}`);
          prevEmpty = false;
          ranges++;
        }
      }
      return false;
    }
    let stale = false;
    for (let i = 0; i < c; i++) {
      const cmin = i === 0 ? min : node[nb + slotAt(i - 1)]! + 1;
      const child = node[nb + slotAt(i) + SLOT_VALUE]!;
      if (!Number.isInteger(child)) fail(`${where}: child ${i} = ${child}`);
      visit(child, level - 1, cmin, node[nb + slotAt(i)]!);
      if ((level - 1 === 0 ? nodes.ldirty : nodes.idirty)[child] === 1) {
        // Lazy summaries: a dirty child's copy is recomputed before any gap search reads it.
        stale = true;
        continue;
      }
      if (level - 1 === 0) leafSummary(nodes, child, sum);
      else innerSummary(nodes, child, sum);
      if (nodes.igap[3 * (b + i)] !== sum[0] || nodes.igap[3 * (b + i) + 1] !== sum[1] || nodes.igap[3 * (b + i) + 2] !== sum[2]) {
        fail(`${where}: gap summary of child ${i} is (${nodes.igap[3 * (b + i)]}, ${nodes.igap[3 * (b + i) + 1]}, ${nodes.igap[3 * (b + i) + 2]}), should be (${sum[0]}, ${sum[1]}, ${sum[2]})`);
      }
    }
    if (stale && !isRoot && (nodes.idirty[n] !== 1)) fail(`${where} has dirty children but is clean itself`);
    return stale;
  };
  if (visit(t.root, height, 0, MAX_INDEX) && t.rootStale !== true) fail("the root holds stale gap summaries but the tree does not know");
  if (ranges !== t.size) fail(`holds ${ranges} ranges, size says ${t.size}`);
  if (leaves + t.pinnedLeaves !== nodes.leafLive) fail(`${leaves} reachable + ${t.pinnedLeaves} pinned leaves, ${nodes.leafLive} live`);
  if (inners + t.pinnedInner !== nodes.innerLive) fail(`${inners} reachable + ${t.pinnedInner} pinned inner nodes, ${nodes.innerLive} live`);
  let free = 0;
  for (let f = nodes.leafFree; f >= 0; f = nodes.lnode[(f << NODE_SHIFT) + SLOT_VALUE]!) {
    if (seenLeaf.has(f)) fail(`leaf ${f} is both in the tree and free`);
    if (++free > nodes.leafUsed) fail("leaf free list loops");
  }
  if (free + nodes.leafLive !== nodes.leafUsed) fail(`${free} free + ${nodes.leafLive} live leaves != ${nodes.leafUsed} used`);
  free = 0;
  for (let f = nodes.innerFree; f >= 0; f = nodes.inode[(f << NODE_SHIFT) + SLOT_VALUE]!) {
    if (seenInner.has(f)) fail(`inner node ${f} is both in the tree and free`);
    if (++free > nodes.innerUsed) fail("inner free list loops");
  }
  if (free + nodes.innerLive !== nodes.innerUsed) fail(`${free} free + ${nodes.innerLive} live inner nodes != ${nodes.innerUsed} used`);
}
