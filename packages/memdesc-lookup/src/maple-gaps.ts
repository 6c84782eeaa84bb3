import { NODE_SHIFT, SLOT_SHIFT, SLOT_VALUE, slotAt, type MapleNodes } from "./maple-nodes.js";

/**
 * Gap tracking for the maple tree. A node's summary is three positions that depend only on what
 * the node holds (not on where its left neighbour ends, which the node does not store):
 *
 * - `head`: last index of the empty run that starts at the node's first index, or -1 when the first
 *   index is occupied; `head === node max` means the whole node is empty;
 * - `tail`: first index of the empty run that ends at the node's last index, or -1 (also -1 when the
 *   whole node is empty);
 * - `max`: length of the longest empty run that touches neither end.
 *
 * A parent keeps each child's summary in its slot (like the kernel's arange gaps), so a gap search
 * reads one node per level and combines runs that cross node boundaries.
 */

/** Summary of leaf `n` into `out[0..2]` (head, tail, max). Cost: one pass over its entries. */
export function leafSummary(nodes: MapleNodes, n: number, out: Float64Array): void {
  const node = nodes.lnode;
  const b = n << NODE_SHIFT;
  const c = nodes.lcount[n]!;
  let run = -2; // -2: open since the node's first index; -1: closed; >= 0: open since that index
  let head = -1;
  let max = 0;
  for (let i = 0; i < c; i++) {
    const v = node[b + slotAt(i) + SLOT_VALUE]!;
    if (v !== v) {
      if (run === -1) run = node[b + slotAt(i - 1)]! + 1;
      continue;
    }
    if (run === -2) head = i === 0 ? -1 : node[b + slotAt(i - 1)]!;
    else if (run >= 0) {
      const len = node[b + slotAt(i - 1)]! - run + 1;
      if (len > max) max = len;
    }
    run = -1;
  }
  if (run === -2) {
    out[0] = node[b + slotAt(c - 1)]!;
    out[1] = -1;
  } else {
    out[0] = head;
    out[1] = run;
  }
  out[2] = max;
}

/** Summary of inner node `n` from its children's summaries into `out`. Cost: one pass over its slots. */
export function innerSummary(nodes: MapleNodes, n: number, out: Float64Array): void {
  const node = nodes.inode;
  const nb = n << NODE_SHIFT;
  const igap = nodes.igap;
  const b = n << SLOT_SHIFT;
  const c = nodes.icount[n]!;
  let run = -2;
  let head = -1;
  let max = 0;
  for (let i = 0; i < c; i++) {
    const last = node[nb + slotAt(i)]!;
    const h = igap[3 * (b + i)]!;
    if (h === last) {
      if (run === -1) run = node[nb + slotAt(i - 1)]! + 1;
      continue;
    }
    if (h >= 0 && run === -1) run = node[nb + slotAt(i - 1)]! + 1;
    const end = h >= 0 ? h : i === 0 ? -1 : node[nb + slotAt(i - 1)]!;
    if (run === -2) head = end;
    else if (run >= 0) {
      const len = end - run + 1;
      if (len > max) max = len;
    }
    const m = igap[3 * (b + i) + 2]!;
    if (m > max) max = m;
    run = igap[3 * (b + i) + 1]!;
  }
  if (run === -2) {
    out[0] = node[nb + slotAt(c - 1)]!;
    out[1] = -1;
  } else {
    out[0] = head;
    out[1] = run;
  }
  out[2] = max;
}

/**
 * Lowest `s` in `[lo, hi - size + 1]` with `[s, s + size - 1]` empty, or -1. The caller validated
 * the window. Cost: O(height x 16) node slots read, plus the subtrees that hold a long enough gap.
 */
export function gapForward(nodes: MapleNodes, root: number, height: number, lo: number, hi: number, size: number): number {
  const state = { run: -1 };
  return forward(nodes, root, height, 0, Number.MAX_SAFE_INTEGER, lo, hi, size, state);
}

function forward(nodes: MapleNodes, n: number, level: number, nmin: number, nmax: number, lo: number, hi: number, size: number, st: { run: number }): number {
  const b = n << SLOT_SHIFT;
  if (level === 0) {
    const node = nodes.lnode;
    const lb = n << NODE_SHIFT;
    const c = nodes.lcount[n]!;
    for (let i = 0; i < c; i++) {
      const last = node[lb + slotAt(i)]!;
      if (last < lo) continue;
      const first = i === 0 ? nmin : node[lb + slotAt(i - 1)]! + 1;
      if (first > hi) return -1;
      const v = node[lb + slotAt(i) + SLOT_VALUE]!;
      if (v === v) {
        st.run = -1;
        continue;
      }
      if (st.run < 0) st.run = first > lo ? first : lo;
      const end = last < hi ? last : hi;
      if (end - st.run + 1 >= size) return st.run;
    }
    return -1;
  }
  const node = nodes.inode;
  const nb = n << NODE_SHIFT;
  const c = nodes.icount[n]!;
  for (let i = 0; i < c; i++) {
    const last = node[nb + slotAt(i)]!;
    if (last < lo) continue;
    const first = i === 0 ? nmin : node[nb + slotAt(i - 1)]! + 1;
    if (first > hi) return -1;
    const m = nodes.igap[3 * (b + i) + 2]!;
    if (first >= lo && last <= hi && m < size) {
      // Whole child inside the window with no interior gap long enough: its ends decide.
      const h = nodes.igap[3 * (b + i)]!;
      if (h === last) {
        if (st.run < 0) st.run = first;
        if (last - st.run + 1 >= size) return st.run;
        continue;
      }
      if (h >= 0) {
        if (st.run < 0) st.run = first;
        if (h - st.run + 1 >= size) return st.run;
      }
      const t = nodes.igap[3 * (b + i) + 1]!;
      st.run = t;
      if (t >= 0 && last - t + 1 >= size) return t;
      continue;
    }
    const found = forward(nodes, node[nb + slotAt(i) + SLOT_VALUE]!, level - 1, first, last, lo, hi, size, st);
    if (found >= 0) return found;
  }
  return -1;
}

/**
 * Highest `s` with `[s, s + size - 1]` empty inside `[lo, hi]`, or -1: the end of the highest gap
 * that fits, minus `size - 1` (as the kernel's reverse gap search). Cost as {@link gapForward}.
 */
export function gapReverse(nodes: MapleNodes, root: number, height: number, lo: number, hi: number, size: number): number {
  const state = { run: -1 };
  return reverse(nodes, root, height, 0, Number.MAX_SAFE_INTEGER, lo, hi, size, state);
}

function reverse(nodes: MapleNodes, n: number, level: number, nmin: number, nmax: number, lo: number, hi: number, size: number, st: { run: number }): number {
  // st.run: -1 closed, else the highest index of the open run (a run grows downwards).
  const b = n << SLOT_SHIFT;
  if (level === 0) {
    const node = nodes.lnode;
    const lb = n << NODE_SHIFT;
    const c = nodes.lcount[n]!;
    for (let i = c - 1; i >= 0; i--) {
      const first = i === 0 ? nmin : node[lb + slotAt(i - 1)]! + 1;
      if (first > hi) continue;
      const last = node[lb + slotAt(i)]!;
      if (last < lo) return -1;
      const v = node[lb + slotAt(i) + SLOT_VALUE]!;
      if (v === v) {
        st.run = -1;
        continue;
      }
      if (st.run < 0) st.run = last < hi ? last : hi;
      const start = first > lo ? first : lo;
      if (st.run - start + 1 >= size) return st.run - size + 1;
    }
    return -1;
  }
  const node = nodes.inode;
  const nb = n << NODE_SHIFT;
  const c = nodes.icount[n]!;
  for (let i = c - 1; i >= 0; i--) {
    const first = i === 0 ? nmin : node[nb + slotAt(i - 1)]! + 1;
    if (first > hi) continue;
    const last = node[nb + slotAt(i)]!;
    if (last < lo) return -1;
    const m = nodes.igap[3 * (b + i) + 2]!;
    if (first >= lo && last <= hi && m < size) {
      const h = nodes.igap[3 * (b + i)]!;
      if (h === last) {
        if (st.run < 0) st.run = last;
        if (st.run - first + 1 >= size) return st.run - size + 1;
        continue;
      }
      const t = nodes.igap[3 * (b + i) + 1]!;
      if (t >= 0) {
        if (st.run < 0) st.run = last;
        if (st.run - t + 1 >= size) return st.run - size + 1;
      }
      // The run (if any) continues only through the child's head, which ends before its last index.
      st.run = h >= 0 ? h : -1;
      if (h >= 0 && h - first + 1 >= size) return h - size + 1;
      continue;
    }
    const found = reverse(nodes, node[nb + slotAt(i) + SLOT_VALUE]!, level - 1, first, last, lo, hi, size, st);
    if (found >= 0) return found;
  }
  return -1;
}
