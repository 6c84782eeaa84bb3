import { ErrorCode, MmkitError, describeValue } from "@mmkit/physmem";
import {
  C_HITS,
  C_LOOKUPS,
  C_MISSES,
  C_RETRIES,
  C_VIOLATIONS_FREE,
  C_VIOLATIONS_TYPE,
  C_WRONG_RANGE,
  LINE_DOUBLES,
  LINE_INTS,
  MemdescType,
  R_FIRST,
  R_PAGES,
  R_REF,
  R_TYPE,
  RECORD_INTS,
  type MemdescSlab,
} from "./memdesc-slab.js";

/** Where a lookup stands; one {@link MemdescReader.step} moves it one shared-memory access on. */
export const ReaderPhase = {
  /** No lookup under way. */
  Idle: 0,
  /** Next: publish the epoch entered in (when the slab's readers publish epochs: type-stable mode). */
  Enter: 1,
  /** Next: load the descriptor table entry of the pfn. */
  Table: 2,
  /** Next: load the slot's type (a page-cache lookup wants a folio). */
  Type: 3,
  /** Next: get-unless-zero on the slot's reference count (`Atomics.compareExchange`). */
  Get: 4,
  /** Next: load the type again now a reference is held (a violation if it is no longer a folio). */
  Verify: 5,
  /** Next: re-check that the table still points at this slot, and use the memdesc. */
  Recheck: 6,
  /** Next: drop the reference and leave the read section. */
  Drop: 7,
} as const;

/**
 * One reader of the Q8 measurement: the kernel's lockless page-cache lookup
 * (`filemap_get_entry` + `folio_try_get` + re-check) over a {@link MemdescSlab}. A lookup of a pfn:
 * enter a read section (type-stable mode: publish the global epoch in this reader's epoch word),
 * load the table entry (none: a miss), load the slot's type (not a folio: a miss), get-unless-zero
 * on its reference count (zero: the memdesc is being freed, retry), then load the type again: if
 * the slot is no longer a folio the reader has just incremented the count of a free slot or of
 * another type's memdesc, a *violation* (counted by kind, then undone, then retried); else re-check
 * that the table still points at this slot (no: it was freed and reused as another folio, retry),
 * read the range it describes (a pfn outside it is counted as a wrong range), drop the reference and
 * leave the section.
 *
 * The lookup is a state machine so a test can interleave a reader's steps with a writer's by hand;
 * {@link lookup} runs it to the end. Counters go to this reader's line of the slab's reader counters.
 * Cost: about 6 shared loads, one compareExchange and one sub per lookup without retries, plus two
 * stores (epoch in, epoch out) when the slab's readers publish epochs (type-stable mode).
 *
 * @example
 * ```ts
 * const reader = new MemdescReader(MemdescSlab.attach(handle), 0);
 * reader.lookup(1234);                    // 1 when it found a folio and took (and dropped) a reference
 * ```
 */
export class MemdescReader {
  readonly #records: Int32Array;
  readonly #table: Int32Array;
  readonly #epochs: Int32Array;
  readonly #counters: Float64Array;
  readonly #epochWord: number;
  readonly #line: number;
  readonly #publish: boolean;
  #phase: number = ReaderPhase.Idle;
  #pfn = 0;
  #slot = -1;
  #found = 0;

  constructor(slab: MemdescSlab, index: number) {
    if (!Number.isSafeInteger(index) || index < 0 || index >= slab.readers) {
      throw new MmkitError(ErrorCode.OutOfRange, `reader index must be an integer in [0, ${slab.readers - 1}], got ${describeValue(index)}`);
    }
    this.#records = slab.records;
    this.#table = slab.table;
    this.#epochs = slab.epochs;
    this.#counters = slab.readerCounters;
    this.#epochWord = LINE_INTS * (1 + index);
    this.#line = LINE_DOUBLES * index;
    this.#publish = slab.publishEpochs;
  }

  /** The phase the next {@link step} performs. */
  get phase(): number {
    return this.#phase;
  }

  /** The slot the lookup under way is working on (-1 before the table was read). */
  get slot(): number {
    return this.#slot;
  }

  /** Starts a lookup of `pfn` (one a step at a time). A pfn outside the table, or a lookup already under way, throws. O(1). */
  begin(pfn: number): void {
    if (this.#phase !== ReaderPhase.Idle) throw new MmkitError(ErrorCode.InvalidState, `reader is in phase ${this.#phase}: finish the lookup of pfn ${this.#pfn} first`);
    if (!Number.isSafeInteger(pfn) || pfn < 0 || pfn >= this.#table.length) {
      throw new MmkitError(ErrorCode.OutOfRange, `pfn must be an integer in [0, ${this.#table.length - 1}], got ${describeValue(pfn)}`);
    }
    this.#pfn = pfn;
    this.#slot = -1;
    this.#found = 0;
    this.#phase = ReaderPhase.Enter;
  }

  /**
   * Performs the next step of the lookup under way; true when the lookup has finished (its result
   * is {@link result}). O(1): one or two shared-memory accesses.
   */
  step(): boolean {
    const records = this.#records;
    const c = this.#counters;
    const line = this.#line;
    switch (this.#phase) {
      case ReaderPhase.Enter:
        if (this.#publish) Atomics.store(this.#epochs, this.#epochWord, Atomics.load(this.#epochs, 0));
        this.#phase = ReaderPhase.Table;
        return false;
      case ReaderPhase.Table: {
        const slot = Atomics.load(this.#table, this.#pfn);
        if (slot < 0) return this.#finish(false);
        this.#slot = slot;
        this.#phase = ReaderPhase.Type;
        return false;
      }
      case ReaderPhase.Type:
        if (Atomics.load(records, this.#slot * RECORD_INTS + R_TYPE) !== MemdescType.Folio) return this.#finish(false);
        this.#phase = ReaderPhase.Get;
        return false;
      case ReaderPhase.Get: {
        const ref = this.#slot * RECORD_INTS + R_REF;
        const count = Atomics.load(records, ref);
        if (count === 0) {
          // Being freed: look again (the table no longer points at it, or soon will not).
          c[line + C_RETRIES]!++;
          this.#phase = ReaderPhase.Table;
          return false;
        }
        // A failed exchange (another reader moved the count) stays in this phase and tries again.
        if (Atomics.compareExchange(records, ref, count, count + 1) === count) this.#phase = ReaderPhase.Verify;
        return false;
      }
      case ReaderPhase.Verify: {
        const base = this.#slot * RECORD_INTS;
        const type = Atomics.load(records, base + R_TYPE);
        if (type !== MemdescType.Folio) {
          c[line + (type === MemdescType.Free ? C_VIOLATIONS_FREE : C_VIOLATIONS_TYPE)]!++;
          Atomics.sub(records, base + R_REF, 1);
          c[line + C_RETRIES]!++;
          this.#phase = ReaderPhase.Table;
          return false;
        }
        this.#phase = ReaderPhase.Recheck;
        return false;
      }
      case ReaderPhase.Recheck: {
        const base = this.#slot * RECORD_INTS;
        if (Atomics.load(this.#table, this.#pfn) !== this.#slot) {
          // Freed and reused as another folio meanwhile (allowed by type stability): let go, look again.
          Atomics.sub(records, base + R_REF, 1);
          c[line + C_RETRIES]!++;
          this.#phase = ReaderPhase.Table;
          return false;
        }
        const first = Atomics.load(records, base + R_FIRST);
        if (this.#pfn < first || this.#pfn >= first + Atomics.load(records, base + R_PAGES)) c[line + C_WRONG_RANGE]!++;
        this.#found = 1;
        this.#phase = ReaderPhase.Drop;
        return false;
      }
      case ReaderPhase.Drop:
        Atomics.sub(records, this.#slot * RECORD_INTS + R_REF, 1);
        return this.#finish(true);
      default:
        throw new MmkitError(ErrorCode.InvalidState, "no lookup under way: call begin(pfn) first");
    }
  }

  /** 1 when the last finished lookup found a folio and held a reference to it, 0 when it missed. */
  get result(): number {
    return this.#found;
  }

  /** Looks `pfn` up to the end (every step); 1 on a hit, 0 on a miss. O(1) plus retries. */
  lookup(pfn: number): number {
    this.begin(pfn);
    while (!this.step());
    return this.#found;
  }

  #finish(hit: boolean): true {
    const c = this.#counters;
    c[this.#line + C_LOOKUPS]!++;
    c[this.#line + (hit ? C_HITS : C_MISSES)]!++;
    if (this.#publish) Atomics.store(this.#epochs, this.#epochWord, 0);
    this.#phase = ReaderPhase.Idle;
    return true;
  }
}
