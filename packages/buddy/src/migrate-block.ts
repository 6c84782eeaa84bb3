import { ErrorCode, MmkitError, describeValue } from "@mmkit/physmem";
import { PAGE_SHIFT } from "./layout.js";
import type { PageMover } from "./page-mover.js";
import type { BuddyState } from "./state.js";

/**
 * One block's move through its owner (`migrate_folio` behind `migrate_pages`), shared by compaction
 * and contiguous allocation: the owner is asked to move it, then checked (it must not have changed
 * the allocator meanwhile, and must hold the target and not the source once it says it moved).
 */

function moverFailure(what: string, cause: unknown): MmkitError {
  return new MmkitError(ErrorCode.InvalidState, `the page mover threw in ${what}: ${cause instanceof Error ? cause.message : describeValue(cause)}`, { cause });
}

/**
 * Calls a mover predicate; a throw or a non-boolean answer is the owner's bug, an
 * `ERR_INVALID_STATE` error. O(1) plus the owner's cost.
 *
 * @example
 * ```ts
 * askMover(() => mover.isMovable(pfn, 0), "isMovable");   // true or false, or throws typed
 * ```
 */
export function askMover(fn: () => unknown, what: string): boolean {
  let answer: unknown;
  try {
    answer = fn();
  } catch (cause) {
    throw moverFailure(what, cause);
  }
  if (typeof answer !== "boolean") throw new MmkitError(ErrorCode.InvalidState, `the page mover's ${what} must return a boolean, got ${describeValue(answer)}`);
  return answer;
}

/**
 * Asks `mover` to move the allocated block at page index `src` (flags word `srcFlags`) to the
 * reserved block at `dst` (flags word `dstFlags`), both of `order`. Returns true when moved (the
 * caller then gives `dst` the source's flags and frees `src`), false when refused. Throws
 * `ERR_INVALID_STATE` when the mover throws, answers a non-boolean, changed either block's flags
 * (freed or reused one of them), or lied (said it moved but still holds the source or does not hold
 * the target); the caller then treats the block as not moved. O(1) plus the owner's cost.
 *
 * @example
 * ```ts
 * if (moveBlock(s, mover, src, dst, 0, s.mem[src << PAGE_SHIFT]!, s.mem[dst << PAGE_SHIFT]!)) { ... }
 * ```
 */
export function moveBlock(s: BuddyState, mover: PageMover, src: number, dst: number, order: number, srcFlags: number, dstFlags: number): boolean {
  const from = src + s.base;
  const to = dst + s.base;
  const moved = askMover(() => mover.migrate(from, to, order), "migrate");
  if (s.mem[src << PAGE_SHIFT] !== srcFlags || s.mem[dst << PAGE_SHIFT] !== dstFlags) {
    throw new MmkitError(ErrorCode.InvalidState, `the page mover changed the allocator while moving pfn ${from} to pfn ${to} (it freed or reused one of them); the move is not counted`);
  }
  if (!moved) return false;
  const holdsTo = askMover(() => mover.holds(to), "holds");
  const holdsFrom = askMover(() => mover.holds(from), "holds");
  if (!holdsTo || holdsFrom) {
    throw new MmkitError(
      ErrorCode.InvalidState,
      `the page mover said it moved pfn ${from} to pfn ${to} (order ${order}) but ${holdsFrom ? `still holds pfn ${from}` : `does not hold pfn ${to}`}; pfn ${from} stays allocated`,
    );
  }
  return true;
}
