import { ErrorCode, MmkitError } from "@mmkit/physmem";
import type { BuddyState } from "./state.js";

/**
 * One migration at a time per allocator: compaction and contiguous allocation call the page
 * owner back, and an owner that starts another run from its callback would walk lists the first
 * run holds pages off. The second run is refused with a typed error.
 */

const running = new WeakSet<BuddyState>();

/**
 * Marks `s` as migrating; throws `ERR_INVALID_STATE` naming `what` when it already is. O(1).
 *
 * @example
 * ```ts
 * enterMigration(s, "compaction");
 * try { ... } finally { leaveMigration(s); }
 * ```
 */
export function enterMigration(s: BuddyState, what: string): void {
  if (running.has(s)) throw new MmkitError(ErrorCode.InvalidState, `${what} cannot start: a migration is already running on this allocator (called from a page mover?)`);
  running.add(s);
}

/** Ends the migration {@link enterMigration} started. O(1). */
export function leaveMigration(s: BuddyState): void {
  running.delete(s);
}
