import { ErrorCode, MetadataArena, requireArrayFactory, MmkitError, describeValue, requireInteger, type ArrayFactory } from "@mmkit/physmem";
import { DEF_PRIORITY, DEFAULT_MAX_SCAN_CALLS, DEFAULT_SEEKS, MAX_NODES, SHRINK_BATCH, SHRINK_EMPTY, SHRINK_STOP, ShrinkerErrorCode } from "./constants.js";
import { nextDeferred, scanDelta } from "./scan-arithmetic.js";
import type { ShrinkControl, Shrinker } from "./shrinker.js";
import type { ReclaimResult, ShrinkerNodeStats, ShrinkerStats } from "./stats.js";
import type { ShrinkerWarning, ShrinkerWarningKind } from "./warnings.js";

/**
 * Options for {@link ShrinkerRegistry}.
 *
 * @example
 * ```ts
 * const registry = new ShrinkerRegistry({ nodes: 2, warningLimit: 16, onWarning: (w) => console.warn(w.message) });
 * ```
 */
export interface ShrinkerRegistryOptions {
  /** NUMA nodes, numbered 0 .. nodes - 1 (default 1, at most 1024). Any other nid is an error. */
  nodes?: number;
  /** Where the per-shrinker, per-node counters live (default a new `MetadataArena`). */
  arena?: ArrayFactory;
  /** Warnings kept for {@link ShrinkerRegistry.warnings} (the newest; default 64). */
  warningLimit?: number;
  /** Called with every warning as it is recorded (after it is stored). Must not throw. */
  onWarning?: (warning: ShrinkerWarning) => void;
  /**
   * Most `scan` calls one pass makes to one shrinker, over all nodes (default
   * {@link DEFAULT_MAX_SCAN_CALLS} = 65536, 8 M objects at the default batch; an integer in
   * [1, 2^53 - 1]). What a stopped shrinker had left is deferred, as the kernel defers work not
   * done; the stop is a `scan-limit` warning. It bounds what a shrinker whose `count` lies costs a
   * pass; an honest one reaches it only when its pass would scan more than `maxScanCalls * batch`
   * objects.
   */
  maxScanCalls?: number;
}

/**
 * What {@link ShrinkerRegistry.shrink} takes.
 *
 * @example
 * ```ts
 * registry.shrink({ nid: 0, priority: DEF_PRIORITY });   // objects freed on node 0, gently
 * ```
 */
export interface ShrinkRequest {
  /** The node under pressure. */
  nid: number;
  /** 12 (`DEF_PRIORITY`, scan 1/4096 of each cache) down to 0 (scan everything). */
  priority: number;
}

/** A registered shrinker and the settings read when it was registered. */
interface Entry {
  readonly shrinker: Shrinker;
  readonly id: number;
  readonly slot: number;
  readonly seeks: number;
  readonly batch: number;
  readonly numaAware: boolean;
  live: boolean;
}

/** Counts above this are clamped, so `4 * count` and `2 * count` stay exact doubles. */
const MAX_OBJECTS = 2 ** 50;
/** Deferred work never exceeds this (what `nextDeferred` accepts), even when nested passes add theirs. */
const MAX_DEFERRED = 2 ** 52;

/**
 * A statistics counter after an addition, held at 2^53 - 1: a liar's count of 2^50 summed over
 * passes would leave the exact integers after eight passes (and fail `check()`).
 */
function saturated(sum: number): number {
  return sum < Number.MAX_SAFE_INTEGER ? sum : Number.MAX_SAFE_INTEGER;
}

const PER_NODE = ["shrinker deferred", "shrinker last count", "shrinker counted", "shrinker scanned", "shrinker freed"] as const;
const PER_SHRINKER = ["shrinker count calls", "shrinker scan calls", "shrinker warnings"] as const;

/**
 * The set of caches that can give memory back, and the kernel's way of asking them to
 * (`shrink_slab` / `do_shrink_slab`, mm/shrinker.c in Linux 6.x).
 *
 * A pass at `priority` asks every shrinker for its `count` on the node, adds
 * `delta = (count >> priority) * 4 / seeks` to the work deferred from earlier passes
 * (`deferred >> priority`), caps the total at `2 * count`, and calls `scan` in batches of `batch`
 * (a last short batch only when the rest is at least the whole cache). Work not done is deferred
 * per node (`deferred + delta - scanned`, at least 0, at most `2 * count`).
 *
 * Shrinkers may register and unregister at any time, including from inside their own or another
 * shrinker's callback: a pass walks the list as it was when the pass began, skips shrinkers
 * unregistered meanwhile (one unregistered inside its own `scan` makes no further calls), and a
 * shrinker registered during a pass is first called by the next pass. Passes may nest (a callback
 * may call `shrink`). A callback that throws or returns nonsense is clamped and recorded as a
 * {@link ShrinkerWarning}; the other shrinkers are still shrunk. So is one whose `count` lies: a
 * pass makes at most `maxScanCalls` scan calls to one shrinker, defers what is left and warns
 * (`scan-limit`).
 *
 * Per-shrinker, per-node counters live in `Float64Array`s from the arena (5 per node and 3 per
 * shrinker: 8 * (5 * nodes + 3) bytes per registered shrinker slot).
 *
 * Costs: `register` O(1) amortised; `unregister` O(shrinkers) (a splice); `shrink` O(shrinkers)
 * plus one `count` and `min(ceil(work / batch), maxScanCalls)` `scan` calls per shrinker; `reclaim` at most 13
 * passes (`DEF_PRIORITY` .. 0), times the nodes when no node is named.
 *
 * @example
 * ```ts
 * const registry = new ShrinkerRegistry({ nodes: 1 });
 * let cached = 10_000;
 * registry.register({
 *   name: "my-cache",
 *   count: () => cached,
 *   scan: (sc) => { const n = Math.min(sc.nrToScan, cached); cached -= n; return n; },
 * });
 * registry.shrink({ nid: 0, priority: 12 }); // 0: (10000 >> 12) * 4 / 2 = 4 is below one batch; deferred
 * registry.reclaim(1000, 0).freed;           // 2048: 1, 2, 4 and 9 batches of 128 at priorities 7 to 4
 * ```
 */
export class ShrinkerRegistry {
  readonly #nodes: number;
  readonly #arena: ArrayFactory;
  readonly #warningLimit: number;
  readonly #onWarning: ((warning: ShrinkerWarning) => void) | undefined;
  readonly #maxScanCalls: number;
  /** What is left of the current pass's scan-call budget for the shrinker being shrunk. */
  #budget = 0;

  #list: Entry[] = [];
  #byShrinker = new Map<Shrinker, Entry>();
  #nextId = 0;
  #walkDepth = 0;
  #dirty = false;
  #pendingSlots: number[] = [];
  #freeSlots: number[] = [];
  #capacity = 0;
  #slotsUsed = 0;

  // Per (slot, node), index slot * nodes + nid.
  #deferred!: Float64Array;
  #lastCount!: Float64Array;
  #counted!: Float64Array;
  #scanned!: Float64Array;
  #freed!: Float64Array;
  // Per slot.
  #countCalls!: Float64Array;
  #scanCalls!: Float64Array;
  #warnCount!: Float64Array;

  #warnings: ShrinkerWarning[] = [];
  #warningTotal = 0;

  constructor(options: ShrinkerRegistryOptions = {}) {
    if (typeof options !== "object" || options === null) {
      throw new MmkitError(ErrorCode.InvalidArgument, `registry options must be an object, got ${describeValue(options)}`);
    }
    this.#nodes = requireInteger(options.nodes ?? 1, "nodes", 1, MAX_NODES);
    this.#warningLimit = requireInteger(options.warningLimit ?? 64, "warningLimit", 0, 1 << 20);
    this.#maxScanCalls = requireInteger(options.maxScanCalls ?? DEFAULT_MAX_SCAN_CALLS, "maxScanCalls", 1, Number.MAX_SAFE_INTEGER);
    if (options.onWarning !== undefined && typeof options.onWarning !== "function") {
      throw new MmkitError(ErrorCode.InvalidArgument, `onWarning must be a function, got ${describeValue(options.onWarning)}`);
    }
    const arena = requireArrayFactory(options.arena ?? new MetadataArena());
    this.#onWarning = options.onWarning;
    this.#arena = arena;
    this.#installArrays(4);
  }

  /** Number of NUMA nodes (valid nids are 0 .. nodes - 1). */
  get nodes(): number {
    return this.#nodes;
  }

  /** Most `scan` calls one pass makes to one shrinker (see {@link ShrinkerRegistryOptions.maxScanCalls}). */
  get maxScanCalls(): number {
    return this.#maxScanCalls;
  }

  /** Registered shrinkers. */
  get size(): number {
    return this.#byShrinker.size;
  }

  /** Warnings recorded since construction (including those no longer kept). */
  get warningCount(): number {
    return this.#warningTotal;
  }

  /** True while `shrink`, `reclaim` or `debugDump` is running (callbacks see true). */
  get walking(): boolean {
    return this.#walkDepth > 0;
  }

  /**
   * Adds a shrinker at the end of the list. Reads `seeks` (default 2; 0 means "trim half every
   * pass"), `batch` (default 128; 0 also means 128, as in the kernel) and `numaAware` now.
   *
   * Throws `ERR_ALREADY_REGISTERED` if it is registered, `ERR_INVALID_ARGUMENT` for a missing name
   * or callback, or a bad `seeks`/`batch`/`numaAware`; the registry is then unchanged.
   *
   * Cost: O(1) amortised (grows the counter arrays by doubling).
   *
   * @example
   * ```ts
   * registry.register({ name: "inode-cache", count, scan, seeks: DEFAULT_SEEKS, numaAware: true });
   * ```
   */
  register(shrinker: Shrinker): void {
    if (typeof shrinker !== "object" || shrinker === null) {
      throw new MmkitError(ErrorCode.InvalidArgument, `shrinker must be an object, got ${describeValue(shrinker)}`);
    }
    const name: unknown = shrinker.name;
    if (typeof name !== "string" || name.length === 0) {
      throw new MmkitError(ErrorCode.InvalidArgument, `shrinker name must be a non-empty string, got ${describeValue(name)}`);
    }
    if (typeof shrinker.count !== "function" || typeof shrinker.scan !== "function") {
      const [which, value] = typeof shrinker.count !== "function" ? ["count", shrinker.count] : ["scan", shrinker.scan];
      throw new MmkitError(ErrorCode.InvalidArgument, `shrinker ${JSON.stringify(name)} needs count and scan functions, got ${which} ${describeValue(value)}`);
    }
    if (this.#byShrinker.has(shrinker)) {
      throw new MmkitError(ShrinkerErrorCode.AlreadyRegistered, `shrinker ${JSON.stringify(name)} is registered already (id ${this.#byShrinker.get(shrinker)!.id})`);
    }
    const seeks = requireInteger(shrinker.seeks ?? DEFAULT_SEEKS, `shrinker ${JSON.stringify(name)} seeks`, 0, 1 << 20);
    const batchIn = requireInteger(shrinker.batch ?? SHRINK_BATCH, `shrinker ${JSON.stringify(name)} batch`, 0, 2 ** 40);
    const numaAware: unknown = shrinker.numaAware ?? false;
    if (typeof numaAware !== "boolean") {
      throw new MmkitError(ErrorCode.InvalidArgument, `shrinker ${JSON.stringify(name)} numaAware must be a boolean, got ${describeValue(numaAware)}`);
    }
    if (this.#freeSlots.length === 0 && this.#slotsUsed === this.#capacity) this.#installArrays(this.#capacity * 2);
    const slot = this.#freeSlots.length > 0 ? this.#freeSlots.pop()! : this.#slotsUsed++;
    const entry: Entry = { shrinker, id: this.#nextId++, slot, seeks, batch: batchIn === 0 ? SHRINK_BATCH : batchIn, numaAware, live: true };
    this.#list.push(entry);
    this.#byShrinker.set(shrinker, entry);
  }

  /**
   * Removes a shrinker and forgets its deferred work and counters. Safe inside any callback, its
   * own included: a pass in progress makes no further calls to it.
   *
   * Throws `ERR_NOT_REGISTERED` if it is not registered (the registry is then unchanged).
   *
   * Cost: O(shrinkers) outside a pass (a splice); O(1) inside one (the list is compacted when the
   * outermost pass ends).
   *
   * @example
   * ```ts
   * registry.unregister(cacheShrinker);
   * ```
   */
  unregister(shrinker: Shrinker): void {
    const entry = this.#entryOf(shrinker);
    entry.live = false;
    this.#byShrinker.delete(shrinker);
    if (this.#walkDepth > 0) {
      this.#dirty = true;
      this.#pendingSlots.push(entry.slot);
    } else {
      this.#list.splice(this.#list.indexOf(entry), 1);
      this.#releaseSlot(entry.slot);
    }
  }

  /**
   * True when `shrinker` is registered.
   *
   * Cost: O(1).
   *
   * @example
   * ```ts
   * if (!registry.isRegistered(s)) registry.register(s);
   * ```
   */
  isRegistered(shrinker: Shrinker): boolean {
    return this.#byShrinker.has(shrinker);
  }

  /**
   * The registered shrinkers in the order passes call them.
   *
   * Cost: O(shrinkers).
   *
   * @example
   * ```ts
   * registry.shrinkers().map((s) => s.name); // ["inode-cache", "pte-cache"]
   * ```
   */
  shrinkers(): Shrinker[] {
    const out: Shrinker[] = [];
    for (const e of this.#list) if (e.live) out.push(e.shrinker);
    return out;
  }

  /**
   * One pass over every shrinker for node `nid` at `priority` (the kernel's `shrink_slab`); returns
   * the objects freed. Throws `ERR_INVALID_ARGUMENT` / `ERR_OUT_OF_RANGE` for a nid outside
   * `0 .. nodes - 1` or a priority outside `0 .. 12`, before calling anything.
   *
   * Cost: O(shrinkers) + one `count` and up to `ceil(min(deferred >> priority + delta, 2 * count) / batch)`
   * `scan` calls per shrinker, at most `maxScanCalls` of them.
   *
   * @example
   * ```ts
   * const freed = registry.shrink({ nid: 0, priority: DEF_PRIORITY });
   * ```
   */
  shrink(request: ShrinkRequest): number {
    if (typeof request !== "object" || request === null) {
      throw new MmkitError(ErrorCode.InvalidArgument, `shrink request must be an object, got ${describeValue(request)}`);
    }
    const nid = requireInteger(request.nid, "nid", 0, this.#nodes - 1);
    const priority = requireInteger(request.priority, "priority", 0, DEF_PRIORITY);
    return this.#pass(nid, priority);
  }

  /**
   * Frees at least `target` objects if it can: passes at priority 12, 11, ... 0 (the kernel's
   * `do_try_to_free_pages` loop), stopping as soon as the target is met. With `nid` the pass is
   * for that node; without, every node is shrunk at each priority (a shrinker that is not NUMA-aware
   * is called once per priority, not once per node).
   *
   * Throws for a negative or fractional target or an unknown nid, before calling anything.
   *
   * Cost: at most 13 passes (see {@link shrink}); `target = 0` makes none.
   *
   * @example
   * ```ts
   * const { freed, reachedTarget } = registry.reclaim(512, 0);
   * ```
   */
  reclaim(target: number, nid?: number): ReclaimResult {
    requireInteger(target, "target", 0);
    const node = nid === undefined ? -1 : requireInteger(nid, "nid", 0, this.#nodes - 1);
    let freed = 0;
    let passes = 0;
    let priority = DEF_PRIORITY;
    if (target === 0) return { freed: 0, passes: 0, priority, reachedTarget: true };
    for (; priority >= 0; priority--) {
      freed += this.#pass(node, priority);
      passes++;
      if (freed >= target) break;
    }
    return { freed, passes, priority: Math.max(priority, 0), reachedTarget: freed >= target };
  }

  /**
   * Figures for one registered shrinker, or for all of them in list order. Throws
   * `ERR_NOT_REGISTERED` for a shrinker that is not registered.
   *
   * Cost: O(nodes) per shrinker; allocates the result.
   *
   * @example
   * ```ts
   * const { freed, scanned, deferred } = registry.stats(cacheShrinker);
   * ```
   */
  stats(): ShrinkerStats[];
  stats(shrinker: Shrinker): ShrinkerStats;
  stats(shrinker?: Shrinker): ShrinkerStats | ShrinkerStats[] {
    if (shrinker === undefined) {
      const out: ShrinkerStats[] = [];
      for (const e of this.#list) if (e.live) out.push(this.#statsOf(e));
      return out;
    }
    return this.#statsOf(this.#entryOf(shrinker));
  }

  /**
   * What the kernel's debugfs `count` file shows for a shrinker (`/sys/kernel/debug/shrinker/<name>-<id>/count`):
   * `"0 <count on node 0> <count on node 1> ...\n"` (the leading 0 is the root memory cgroup), or
   * `""` when the total is 0. Calls `count` on every node (node 0 only when not NUMA-aware;
   * `SHRINK_EMPTY` shows as 0) without touching the statistics.
   *
   * Cost: one `count` call per node.
   *
   * @example
   * ```ts
   * registry.countFile(cacheShrinker); // "0 120 30\n"
   * ```
   */
  countFile(shrinker: Shrinker): string {
    const entry = this.#entryOf(shrinker);
    this.#walkDepth++;
    try {
      return this.#countLine(entry);
    } finally {
      this.#endWalk();
    }
  }

  /**
   * What writing `"0 <nid> <nrToScan>"` to the debugfs `scan` file does: one `scan` call with
   * `nrToScan` objects on `nid`, outside any pass (no deferred work, no priority: it reads 0).
   * Returns what was freed (0 for `SHRINK_STOP`). Counts in the statistics like any scan.
   *
   * Cost: one `scan` call.
   *
   * @example
   * ```ts
   * registry.debugScan(cacheShrinker, 0, 100);
   * ```
   */
  debugScan(shrinker: Shrinker, nid: number, nrToScan: number): number {
    const entry = this.#entryOf(shrinker);
    requireInteger(nid, "nid", 0, this.#nodes - 1);
    requireInteger(nrToScan, "nrToScan", 1, MAX_OBJECTS);
    this.#walkDepth++;
    try {
      const sc: ShrinkControl = { nid: entry.numaAware ? nid : 0, nrToScan, priority: 0, nrScanned: nrToScan };
      const ret = this.#scan(entry, sc, Number.MAX_SAFE_INTEGER, 0);
      if (ret === SHRINK_STOP) return 0;
      const row = entry.slot * this.#nodes + sc.nid;
      this.#scanned[row] = saturated(this.#scanned[row]! + sc.nrScanned);
      this.#freed[row] = saturated(this.#freed[row]! + ret);
      return ret;
    } finally {
      this.#endWalk();
    }
  }

  /**
   * A text dump of every shrinker: its debugfs directory name and settings, its `count` file, and
   * its per-node counters. For people, not parsers; the format may change.
   *
   * Cost: one `count` call per shrinker per node, O(shrinkers * nodes) text.
   *
   * @example
   * ```ts
   * console.log(registry.debugDump());
   * // my-cache-0 seeks=2 batch=128 numa-aware=no count-calls=10 scan-calls=16 warnings=0
   * //   count: 0 7952
   * //   node 0: last-count=9104 counted=98592 scanned=2048 freed=2048 deferred=304
   * ```
   */
  debugDump(): string {
    const lines: string[] = [];
    this.#walkDepth++;
    try {
      for (const e of this.#list) {
        if (!e.live) continue;
        const countLine = this.#countLine(e);
        if (!e.live) continue;
        const s = this.#statsOf(e);
        lines.push(`${s.name}-${s.id} seeks=${s.seeks} batch=${s.batch} numa-aware=${s.numaAware ? "yes" : "no"} count-calls=${s.countCalls} scan-calls=${s.scanCalls} warnings=${s.warnings}`);
        lines.push(`  count: ${countLine === "" ? "(empty)" : countLine.trimEnd()}`);
        for (const n of s.nodes) {
          if (!s.numaAware && n.nid > 0) break;
          lines.push(`  node ${n.nid}: last-count=${n.lastCount} counted=${n.counted} scanned=${n.scanned} freed=${n.freed} deferred=${n.deferred}`);
        }
      }
    } finally {
      this.#endWalk();
    }
    return lines.join("\n") + (lines.length > 0 ? "\n" : "");
  }

  /**
   * The newest recorded warnings (at most `warningLimit`), oldest first.
   *
   * Cost: O(kept warnings).
   *
   * @example
   * ```ts
   * registry.warnings().map((w) => w.kind); // ["scan-threw", "count-invalid"]
   * ```
   */
  warnings(): ShrinkerWarning[] {
    return this.#warnings.slice();
  }

  /**
   * Forgets the kept warnings (`warningCount` and per-shrinker counts stay).
   *
   * Cost: O(1).
   *
   * @example
   * ```ts
   * registry.clearWarnings();
   * ```
   */
  clearWarnings(): void {
    this.#warnings = [];
  }

  /**
   * Validates every invariant: the list and the lookup map agree, slots are distinct and in range,
   * free slots' counters are zero, every counter is a non-negative integer, and a shrinker that is
   * not NUMA-aware has nothing on nodes above 0. Throws `ERR_INVARIANT` on the first violation.
   *
   * Cost: O(capacity * nodes).
   *
   * @example
   * ```ts
   * registry.check();
   * ```
   */
  check(): void {
    const fail = (what: string): never => {
      throw new MmkitError(ErrorCode.Invariant, `shrinker registry: ${what}`);
    };
    const nodes = this.#nodes;
    const seenSlots = new Set<number>();
    let live = 0;
    for (const e of this.#list) {
      if (!e.live) {
        if (this.#walkDepth === 0) fail(`dead entry ${e.id} left in the list outside a pass`);
        continue;
      }
      live++;
      if (this.#byShrinker.get(e.shrinker) !== e) fail(`entry ${e.id} (${e.shrinker.name}) is not the map's entry for its shrinker`);
      if (e.slot < 0 || e.slot >= this.#slotsUsed) fail(`entry ${e.id} has slot ${e.slot} outside [0, ${this.#slotsUsed})`);
      if (seenSlots.has(e.slot)) fail(`slot ${e.slot} is used twice`);
      seenSlots.add(e.slot);
      if (!Number.isSafeInteger(e.seeks) || e.seeks < 0 || !Number.isSafeInteger(e.batch) || e.batch < 1) fail(`entry ${e.id} has seeks ${e.seeks} batch ${e.batch}`);
      if (!e.numaAware) {
        for (let n = 1; n < nodes; n++) {
          const row = e.slot * nodes + n;
          if (this.#deferred[row] !== 0 || this.#scanned[row] !== 0 || this.#freed[row] !== 0 || this.#counted[row] !== 0) {
            fail(`entry ${e.id} is not NUMA-aware but has counters on node ${n}`);
          }
        }
      }
    }
    if (live !== this.#byShrinker.size) fail(`${live} live entries in the list but ${this.#byShrinker.size} in the map`);
    for (const slot of this.#pendingSlots) {
      if (seenSlots.has(slot)) fail(`pending slot ${slot} belongs to a live entry`);
      seenSlots.add(slot);
    }
    if (this.#walkDepth === 0 && this.#budget !== 0) fail(`a scan-call budget of ${this.#budget} is left outside a pass`);
    if (this.#walkDepth === 0 && this.#pendingSlots.length > 0) fail(`${this.#pendingSlots.length} slots pending outside a pass`);
    const free = new Set<number>();
    for (const slot of this.#freeSlots) {
      if (slot < 0 || slot >= this.#slotsUsed || seenSlots.has(slot) || free.has(slot)) fail(`free slot ${slot} is out of range, live or listed twice`);
      free.add(slot);
    }
    if (seenSlots.size + free.size !== this.#slotsUsed) fail(`${seenSlots.size} used + ${free.size} free slots != ${this.#slotsUsed}`);
    const perNode = [this.#deferred, this.#lastCount, this.#counted, this.#scanned, this.#freed];
    const perShrinker = [this.#countCalls, this.#scanCalls, this.#warnCount];
    for (let slot = 0; slot < this.#capacity; slot++) {
      const isFree = slot >= this.#slotsUsed || free.has(slot);
      for (const a of perShrinker) {
        const v = a[slot]!;
        if (!Number.isSafeInteger(v) || v < 0 || (isFree && v !== 0)) fail(`slot ${slot} has per-shrinker counter ${v}`);
      }
      for (let n = 0; n < nodes; n++) {
        for (const a of perNode) {
          const v = a[slot * nodes + n]!;
          if (!Number.isSafeInteger(v) || v < 0 || (isFree && v !== 0)) fail(`slot ${slot} node ${n} has counter ${v}`);
        }
      }
    }
  }

  // ---------------------------------------------------------------- internals

  #entryOf(shrinker: Shrinker): Entry {
    const entry = this.#byShrinker.get(shrinker);
    if (entry === undefined) throw new MmkitError(ShrinkerErrorCode.NotRegistered, `shrinker ${describeShrinker(shrinker)} is not registered`);
    return entry;
  }

  /** One pass at `priority`: node `nid`, or every node when `nid` is -1. */
  #pass(nid: number, priority: number): number {
    let freed = 0;
    this.#walkDepth++;
    try {
      const list = this.#list;
      const n = list.length;
      for (let i = 0; i < n; i++) {
        const e = list[i]!;
        if (!e.live) continue;
        // One budget of scan calls per shrinker per pass, shared by its nodes (a nested pass has its own).
        const outer = this.#budget;
        this.#budget = this.#maxScanCalls;
        try {
          if (nid >= 0 || !e.numaAware) {
            const r = this.#doShrink(e, e.numaAware ? nid : 0, priority);
            if (r > 0) freed += r;
          } else {
            for (let node = 0; node < this.#nodes && e.live; node++) {
              const r = this.#doShrink(e, node, priority);
              if (r > 0) freed += r;
            }
          }
        } finally {
          this.#budget = outer;
        }
      }
    } finally {
      this.#endWalk();
    }
    return freed;
  }

  /** The kernel's `do_shrink_slab` for one shrinker on one node (`nid` is 0 for unaware ones). */
  #doShrink(e: Entry, nid: number, priority: number): number {
    const sc: ShrinkControl = { nid, nrToScan: 0, priority, nrScanned: 0 };
    const freeable = this.#count(e, sc, true);
    if (freeable === 0 || freeable === SHRINK_EMPTY || !e.live) return freeable === SHRINK_EMPTY ? SHRINK_EMPTY : 0;
    const row = e.slot * this.#nodes + nid;
    // Take the deferred work, so a nested pass on the same shrinker does not redo it.
    const nr = this.#deferred[row]!;
    this.#deferred[row] = 0;
    const delta = scanDelta(freeable, priority, e.seeks);
    let total = Math.min(Math.floor(nr / 2 ** priority) + delta, 2 * freeable);
    const batch = e.batch;
    let freed = 0;
    let scanned = 0;
    while (total >= batch || total >= freeable) {
      if (this.#budget === 0) {
        // Only a count far beyond what its scans get through comes here: stop, defer the rest, say so.
        this.#warn(e, "scan-limit", sc, total, 0, `a pass reached ${this.#maxScanCalls} scan calls (maxScanCalls) with ${total} objects of its count ${freeable} still to scan, ${freed} freed; the rest is deferred`);
        break;
      }
      this.#budget--;
      const n = Math.min(batch, total);
      sc.nid = nid;
      sc.priority = priority;
      sc.nrToScan = n;
      sc.nrScanned = n;
      const ret = this.#scan(e, sc, freeable, freed);
      if (ret === SHRINK_STOP) break;
      freed += ret;
      total -= sc.nrScanned;
      scanned += sc.nrScanned;
      if (!e.live || sc.nrScanned === 0) break;
    }
    if (e.live) {
      // Nested passes may have deferred work meanwhile: the sum stays within what nextDeferred accepts.
      this.#deferred[row] = Math.min(this.#deferred[row]! + nextDeferred(nr, delta, scanned, freeable), MAX_DEFERRED);
      this.#scanned[row] = saturated(this.#scanned[row]! + scanned);
      this.#freed[row] = saturated(this.#freed[row]! + freed);
    }
    return freed;
  }

  /** `count`, guarded: an integer in [0, MAX_OBJECTS] or SHRINK_EMPTY. */
  #count(e: Entry, sc: ShrinkControl, record: boolean): number {
    const nid = sc.nid;
    const priority = sc.priority;
    let v: unknown;
    try {
      v = e.shrinker.count(sc);
    } catch (error) {
      sc.nid = nid;
      sc.priority = priority;
      this.#warn(e, "count-threw", sc, error, 0, `count threw ${error instanceof Error ? error.message : describeValue(error)}`);
      v = 0;
    }
    sc.nid = nid;
    sc.priority = priority;
    let out: number;
    if (v === SHRINK_EMPTY) out = SHRINK_EMPTY;
    else if (typeof v !== "number" || !(v >= 0) || v === Infinity) {
      out = 0;
      if (v !== 0) this.#warn(e, "count-invalid", sc, v, 0, `count returned ${describeValue(v)}`);
    } else if (v > MAX_OBJECTS) {
      out = MAX_OBJECTS;
      this.#warn(e, "count-invalid", sc, v, out, `count returned ${describeValue(v)}, above 2^50`);
    } else if (!Number.isInteger(v)) {
      out = Math.floor(v);
      this.#warn(e, "count-invalid", sc, v, out, `count returned the fraction ${describeValue(v)}`);
    } else out = v;
    if (record && e.live) {
      const row = e.slot * this.#nodes + nid;
      this.#countCalls[e.slot] = saturated(this.#countCalls[e.slot]! + 1);
      const c = out === SHRINK_EMPTY ? 0 : out;
      this.#lastCount[row] = c;
      this.#counted[row] = saturated(this.#counted[row]! + c);
    }
    return out;
  }

  /** `scan`, guarded: SHRINK_STOP or a freed count in [0, max(nrToScan, freeable - freedSoFar)]; fixes `sc.nrScanned`. */
  #scan(e: Entry, sc: ShrinkControl, freeable: number, freedSoFar: number): number {
    const asked = sc.nrToScan;
    const nid = sc.nid;
    const priority = sc.priority;
    let v: unknown;
    try {
      v = e.shrinker.scan(sc);
    } catch (error) {
      sc.nid = nid;
      sc.priority = priority;
      sc.nrToScan = asked;
      sc.nrScanned = asked;
      this.#bumpScanCalls(e);
      this.#warn(e, "scan-threw", sc, error, SHRINK_STOP, `scan threw ${error instanceof Error ? error.message : describeValue(error)}`);
      return SHRINK_STOP;
    }
    this.#bumpScanCalls(e);
    const scanned: unknown = sc.nrScanned;
    sc.nid = nid;
    sc.priority = priority;
    sc.nrToScan = asked;
    if (typeof scanned !== "number" || !Number.isInteger(scanned) || scanned < 0 || scanned > asked) {
      sc.nrScanned = asked;
      this.#warn(e, "scanned-invalid", sc, scanned, asked, `scan set nrScanned to ${describeValue(scanned)} (asked ${asked})`);
    }
    if (v === SHRINK_STOP) return SHRINK_STOP;
    if (typeof v !== "number" || !(v >= 0) || v === Infinity) {
      this.#warn(e, "scan-invalid", sc, v, 0, `scan returned ${describeValue(v)}`);
      return 0;
    }
    let freed = v;
    if (!Number.isInteger(freed)) {
      freed = Math.floor(freed);
      this.#warn(e, "scan-invalid", sc, v, freed, `scan returned the fraction ${describeValue(v)}`);
    }
    const limit = Math.max(asked, freeable - freedSoFar);
    if (freed > limit) {
      this.#warn(e, "scan-overreported", sc, freed, limit, `scan reported ${freed} freed, more than the ${asked} asked and the ${Math.max(freeable - freedSoFar, 0)} left of its count`);
      freed = limit;
    }
    return freed;
  }

  #bumpScanCalls(e: Entry): void {
    if (e.live) this.#scanCalls[e.slot] = saturated(this.#scanCalls[e.slot]! + 1);
  }

  #warn(e: Entry, kind: ShrinkerWarningKind, sc: ShrinkControl, value: unknown, usedInstead: number, what: string): void {
    const nid = typeof sc.nid === "number" ? sc.nid : 0;
    const warning: ShrinkerWarning = {
      kind,
      shrinker: e.shrinker.name,
      id: e.id,
      nid,
      priority: sc.priority,
      value,
      usedInstead,
      message: `shrinker ${JSON.stringify(e.shrinker.name)} (id ${e.id}) on node ${nid}: ${what}; using ${usedInstead === SHRINK_STOP ? "SHRINK_STOP" : usedInstead}`,
    };
    this.#warningTotal++;
    if (e.live) this.#warnCount[e.slot] = saturated(this.#warnCount[e.slot]! + 1);
    if (this.#warningLimit > 0) {
      if (this.#warnings.length >= this.#warningLimit) this.#warnings.shift();
      this.#warnings.push(warning);
    }
    if (this.#onWarning !== undefined) {
      try {
        this.#onWarning(warning);
      } catch {
        // A throwing observer must not break a pass; the warning is recorded already.
      }
    }
  }

  #countLine(e: Entry): string {
    const counts: number[] = new Array<number>(this.#nodes).fill(0);
    let total = 0;
    for (let nid = 0; nid < this.#nodes; nid++) {
      const c = this.#count(e, { nid, nrToScan: 0, priority: 0, nrScanned: 0 }, false);
      counts[nid] = c === SHRINK_EMPTY ? 0 : c;
      total += counts[nid]!;
      if (!e.numaAware || !e.live) break;
    }
    return total === 0 ? "" : `0 ${counts.join(" ")}\n`;
  }

  #statsOf(e: Entry): ShrinkerStats {
    const nodes: ShrinkerNodeStats[] = [];
    let counted = 0;
    let scanned = 0;
    let freed = 0;
    let deferred = 0;
    for (let nid = 0; nid < this.#nodes; nid++) {
      const row = e.slot * this.#nodes + nid;
      const n: ShrinkerNodeStats = {
        nid,
        lastCount: this.#lastCount[row]!,
        counted: this.#counted[row]!,
        scanned: this.#scanned[row]!,
        freed: this.#freed[row]!,
        deferred: this.#deferred[row]!,
      };
      counted += n.counted;
      scanned += n.scanned;
      freed += n.freed;
      deferred += n.deferred;
      nodes.push(n);
    }
    return {
      name: e.shrinker.name,
      id: e.id,
      seeks: e.seeks,
      batch: e.batch,
      numaAware: e.numaAware,
      countCalls: this.#countCalls[e.slot]!,
      scanCalls: this.#scanCalls[e.slot]!,
      counted,
      scanned,
      freed,
      deferred,
      warnings: this.#warnCount[e.slot]!,
      nodes,
    };
  }

  #endWalk(): void {
    if (--this.#walkDepth === 0 && this.#dirty) {
      this.#list = this.#list.filter((e) => e.live);
      for (const slot of this.#pendingSlots) this.#releaseSlot(slot);
      this.#pendingSlots = [];
      this.#dirty = false;
    }
  }

  #releaseSlot(slot: number): void {
    const nodes = this.#nodes;
    this.#deferred.fill(0, slot * nodes, (slot + 1) * nodes);
    this.#lastCount.fill(0, slot * nodes, (slot + 1) * nodes);
    this.#counted.fill(0, slot * nodes, (slot + 1) * nodes);
    this.#scanned.fill(0, slot * nodes, (slot + 1) * nodes);
    this.#freed.fill(0, slot * nodes, (slot + 1) * nodes);
    this.#countCalls[slot] = 0;
    this.#scanCalls[slot] = 0;
    this.#warnCount[slot] = 0;
    this.#freeSlots.push(slot);
  }

  /** Replaces the counter arrays with ones of `capacity` slots (contents copied); all or nothing. */
  #installArrays(capacity: number): void {
    const fresh: Float64Array[] = [];
    try {
      for (const label of PER_NODE) fresh.push(this.#arena.float64(capacity * this.#nodes, label));
      for (const label of PER_SHRINKER) fresh.push(this.#arena.float64(capacity, label));
    } catch (error) {
      for (const a of fresh) this.#arena.release(a);
      throw error;
    }
    if (this.#capacity > 0) {
      const old = [this.#deferred, this.#lastCount, this.#counted, this.#scanned, this.#freed, this.#countCalls, this.#scanCalls, this.#warnCount];
      for (let i = 0; i < old.length; i++) {
        fresh[i]!.set(old[i]!);
        this.#arena.release(old[i]!);
      }
    }
    [this.#deferred, this.#lastCount, this.#counted, this.#scanned, this.#freed, this.#countCalls, this.#scanCalls, this.#warnCount] = fresh as [
      Float64Array, Float64Array, Float64Array, Float64Array, Float64Array, Float64Array, Float64Array, Float64Array,
    ];
    this.#capacity = capacity;
  }
}

/** A shrinker for an error message: its name when it has a string one, else the value (a BigInt name cannot go through JSON). */
function describeShrinker(shrinker: unknown): string {
  const name: unknown = typeof shrinker === "object" && shrinker !== null ? (shrinker as { name?: unknown }).name : undefined;
  return typeof name === "string" ? JSON.stringify(name) : describeValue(shrinker);
}
