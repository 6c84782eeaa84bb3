import { ErrorCode, MmkitError } from "./errors.js";
import { LOCK_INTS, L_ACQUIRED, L_CONTENDED, L_OWNER, L_STATE, L_WAITS, add, bump, canBlock, holderOf, lockStats, requireLockWord, resetLockStats, takeFromDead, tryTake, type LockStats, type SharedLock } from "./lock-word.js";

/** Polls of the word before a contended taker goes to sleep (a holder's section is usually short). */
const SPIN_BEFORE_SLEEP = 64;

/**
 * A futex-style mutex on a shared lock word (layout in `lock-word.ts`), the three-state design of
 * Drepper's "Futexes Are Tricky": 0 free, 1 held, 2 held with possible sleepers. `lock()` takes a
 * free lock with one compare-exchange; a contended taker polls briefly, then marks the word 2 and
 * sleeps in `Atomics.wait` until `unlock()` (which only calls `Atomics.notify` when the word says
 * someone may sleep) wakes one. Where blocking is not allowed (a browser's main thread) `lock()`
 * spins instead, and {@link lockAsync} waits with `Atomics.waitAsync`. Counts acquisitions,
 * contended acquisitions and sleeps.
 *
 * Cost: uncontended `lock()` + `unlock()` is one compare-exchange and one atomic subtract on the
 * lock's line; a contended one adds a sleep and a wake (a system call each in Node).
 *
 * @example
 * ```ts
 * const zone = new FutexMutex(arena.int32(LOCK_INTS, "zone lock"), workerId + 1);
 * zone.lock();
 * try { refill(); } finally { zone.unlock(); }
 * ```
 */
export class FutexMutex implements SharedLock {
  readonly owner: number;
  /** False on a thread where `Atomics.wait` throws: `lock()` spins there. */
  readonly blocking: boolean;
  readonly #w: Int32Array;

  /** `word`: {@link LOCK_INTS} int32s over a `SharedArrayBuffer`, zero to start; `owner`: this worker's id, >= 1. */
  constructor(word: Int32Array, owner = 1) {
    requireLockWord(word, owner, true);
    this.#w = word;
    this.owner = owner;
    this.blocking = canBlock();
  }

  lock(): void {
    const w = this.#w;
    if (Atomics.compareExchange(w, L_STATE, 0, 1) !== 0) this.#contended();
    w[L_OWNER] = this.owner;
    bump(w, L_ACQUIRED);
  }

  #contended(): void {
    const w = this.#w;
    let c = 1;
    for (let i = 0; i < SPIN_BEFORE_SLEEP && c !== 0; i++) {
      if (Atomics.load(w, L_STATE) === 0) c = Atomics.compareExchange(w, L_STATE, 0, 1);
    }
    let sleeps = 0;
    if (c !== 0) {
      // From here on the word says 2, so whoever unlocks knows to wake someone.
      c = Atomics.exchange(w, L_STATE, 2);
      while (c !== 0) {
        if (this.blocking) Atomics.wait(w, L_STATE, 2);
        sleeps++;
        c = Atomics.exchange(w, L_STATE, 2);
      }
    }
    bump(w, L_CONTENDED);
    add(w, L_WAITS, sleeps);
  }

  /**
   * Takes the lock without blocking the thread: for a browser's main thread. Resolves once held.
   *
   * @example
   * ```ts
   * await zone.lockAsync();
   * try { refill(); } finally { zone.unlock(); }
   * ```
   */
  async lockAsync(): Promise<void> {
    const w = this.#w;
    let c = Atomics.compareExchange(w, L_STATE, 0, 1);
    let sleeps = 0;
    if (c !== 0) {
      c = Atomics.exchange(w, L_STATE, 2);
      while (c !== 0) {
        const waitAsync = (Atomics as unknown as { waitAsync?: (a: Int32Array, i: number, v: number) => { async: boolean; value: Promise<string> | string } }).waitAsync;
        if (typeof waitAsync === "function") {
          const r = waitAsync(w, L_STATE, 2);
          if (r.async) await r.value;
        } else {
          await new Promise((resolve) => setTimeout(resolve, 0));
        }
        sleeps++;
        c = Atomics.exchange(w, L_STATE, 2);
      }
      bump(w, L_CONTENDED);
    }
    w[L_OWNER] = this.owner;
    bump(w, L_ACQUIRED);
    add(w, L_WAITS, sleeps);
  }

  tryLock(): boolean {
    return tryTake(this.#w, this.owner);
  }

  unlock(): void {
    const w = this.#w;
    if (Atomics.load(w, L_STATE) === 0) throw new MmkitError(ErrorCode.InvalidState, "unlock of a mutex that is not held");
    w[L_OWNER] = 0;
    if (Atomics.sub(w, L_STATE, 1) !== 1) {
      Atomics.store(w, L_STATE, 0);
      Atomics.notify(w, L_STATE, 1);
    }
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
    if (!takeFromDead(this.#w, deadOwner)) return false;
    Atomics.notify(this.#w, L_STATE);
    return true;
  }
}
