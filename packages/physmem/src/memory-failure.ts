import { ErrorCode, MmkitError, describeValue } from "./errors.js";
import { requireMemoryMap, type MemoryMap } from "./memory-map.js";

/**
 * What subscribers hear when a page fails.
 *
 * @example
 * ```ts
 * const failures = new MemoryFailure(map);   // map: node 1 starts at pfn 10240
 * failures.subscribe((e) => console.log(e.pfn, e.address, e.node, e.source));
 * failures.poison(10240, "test");           // prints 10240 41943040 1 test
 * ```
 */
export interface MemoryFailureEvent {
  /** Page frame number of the failed page. */
  readonly pfn: number;
  /** Byte address of the page. */
  readonly address: number;
  /** NUMA node of the failed page. */
  readonly node: number;
  /** Free-form origin of the report ("mce", "test", "madvise"...). */
  readonly source: string;
}

/** A subscriber to memory-failure events. */
export type MemoryFailureHandler = (event: MemoryFailureEvent) => void;

/**
 * Hardware memory failure (`memory_failure()` in the kernel): pages marked as poisoned, and
 * subscribers told, so a system can route each event to the owner of the page through its
 * descriptor lookup. Poisoned pages are kept in a set: cost is per failed page, not per page.
 *
 * A handler that throws does not stop the others from hearing the event; the errors are
 * collected and rethrown together after every handler ran, and the page stays poisoned.
 *
 * @example
 * ```ts
 * const failures = new MemoryFailure(MemoryMap.uniform(1 << 30));
 * const off = failures.subscribe((e) => console.log(`pfn ${e.pfn} failed`));
 * failures.poison(42);       // true: newly poisoned, subscribers told
 * failures.poison(42);       // false: already poisoned (like the kernel's "already hardware poisoned")
 * off();
 * ```
 */
export class MemoryFailure {
  /** The memory map whose pages can be poisoned. */
  readonly map: MemoryMap;
  #poisoned = new Set<number>();
  #handlers: MemoryFailureHandler[] = [];

  constructor(map: MemoryMap) {
    this.map = requireMemoryMap(map);
  }

  /** Pages poisoned now (the kernel's num_poisoned_pages). */
  get count(): number {
    return this.#poisoned.size;
  }

  /** Registers `handler`; returns a function that unregisters it. */
  subscribe(handler: MemoryFailureHandler): () => void {
    if (typeof handler !== "function") throw new MmkitError(ErrorCode.InvalidArgument, `memory-failure handler must be a function, got ${describeValue(handler)}`);
    this.#handlers = [...this.#handlers, handler];
    return () => {
      this.#handlers = this.#handlers.filter((h) => h !== handler);
    };
  }

  /**
   * Marks `pfn` as failed and notifies every subscriber. Returns false (and notifies no one) when
   * it was poisoned already. Throws `ERR_NOT_RAM` for a pfn that is not RAM, and
   * `ERR_INVALID_ARGUMENT` for a `source` that is not a string, marking nothing.
   */
  poison(pfn: number, source = "mce"): boolean {
    const range = this.map.requireRam(pfn);
    if (typeof source !== "string") throw new MmkitError(ErrorCode.InvalidArgument, `memory-failure source must be a string, got ${describeValue(source)}`);
    if (this.#poisoned.has(pfn)) return false;
    this.#poisoned.add(pfn);
    const event: MemoryFailureEvent = Object.freeze({ pfn, address: pfn * this.map.pageSize, node: this.map.ranges[range]!.node, source });
    const errors: unknown[] = [];
    for (const handler of this.#handlers) {
      try {
        handler(event);
      } catch (error) {
        errors.push(error);
      }
    }
    if (errors.length > 0) {
      throw new MmkitError(ErrorCode.InvalidState, `${errors.length} memory-failure handler(s) threw for pfn ${pfn}`, { cause: errors.length === 1 ? errors[0] : errors });
    }
    return true;
  }

  /** True when `pfn` is poisoned. */
  isPoisoned(pfn: number): boolean {
    return this.#poisoned.has(pfn);
  }

  /** Clears the mark (the kernel's unpoison-pfn debug knob). Returns false if it was not poisoned. */
  unpoison(pfn: number): boolean {
    this.map.requireRam(pfn);
    return this.#poisoned.delete(pfn);
  }

  /** Poisoned pfns in ascending order. */
  poisonedPfns(): number[] {
    return [...this.#poisoned].sort((a, b) => a - b);
  }
}
