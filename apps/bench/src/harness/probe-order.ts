import { ProbingArena } from "@mmkit/physmem";

/** ProbingArenas made in this process so far (through {@link probingArena}). */
let made = 0;

/**
 * A `ProbingArena` for counting cache lines, counted so that the harness can refuse to time after
 * one: a probe runs the library's code over the arena's Proxy arrays, and from then on V8's feedback
 * for that code stays generic for the rest of the process (the maple tree's churn read 382 ns before
 * a probe and 2,089 ns after one). Suites make their probing arenas here, never with `new`. O(1).
 *
 * @example
 * ```ts
 * const arena = probingArena();
 * const lines = arena.measure(() => allocator.allocPages(0)).lines;
 * ```
 */
export function probingArena(): ProbingArena {
  made++;
  return new ProbingArena();
}

/**
 * How many probing arenas this process has made; a suite context takes it when it starts and its
 * `time()` throws once it has changed. O(1).
 *
 * @example
 * ```ts
 * const before = probingArenasMade();
 * probingArena();
 * probingArenasMade() - before; // 1
 * ```
 */
export function probingArenasMade(): number {
  return made;
}
