import { ErrorCode, MmkitError } from "./errors.js";
import { LOCK_INTS, L_ACQUIRED, L_CONTENDED, L_OWNER, L_STATE, L_WAITS, add, bump, holderOf, lockStats, requireLockWord, resetLockStats, takeFromDead, tryTake, type LockStats, type SharedLock } from "./lock-word.js";

/** Longest backoff, in polls of the lock word, between two attempts. */
const MAX_BACKOFF = 1024;

/**
 * A test-and-test-and-set spinlock on a shared lock word (see `lock-word.ts` for its layout):
 * `Atomics.compareExchange` to take it; when it is held, poll the word with exponential backoff
 * (1, 2, 4 ... 1024 reads between attempts) so waiters do not hammer the line the holder must
 * write to release. It never sleeps, so it works on a browser's main thread, but a waiter burns
 * its core while the holder runs: use it for short sections with no more workers than cores;
 * {@link FutexMutex} otherwise. Counts acquisitions, contended acquisitions and backoff rounds.
 *
 * Cost: uncontended `lock()` + `unlock()` is one compare-exchange and one store (plus two
 * counter stores), all on the lock's own 64-byte line.
 *
 * @example
 * ```ts
 * const lock = new SpinLock(arena.int32(LOCK_INTS, "zone lock"), 1);
 * lock.lock();
 * try { update(); } finally { lock.unlock(); }
 * ```
 */
export class SpinLock implements SharedLock {
  readonly owner: number;
  readonly #w: Int32Array;

  /** `word`: {@link LOCK_INTS} int32s, zero to start (shared to be shared); `owner`: this worker's id, >= 1. */
  constructor(word: Int32Array, owner = 1) {
    requireLockWord(word, owner, false);
    this.#w = word;
    this.owner = owner;
  }

  lock(): void {
    const w = this.#w;
    if (Atomics.compareExchange(w, L_STATE, 0, 1) !== 0) this.#contended();
    w[L_OWNER] = this.owner;
    bump(w, L_ACQUIRED);
  }

  #contended(): void {
    const w = this.#w;
    let backoff = 1;
    let rounds = 0;
    for (;;) {
      // Test before test-and-set: polling with loads keeps the line shared until it is released.
      while (Atomics.load(w, L_STATE) !== 0) {
        for (let i = 0; i < backoff && Atomics.load(w, L_STATE) !== 0; i++);
        if (backoff < MAX_BACKOFF) backoff <<= 1;
        rounds++;
      }
      if (Atomics.compareExchange(w, L_STATE, 0, 1) === 0) break;
    }
    bump(w, L_CONTENDED);
    add(w, L_WAITS, rounds);
  }

  tryLock(): boolean {
    return tryTake(this.#w, this.owner);
  }

  unlock(): void {
    const w = this.#w;
    if (Atomics.load(w, L_STATE) === 0) throw new MmkitError(ErrorCode.InvalidState, "unlock of a spinlock that is not held");
    w[L_OWNER] = 0;
    Atomics.store(w, L_STATE, 0);
  }

  holder(): number {
    return holderOf(this.#w);
  }

  stats(): LockStats {
    return lockStats(this.#w);
  }

  resetStats(): void {
    resetLockStats(this.#w);
  }

  breakLock(deadOwner: number): boolean {
    return takeFromDead(this.#w, deadOwner);
  }
}
