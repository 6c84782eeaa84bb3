import { ErrorCode, MmkitError, describeValue } from "./errors.js";

/**
 * The lock word both {@link SpinLock} and {@link FutexMutex} live in: sixteen int32s (one 64-byte
 * line, so a lock never shares its line with data another worker writes), in shared memory.
 *
 * | int | what |
 * | --- | --- |
 * | 0 | state: 0 free, 1 held, 2 held with sleepers (mutex only) |
 * | 1 | owner: the holder's id (non-zero), 0 when free |
 * | 2, 3 | acquisitions (low, high 32 bits) |
 * | 4, 5 | contended acquisitions: the first attempt found the lock held (low, high) |
 * | 6, 7 | sleeps: `Atomics.wait`/`waitAsync` calls (low, high); spins for a spinlock |
 *
 * The counters are written only by the holder, inside the lock, so they need no atomics.
 */
export const LOCK_INTS = 16;
export const L_STATE = 0;
export const L_OWNER = 1;
export const L_ACQUIRED = 2;
export const L_CONTENDED = 4;
export const L_WAITS = 6;

/**
 * Counters of one lock, summed over every worker that took it.
 *
 * @example
 * ```ts
 * const lock = new SpinLock(new Int32Array(new SharedArrayBuffer(64)));
 * lock.lock();
 * lock.unlock();
 * lock.stats();   // { acquisitions: 1, contended: 0, waits: 0 }
 * ```
 */
export interface LockStats {
  /** Times the lock was taken. */
  acquisitions: number;
  /** Times the first attempt found it held (the taker had to spin or sleep). */
  contended: number;
  /** Sleeps (`Atomics.wait` or `waitAsync`) of a mutex; backoff rounds of a spinlock. */
  waits: number;
}

/**
 * What a shared lock offers; {@link SpinLock} and {@link FutexMutex} both have it.
 *
 * @example
 * ```ts
 * function withLock<T>(lock: SharedLock, fn: () => T): T {
 *   lock.lock();
 *   try { return fn(); } finally { lock.unlock(); }
 * }
 * ```
 */
export interface SharedLock {
  /** This worker's owner id (what {@link holder} reports while this worker holds it). */
  readonly owner: number;
  /** Takes the lock, waiting (spinning or sleeping) while another owner holds it. */
  lock(): void;
  /** Takes the lock if it is free; never waits. */
  tryLock(): boolean;
  /** Releases the lock this owner holds (a mutex also wakes one sleeping waiter). */
  unlock(): void;
  /** Owner id of the holder, 0 when free. */
  holder(): number;
  /** The lock's counters. */
  stats(): LockStats;
  /** Zeroes the counters (call while no worker uses the lock). */
  resetStats(): void;
  /**
   * Frees a lock left held by `deadOwner` (a worker that died inside it); true if it was so held.
   * The lock is recoverable this way; the data it guards may be half-updated (see the README).
   */
  breakLock(deadOwner: number): boolean;
}

/** Adds one to the 64-bit counter at `at` (low word) and `at + 1` (high word). Holder only. */
export function bump(word: Int32Array, at: number): void {
  const low = (word[at]! + 1) | 0;
  word[at] = low;
  if (low === 0) word[at + 1] = word[at + 1]! + 1;
}

/** Adds `n` (>= 0) to the 64-bit counter at `at`. Holder only. */
export function add(word: Int32Array, at: number, n: number): void {
  const total = word[at + 1]! * 2 ** 32 + (word[at]! >>> 0) + n;
  word[at] = total % 2 ** 32 | 0;
  word[at + 1] = Math.floor(total / 2 ** 32);
}

/** The uncontended take both locks share: one compare-exchange, then the owner and the count. */
export function tryTake(word: Int32Array, owner: number): boolean {
  if (Atomics.compareExchange(word, L_STATE, 0, 1) !== 0) return false;
  word[L_OWNER] = owner;
  bump(word, L_ACQUIRED);
  return true;
}

/** The worker id holding the lock, or 0 when it is free. */
export function holderOf(word: Int32Array): number {
  return Atomics.load(word, L_STATE) === 0 ? 0 : word[L_OWNER]!;
}

/** Zeroes the counters (acquisitions, contended, waits), leaving the state and owner alone. */
export function resetLockStats(word: Int32Array): void {
  for (let i = L_ACQUIRED; i < LOCK_INTS; i++) word[i] = 0;
}

/**
 * The first half of `breakLock`: if `deadOwner` holds the lock, clears the owner and the state and
 * returns true (the caller wakes sleepers, if it has any); otherwise changes nothing.
 */
export function takeFromDead(word: Int32Array, deadOwner: number): boolean {
  if (Atomics.load(word, L_STATE) === 0 || word[L_OWNER] !== deadOwner) return false;
  word[L_OWNER] = 0;
  Atomics.store(word, L_STATE, 0);
  return true;
}

/** Reads the 64-bit counter at `at`. */
export function readCounter(word: Int32Array, at: number): number {
  return word[at + 1]! * 2 ** 32 + (word[at]! >>> 0);
}

/** Throws unless `word` is an Int32Array of at least {@link LOCK_INTS} ints; `owner` a positive int32. */
export function requireLockWord(word: unknown, owner: unknown, shared: boolean): void {
  if (!(word instanceof Int32Array) || word.length < LOCK_INTS) {
    throw new MmkitError(ErrorCode.InvalidArgument, `a lock word must be an Int32Array of at least ${LOCK_INTS} ints, got ${describeValue(word)}`);
  }
  if (shared && !(word.buffer instanceof SharedArrayBuffer)) {
    throw new MmkitError(ErrorCode.InvalidArgument, "a mutex word must be over a SharedArrayBuffer (Atomics.wait needs one)");
  }
  if (typeof owner !== "number" || !Number.isInteger(owner) || owner < 1 || owner > 2 ** 31 - 1) {
    throw new MmkitError(ErrorCode.InvalidArgument, `owner must be an integer in [1, 2^31 - 1], got ${describeValue(owner)}`);
  }
}

let blockingAllowed: boolean | undefined;

/**
 * True when this thread may block in `Atomics.wait` (Node's main thread and workers, browser
 * workers); false on a browser's main thread, where it throws. Probed once, on a private buffer.
 *
 * @example
 * ```ts
 * if (!canBlock()) await mutex.lockAsync();
 * ```
 */
export function canBlock(): boolean {
  if (blockingAllowed === undefined) {
    try {
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 1, 0);
      blockingAllowed = true;
    } catch {
      blockingAllowed = false;
    }
  }
  return blockingAllowed;
}

/** Shared read side of both locks. */
export function lockStats(word: Int32Array): LockStats {
  return { acquisitions: readCounter(word, L_ACQUIRED), contended: readCounter(word, L_CONTENDED), waits: readCounter(word, L_WAITS) };
}
