import { NODE_SHIFT, SLOTS, SLOT_SHIFT, SLOT_VALUE, slotAt, type MapleNodes } from "./maple-nodes.js";

/**
 * Moves of whole slots inside and between maple nodes, for the write paths that split, share and
 * merge nodes in place (no rebuild through a content buffer). Every function is a loop over at
 * most {@link SLOTS} slots of the typed arrays, allocates nothing and checks nothing: the caller
 * knows the counts are legal.
 */

/**
 * Copies `count` entries (pivot and value) from slot `fromSlot` of leaf `from` to slot `toSlot`
 * of leaf `to`; `from` and `to` may be the same leaf, with overlapping ranges (copied in the safe
 * direction). Counts are the caller's to update. Cost: `count` pairs of element copies.
 *
 * @example
 * ```ts
 * copyLeafSlots(nodes.lnode, left, 10, right, 0, 3); // left's slots 10..12 become right's 0..2
 * ```
 */
export function copyLeafSlots(lnode: Float64Array, from: number, fromSlot: number, to: number, toSlot: number, count: number): void {
  const fb = from << NODE_SHIFT;
  const tb = to << NODE_SHIFT;
  if (from === to && toSlot > fromSlot) {
    for (let x = count - 1; x >= 0; x--) {
      const a = fb + slotAt(fromSlot + x);
      const b = tb + slotAt(toSlot + x);
      lnode[b] = lnode[a]!;
      lnode[b + SLOT_VALUE] = lnode[a + SLOT_VALUE]!;
    }
    return;
  }
  for (let x = 0; x < count; x++) {
    const a = fb + slotAt(fromSlot + x);
    const b = tb + slotAt(toSlot + x);
    lnode[b] = lnode[a]!;
    lnode[b + SLOT_VALUE] = lnode[a + SLOT_VALUE]!;
  }
}

/**
 * Marks slots `from .. to - 1` of leaf `n` unused (pivot +Infinity, value empty), as the lookup
 * needs past a node's last entry. Cost: `to - from` pairs of element writes.
 *
 * @example
 * ```ts
 * clearLeafSlots(nodes.lnode, n, 9, 16); // n now ends at slot 8
 * ```
 */
export function clearLeafSlots(lnode: Float64Array, n: number, from: number, to: number): void {
  const b = n << NODE_SHIFT;
  for (let x = from; x < to; x++) {
    lnode[b + slotAt(x)] = Infinity;
    lnode[b + slotAt(x) + SLOT_VALUE] = NaN;
  }
}

/**
 * Copies inner slot `from` of node `n` (pivot, child and gap summary copy) to slot `to`.
 * Cost: five element copies.
 *
 * @example
 * ```ts
 * moveInnerSlot(nodes, parent, 3, 4);
 * ```
 */
export function moveInnerSlot(nodes: MapleNodes, n: number, from: number, to: number): void {
  const inode = nodes.inode;
  const igap = nodes.igap;
  const nb = n << NODE_SHIFT;
  const gb = n << SLOT_SHIFT;
  inode[nb + slotAt(to)] = inode[nb + slotAt(from)]!;
  inode[nb + slotAt(to) + SLOT_VALUE] = inode[nb + slotAt(from) + SLOT_VALUE]!;
  igap[3 * (gb + to)] = igap[3 * (gb + from)]!;
  igap[3 * (gb + to) + 1] = igap[3 * (gb + from) + 1]!;
  igap[3 * (gb + to) + 2] = igap[3 * (gb + from) + 2]!;
}

/**
 * Opens slot `at` of inner node `n` (which holds fewer than {@link SLOTS} children) by moving
 * slots `at ..` up one, and counts it; the caller fills it. Cost: one slot move per later child.
 *
 * @example
 * ```ts
 * openInnerSlot(nodes, parent, s + 1); // then write the new child's pivot, id and summary there
 * ```
 */
export function openInnerSlot(nodes: MapleNodes, n: number, at: number): void {
  const c = nodes.icount[n]!;
  for (let x = c - 1; x >= at; x--) moveInnerSlot(nodes, n, x, x + 1);
  nodes.icount[n] = c + 1;
}

/**
 * Removes slot `at` of inner node `n` by moving the later slots down one, marks the freed last
 * slot unused and counts it. Cost: one slot move per later child.
 *
 * @example
 * ```ts
 * closeInnerSlot(nodes, parent, s + 1); // the child there was merged into its left neighbour
 * ```
 */
export function closeInnerSlot(nodes: MapleNodes, n: number, at: number): void {
  const c = nodes.icount[n]!;
  for (let x = at + 1; x < c; x++) moveInnerSlot(nodes, n, x, x - 1);
  const nb = n << NODE_SHIFT;
  const g = 3 * ((n << SLOT_SHIFT) + c - 1);
  nodes.inode[nb + slotAt(c - 1)] = Infinity;
  nodes.inode[nb + slotAt(c - 1) + SLOT_VALUE] = 0;
  nodes.igap[g] = 0;
  nodes.igap[g + 1] = 0;
  nodes.igap[g + 2] = 0;
  nodes.icount[n] = c - 1;
}
