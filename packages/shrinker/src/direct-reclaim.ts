import { ErrorCode, MmkitError, describeValue, requireInteger } from "@mmkit/physmem";
import { MAX_RECLAIM_RETRIES, SWAP_CLUSTER_MAX } from "./constants.js";
import type { ShrinkerRegistry } from "./registry.js";

/**
 * The page allocator a {@link DirectReclaim} wraps: any allocator of 2^order contiguous pages
 * (a buddy allocator, POTAD's page face, a test stack). Declared here, by the consumer.
 *
 * @example
 * ```ts
 * const pages: PageAllocator = { allocPages: (order) => buddy.allocPages(order), freePages: (pfn, order) => buddy.freePages(pfn, order) };
 * ```
 */
export interface PageAllocator {
  /** First page frame number of 2^order contiguous pages, or -1 when none are free. */
  allocPages(order: number): number;
  /** Gives back the 2^order pages at `pfn`. */
  freePages(pfn: number, order: number): void;
}

/**
 * Options for {@link DirectReclaim}.
 *
 * @example
 * ```ts
 * const pages = new DirectReclaim(buddy, registry, { maxRetries: 4, minTarget: 64, nid: 0 });
 * ```
 */
export interface DirectReclaimOptions {
  /** Reclaim-and-retry rounds before an allocation fails (default 16, `MAX_RECLAIM_RETRIES`; 0 disables reclaim). */
  maxRetries?: number;
  /** Objects each round asks the shrinkers for, at least (default 32, `SWAP_CLUSTER_MAX`); a round asks for `max(minTarget, 2^order)`. */
  minTarget?: number;
  /** The node to reclaim from (default: every node). */
  nid?: number;
}

/**
 * What a {@link DirectReclaim} has done since it was made.
 *
 * @example
 * ```ts
 * const { allocations, slowPath, failed } = pages.stats();
 * ```
 */
export interface DirectReclaimStats {
  /** `allocPages` calls. */
  allocations: number;
  /** Calls the wrapped allocator satisfied at once. */
  fastPath: number;
  /** Calls that entered reclaim (the slow path). */
  slowPath: number;
  /** `registry.reclaim` calls (rounds). */
  reclaimRounds: number;
  /** Objects the shrinkers freed in those rounds. */
  reclaimed: number;
  /** Slow-path calls that got pages after reclaim. */
  succeededAfterReclaim: number;
  /** Calls that returned -1. */
  failed: number;
  /** Calls made from inside reclaim (a shrinker allocating), which do not reclaim again. */
  nested: number;
}

/**
 * A page allocator that reclaims when the one it wraps runs dry (the kernel's
 * `__alloc_pages_direct_reclaim` with its bounded retries): `allocPages(order)` tries the wrapped
 * allocator; on -1 it asks the registry to `reclaim(max(minTarget, 2^order))` and retries, at most
 * `maxRetries` rounds, giving up early after a round that freed nothing. An allocation made while
 * reclaiming (a shrinker that allocates) does not reclaim again (the kernel's `PF_MEMALLOC`).
 * It is itself a {@link PageAllocator}, so it composes.
 *
 * An order that is not an integer in 0..52, or a pfn that is not a non-negative integer, throws
 * here, before the wrapped allocator is called; any other misuse (an order above the wrapped
 * allocator's maximum, a pfn it never handed out) is the wrapped allocator's to report, and passes
 * through.
 *
 * Cost: the fast path is one call into the wrapped allocator; the slow path at most `maxRetries`
 * reclaims (each up to 13 passes) and allocation attempts.
 *
 * @example
 * ```ts
 * const pages = new DirectReclaim(buddy, registry, { maxRetries: 4 });
 * const pfn = pages.allocPages(0); // frees cached pages through the shrinkers if it must
 * ```
 */
export class DirectReclaim implements PageAllocator {
  readonly #pages: PageAllocator;
  readonly #registry: ShrinkerRegistry;
  readonly #maxRetries: number;
  readonly #minTarget: number;
  readonly #nid: number | undefined;
  #reclaiming = false;
  #stats: DirectReclaimStats = { allocations: 0, fastPath: 0, slowPath: 0, reclaimRounds: 0, reclaimed: 0, succeededAfterReclaim: 0, failed: 0, nested: 0 };

  constructor(pages: PageAllocator, registry: ShrinkerRegistry, options: DirectReclaimOptions = {}) {
    if (typeof pages !== "object" || pages === null || typeof pages.allocPages !== "function" || typeof pages.freePages !== "function") {
      throw new MmkitError(ErrorCode.InvalidArgument, `pages must have allocPages and freePages, got ${describeValue(pages)}`);
    }
    if (typeof registry !== "object" || registry === null || typeof registry.reclaim !== "function") {
      throw new MmkitError(ErrorCode.InvalidArgument, `registry must be a ShrinkerRegistry, got ${describeValue(registry)}`);
    }
    if (typeof options !== "object" || options === null) {
      throw new MmkitError(ErrorCode.InvalidArgument, `direct reclaim options must be an object, got ${describeValue(options)}`);
    }
    this.#maxRetries = requireInteger(options.maxRetries ?? MAX_RECLAIM_RETRIES, "maxRetries", 0, 1 << 20);
    this.#minTarget = requireInteger(options.minTarget ?? SWAP_CLUSTER_MAX, "minTarget", 1);
    this.#nid = options.nid === undefined ? undefined : requireInteger(options.nid, "nid", 0, registry.nodes - 1);
    this.#pages = pages;
    this.#registry = registry;
  }

  /**
   * 2^order contiguous pages, reclaiming through the registry if the wrapped allocator has none;
   * -1 when even that fails.
   *
   * Cost: one wrapped `allocPages` when it succeeds; otherwise up to `maxRetries` rounds of
   * `reclaim` + `allocPages`.
   *
   * @example
   * ```ts
   * const pfn = pages.allocPages(2);
   * if (pfn === -1) console.log("out of memory even after reclaim");
   * ```
   */
  allocPages(order: number): number {
    requireInteger(order, "order", 0, 52);
    const s = this.#stats;
    s.allocations++;
    let pfn = this.#pages.allocPages(order);
    if (pfn >= 0) {
      s.fastPath++;
      return pfn;
    }
    if (this.#reclaiming) {
      s.nested++;
      s.failed++;
      return -1;
    }
    s.slowPath++;
    this.#reclaiming = true;
    try {
      const target = Math.max(this.#minTarget, 2 ** order);
      for (let round = 0; round < this.#maxRetries; round++) {
        const r = this.#registry.reclaim(target, this.#nid);
        s.reclaimRounds++;
        s.reclaimed += r.freed;
        pfn = this.#pages.allocPages(order);
        if (pfn >= 0) {
          s.succeededAfterReclaim++;
          return pfn;
        }
        if (r.freed === 0) break;
      }
    } finally {
      this.#reclaiming = false;
    }
    s.failed++;
    return -1;
  }

  /**
   * Gives pages back to the wrapped allocator. Throws `ERR_INVALID_ARGUMENT` / `ERR_OUT_OF_RANGE`
   * for a pfn that is not a non-negative integer or an order that is not an integer in 0..52,
   * without calling it.
   *
   * Cost: two integer checks and one wrapped `freePages`.
   *
   * @example
   * ```ts
   * pages.freePages(pfn, 2);
   * ```
   */
  freePages(pfn: number, order: number): void {
    requireInteger(pfn, "pfn");
    requireInteger(order, "order", 0, 52);
    this.#pages.freePages(pfn, order);
  }

  /**
   * A copy of the counters.
   *
   * Cost: O(1).
   *
   * @example
   * ```ts
   * const { slowPath, succeededAfterReclaim, failed } = pages.stats();
   * ```
   */
  stats(): DirectReclaimStats {
    return { ...this.#stats };
  }
}
