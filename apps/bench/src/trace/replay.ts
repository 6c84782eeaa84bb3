import { ErrorCode, MmkitError, describeValue, requireInteger } from "@mmkit/physmem";
import { MAX_TRACE_ORDER, TRACE_EVENT_KIND_NAMES, TraceEventKind, type TraceEventKindName, type TraceRecord } from "./events.js";
import { TraceError, TraceErrorCode } from "./errors.js";
import type { TraceEventBatch } from "./event-batch.js";
import { KeySlotMap } from "./key-slot-map.js";
import type { PageAllocator } from "./page-allocator.js";

/** Where a replay is, as passed to the {@link ReplayOptions} hooks. */
export interface ReplayProgress {
  /** Page events replayed so far: allocations, failed allocations and frees. */
  pageEvents: number;
  /** Line of the record just replayed. */
  line: number;
  /** Current phase name ("" before the first phase marker). */
  phase: string;
  liveAllocations: number;
  livePages: number;
  peakLivePages: number;
  /** Allocations the system under test could not serve so far. */
  sutFailures: number;
}

/** Options of {@link TraceReplayer} and {@link replayTrace}. */
export interface ReplayOptions {
  /** Call `onSample` after every this many page events (allocations, failed allocations, frees). */
  sampleEvery?: number;
  /** Sampling hook, e.g. to read the allocator's fragmentation over time. */
  onSample?: (progress: ReplayProgress) => void;
  /** Called when a phase marker starts a phase, after the switch (`progress.phase` is the new name). */
  onPhase?: (name: string, progress: ReplayProgress) => void;
  /** Marker text that starts a phase; capture group 1 is its name (default `/^PHASE\s+(\S.*)$/`). */
  phaseMarker?: RegExp;
  /**
   * Per-CPU fronts of the system under test: an event the trace puts on CPU c is replayed through
   * `fronts[c % fronts.length]` (its allocation and the frees it causes), so per-CPU list behaviour
   * is replayed as traced; events without a CPU go to the allocator itself. Default: none.
   */
  fronts?: readonly PageAllocator[];
}

/** Counts for one phase of the trace (from one phase marker to the next). */
export interface PhaseReport {
  /** Name from the marker; "" for the events before the first phase marker. */
  name: string;
  /** Line of the marker (0 for the unnamed first phase). */
  line: number;
  allocs: number;
  allocPages: number;
  /** Frees matched to an allocation. */
  frees: number;
  /** Frees of pages allocated before the capture began. */
  freesUnmatched: number;
  /** Pages given back by matched frees. */
  freedPages: number;
  sutFailures: number;
  livePagesAtStart: number;
  livePagesAtEnd: number;
  peakLivePages: number;
}

/** The trace's own accounting after a replay, from {@link TraceReplayer.report}. */
export interface ReplayReport {
  /** Records replayed, by kind. */
  events: Record<TraceEventKindName, number>;
  /** Unknown events by name. */
  unknownEvents: Record<string, number>;
  /** Events the trace says its ring buffer lost. */
  lostEvents: number;
  /** Allocations replayed, by order (index = order; trailing zero orders cut). */
  allocsByOrder: number[];
  /** Pages the trace allocated in all. */
  allocPages: number;
  /** Frees matched to an allocation in the trace (including partial and order-mismatched ones). */
  freesMatched: number;
  /** Frees of pages no traced allocation holds: allocated before the capture began. */
  freesUnmatched: number;
  /** Pages those frees held (2^order each; 0 for an mmkit `free <id>` without an order). */
  freesUnmatchedPages: number;
  /** Matched frees whose order differs from the allocation's (or that cover several allocations). */
  freesOrderMismatch: number;
  /** Matched frees of part of an allocation (split_page style); its last page's free frees the allocation. */
  freesPartial: number;
  /** Matched frees of allocations the system under test had failed (nothing to give back to it). */
  freesOfFailedAllocs: number;
  /** Allocations of pages the trace still held (a free it did not record); the old allocation is freed first. */
  allocsOverLive: number;
  liveAllocationsAtEnd: number;
  livePagesAtEnd: number;
  peakLivePages: number;
  peakLiveAllocations: number;
  /** Allocations the system under test could not serve (returned -1). */
  sutFailures: number;
  /** {@link sutFailures} by order (trailing zero orders cut). */
  sutFailuresByOrder: number[];
  /** Of {@link sutFailures}: allocations of an order above the system's largest (it refused the order as out of range). */
  sutOrderTooLarge: number;
  /** Per phase, in trace order (a phase named twice appears twice). */
  phases: PhaseReport[];
  /** Marker texts with their lines and trace times (NaN when the line had none; the first 1000). */
  markers: { line: number; text: string; time: number }[];
  /** Page events per CPU the trace names (index = CPU; events without a CPU are not counted here). */
  perCpu: { allocs: number[]; frees: number[]; allocFailed: number[] };
}

// Module-level copies: an imported object's property is a getter call per use under some loaders (tsx).
const K_ALLOC: TraceEventKind = TraceEventKind.Alloc;
const K_FREE: TraceEventKind = TraceEventKind.Free;
const K_ALLOC_FAILED: TraceEventKind = TraceEventKind.AllocFailed;
const K_MARKER: TraceEventKind = TraceEventKind.Marker;
const K_UNKNOWN: TraceEventKind = TraceEventKind.Unknown;
const K_LOST: TraceEventKind = TraceEventKind.Lost;
// Sizes are `1 << order` on the hot paths: orders are at most MAX_TRACE_ORDER (30), so the shift is exact and cheaper than `2 ** order`.
const FLAG_IN_USE = 1;
const FLAG_SPLIT = 2;
const FLAG_SUT_FAILED = 4;
const MAX_MARKERS = 1000;
const DEFAULT_PHASE_MARKER = /^PHASE\s+(\S.*)$/;

function trimZeros(counts: Float64Array): number[] {
  let n = counts.length;
  while (n > 0 && counts[n - 1] === 0) n--;
  return Array.from(counts.subarray(0, n));
}

function newPhase(name: string, line: number, livePages: number): PhaseReport {
  return { name, line, allocs: 0, allocPages: 0, frees: 0, freesUnmatched: 0, freedPages: 0, sutFailures: 0, livePagesAtStart: livePages, livePagesAtEnd: livePages, peakLivePages: livePages };
}

/**
 * Replays a parsed trace on a {@link PageAllocator}, mapping the trace's pfns onto the system under
 * test: an allocation of order n in the trace becomes `allocPages(n)`; a free is matched to its
 * allocation by the trace's pfn (or mmkit id) and frees the allocator's pfn with the order it was
 * allocated with. Alongside, it keeps the trace's own accounting ({@link ReplayReport}), which does
 * not depend on the allocator: the same trace gives the same counts on every system.
 *
 * Matching rules for kernel traces (pfn-keyed; buddy allocations are aligned to their size):
 * - a free at an allocation's first pfn with its order frees it (the common case, one lookup);
 * - a free of part of an allocation (a smaller order, or a pfn inside it, as after `split_page`)
 *   is partial: the allocation's pages are then tracked one by one and the allocator's block is
 *   freed, with its own order, when the last page goes;
 * - a free of a larger order than the allocation's frees every traced allocation in its range;
 * - a free of pages no allocation holds was allocated before the capture began (counted only);
 * - an allocation of pages the trace still holds means a free was missed: the old allocation is
 *   freed first and the event counted.
 * Annotations (`FreeBatched`, `PcpuDrain`, `ZoneLocked`, `ExtFrag`) are counted, never replayed.
 *
 * Data: a {@link KeySlotMap} (open addressing in typed arrays) from trace pfn (or `-1 - id`) to a
 * slot in typed arrays (allocator pfn, order, pages left, flags), and a second one from every
 * other page of an unsplit allocation to its slot; no object per allocation.
 *
 * Cost per allocation: the allocator's `allocPages`, two lookups (its pfn, and the interior
 * map that finds an allocation covering it), plus 2^order lookups and inserts when the order is
 * above 0 (the interior map holds every page but the first of an unsplit allocation). Per
 * free: one lookup in the common case; O(2^order) for partial, mismatched or unmatched frees.
 * An allocation the allocator cannot serve is counted ({@link ReplayReport.sutFailures}) and the
 * replay goes on: it returned -1 (out of memory), or it refused the order as out of range
 * (an error with code `ERR_OUT_OF_RANGE`: above its largest order; {@link ReplayReport.sutOrderTooLarge}).
 * If the allocator throws anything else, the replay stops with {@link TraceError}
 * (`ERR_TRACE_REPLAY`) naming the line; the replayer is then mid-event and should be discarded.
 *
 * @example
 * ```ts
 * const replayer = new TraceReplayer(buddy, { sampleEvery: 1000, onSample: (p) => samples.push(fragmentation(buddy)) });
 * for (const r of parseTraceText(text)) replayer.apply(r);
 * replayer.report().freesUnmatched; // frees of pages allocated before the capture
 * ```
 */
export class TraceReplayer {
  readonly #sut: PageAllocator;
  readonly #sampleEvery: number;
  readonly #onSample: ((p: ReplayProgress) => void) | undefined;
  readonly #onPhase: ((name: string, p: ReplayProgress) => void) | undefined;
  readonly #phaseMarker: RegExp;

  /** Trace key (pfn, or -1 - id) -> slot. Unsplit allocations have their first pfn here; split ones each live page. */
  readonly #live = new KeySlotMap();
  #sutPfn = new Float64Array(64);
  #head = new Float64Array(64);
  #remaining = new Float64Array(64);
  #order = new Uint8Array(64);
  #flags = new Uint8Array(64);
  #freeSlots = new Int32Array(64);
  #freeTop = 0;
  #slotsUsed = 0;
  /** Live unsplit allocations per order (what check() holds the slots to). */
  readonly #unsplitByOrder = new Int32Array(MAX_TRACE_ORDER + 1);
  /**
   * Every page but the first of each live unsplit pfn-keyed allocation above order 0 -> its slot:
   * the allocation covering a pfn is one lookup, not one per order (an allocation, and a free that
   * matches no first pfn, each ask).
   */
  readonly #interior = new KeySlotMap();

  readonly #events = new Float64Array(TRACE_EVENT_KIND_NAMES.length);
  readonly #unknown = new Map<string, number>();
  #lost = 0;
  readonly #allocsByOrder = new Float64Array(MAX_TRACE_ORDER + 1);
  readonly #failuresByOrder = new Float64Array(MAX_TRACE_ORDER + 1);
  #allocPages = 0;
  #freesMatched = 0;
  #freesUnmatched = 0;
  #freesUnmatchedPages = 0;
  #freesOrderMismatch = 0;
  #freesPartial = 0;
  #freesOfFailed = 0;
  #allocsOverLive = 0;
  #liveAllocs = 0;
  #livePages = 0;
  #peakPages = 0;
  #peakAllocs = 0;
  #sutFailures = 0;
  #sutOrderTooLarge = 0;
  #pageEvents = 0;
  #line = 0;
  readonly #phases: PhaseReport[] = [];
  #phase: PhaseReport | null = null;
  readonly #markers: { line: number; text: string; time: number }[] = [];
  readonly #fronts: readonly PageAllocator[];
  #cpuAllocs = new Float64Array(8);
  #cpuFrees = new Float64Array(8);
  #cpuFailed = new Float64Array(8);
  #maxCpu = -1;
  /** The allocator face of the event being replayed (its CPU's front, or the allocator). */
  #face: PageAllocator;
  #time = Number.NaN;
  // Set by #releaseRange for the caller to classify a free.
  #rangeMismatch = false;
  #rangePartial = false;

  constructor(allocator: PageAllocator, options: ReplayOptions = {}) {
    if (allocator === null || typeof allocator !== "object" || typeof allocator.allocPages !== "function" || typeof allocator.freePages !== "function") {
      throw new MmkitError(ErrorCode.InvalidArgument, `allocator must have allocPages(order) and freePages(pfn, order), got ${describeValue(allocator)}`);
    }
    const { sampleEvery, onSample, onPhase, phaseMarker = DEFAULT_PHASE_MARKER, fronts = [] } = options;
    if (!Array.isArray(fronts) || fronts.some((f) => f === null || typeof f !== "object" || typeof f.allocPages !== "function" || typeof f.freePages !== "function")) {
      throw new MmkitError(ErrorCode.InvalidArgument, `fronts must be an array of page allocators, got ${describeValue(fronts)}`);
    }
    if (sampleEvery !== undefined) requireInteger(sampleEvery, "sampleEvery", 1);
    if (onSample !== undefined && typeof onSample !== "function") throw new MmkitError(ErrorCode.InvalidArgument, `onSample must be a function, got ${describeValue(onSample)}`);
    if (onPhase !== undefined && typeof onPhase !== "function") throw new MmkitError(ErrorCode.InvalidArgument, `onPhase must be a function, got ${describeValue(onPhase)}`);
    if (!(phaseMarker instanceof RegExp)) throw new MmkitError(ErrorCode.InvalidArgument, `phaseMarker must be a RegExp, got ${describeValue(phaseMarker)}`);
    if ((sampleEvery === undefined) !== (onSample === undefined)) {
      throw new MmkitError(ErrorCode.InvalidArgument, `sampleEvery and onSample go together, got sampleEvery ${describeValue(sampleEvery)}`);
    }
    this.#sut = allocator;
    this.#face = allocator;
    this.#fronts = fronts;
    this.#sampleEvery = sampleEvery ?? 0;
    this.#onSample = onSample;
    this.#onPhase = onPhase;
    this.#phaseMarker = phaseMarker;
  }

  /** Allocations the trace holds now. */
  get liveAllocations(): number {
    return this.#liveAllocs;
  }

  /** Pages the trace holds now. */
  get livePages(): number {
    return this.#livePages;
  }

  /**
   * Replays one record. Throws `MmkitError` (`ERR_INVALID_ARGUMENT`) for a record that no parser
   * makes (unknown kind, bad order, both or neither of pfn and id), leaving the replayer as it
   * was; throws {@link TraceError} (`ERR_TRACE_REPLAY`) when the allocator throws or returns
   * something other than a pfn or -1.
   *
   * Cost: see the class; O(1) for annotations and markers.
   *
   * @example
   * ```ts
   * replayer.apply({ kind: TraceEventKind.Alloc, line: 1, pfn: 0x1baa, id: -1, order: 1, count: 1, text: "" });
   * ```
   */
  apply(record: TraceRecord): void {
    const kind = record.kind;
    if (kind === TraceEventKind.Alloc || kind === TraceEventKind.Free) {
      const key = this.#validatePageRecord(record);
      this.#event(kind, record.line, key, record.order, -1, Number.NaN, record.text);
      return;
    }
    if (!(kind >= 0 && kind < TRACE_EVENT_KIND_NAMES.length) || !Number.isInteger(kind)) {
      throw new MmkitError(ErrorCode.InvalidArgument, `record.kind must be a TraceEventKind, got ${describeValue(kind)} (line ${describeValue(record.line)})`);
    }
    if (kind === TraceEventKind.Lost && !(Number.isSafeInteger(record.count) && record.count >= 0)) {
      throw new MmkitError(ErrorCode.InvalidArgument, `a Lost record's count must be a non-negative integer, got ${describeValue(record.count)} (line ${describeValue(record.line)})`);
    }
    this.#event(kind, record.line, kind === TraceEventKind.Lost ? record.count : record.pfn, record.order, -1, Number.NaN, record.text);
  }

  /**
   * Replays events `from` to `to` (exclusive) of a batch, through the front of the CPU each names
   * (see {@link ReplayOptions.fronts}). The batch comes from the trace parser, whose values are
   * valid by construction; no object is made per event.
   *
   * Cost: that of {@link apply} per event, without the record.
   *
   * @example
   * ```ts
   * await streamTraceBatches("trace.txt.gz", (batch) => replayer.applyBatch(batch));
   * ```
   */
  applyBatch(batch: TraceEventBatch, from = 0, to = batch.length): void {
    const { kind, line, key, order, cpu, time, texts } = batch;
    for (let i = from; i < to; i++) {
      const k = kind[i]! as TraceEventKind;
      const o = order[i]!;
      const pageEvent = k === K_ALLOC || k === K_FREE;
      if (pageEvent && !(o >= 0 && o <= MAX_TRACE_ORDER) && !(o === -1 && k === K_FREE && key[i]! < 0)) {
        throw new MmkitError(ErrorCode.OutOfRange, `event at line ${line[i]} has order ${o}, not in [0, ${MAX_TRACE_ORDER}]`);
      }
      const text = k === K_MARKER || k === K_UNKNOWN ? texts[key[i]!]! : k === K_LOST ? `cpu ${cpu[i]}` : "";
      this.#event(k, line[i]!, key[i]!, o, cpu[i]!, time[i]!, text);
    }
  }

  /** One event: `key` is the pfn or -1 - id for page events, the count for Lost. */
  #event(kind: TraceEventKind, line: number, key: number, order: number, cpu: number, time: number, text: string): void {
    this.#line = line;
    this.#time = time;
    this.#events[kind]++;
    switch (kind) {
      case K_ALLOC:
      case K_FREE:
      case K_ALLOC_FAILED:
        this.#onCpu(cpu, kind);
        this.#currentPhase(); // opened before the event changes livePages, so livePagesAtStart is right
        if (kind === K_ALLOC) this.#alloc(key, key >= 0, order);
        else if (kind === K_FREE) this.#free(key, key >= 0, order);
        this.#afterPageEvent();
        return;
      case K_MARKER:
        this.#marker(text, line);
        return;
      case K_UNKNOWN:
        this.#unknown.set(text, (this.#unknown.get(text) ?? 0) + 1);
        return;
      case K_LOST:
        this.#lost += key;
        return;
      default:
        return; // annotations: counted only
    }
  }

  /** Selects the face of `cpu` and counts the event for it. */
  #onCpu(cpu: number, kind: TraceEventKind): void {
    if (cpu < 0) {
      this.#face = this.#sut;
      return;
    }
    this.#face = this.#fronts.length === 0 ? this.#sut : this.#fronts[cpu % this.#fronts.length]!;
    if (cpu >= this.#cpuAllocs.length) {
      const n = Math.max(cpu + 1, this.#cpuAllocs.length * 2);
      const grow = (a: Float64Array<ArrayBuffer>): Float64Array<ArrayBuffer> => {
        const b = new Float64Array(n);
        b.set(a);
        return b;
      };
      this.#cpuAllocs = grow(this.#cpuAllocs);
      this.#cpuFrees = grow(this.#cpuFrees);
      this.#cpuFailed = grow(this.#cpuFailed);
    }
    if (cpu > this.#maxCpu) this.#maxCpu = cpu;
    if (kind === K_ALLOC) this.#cpuAllocs[cpu]++;
    else if (kind === K_FREE) this.#cpuFrees[cpu]++;
    else this.#cpuFailed[cpu]++;
  }

  /**
   * The accounting so far (a fresh object each call; phases and markers are copies).
   *
   * @example
   * ```ts
   * const { allocsByOrder, peakLivePages, sutFailures } = replayer.report();
   * ```
   */
  report(): ReplayReport {
    const events = {} as Record<TraceEventKindName, number>;
    TRACE_EVENT_KIND_NAMES.forEach((name, kind) => (events[name] = this.#events[kind]!));
    return {
      events,
      unknownEvents: Object.fromEntries(this.#unknown),
      lostEvents: this.#lost,
      allocsByOrder: trimZeros(this.#allocsByOrder),
      allocPages: this.#allocPages,
      freesMatched: this.#freesMatched,
      freesUnmatched: this.#freesUnmatched,
      freesUnmatchedPages: this.#freesUnmatchedPages,
      freesOrderMismatch: this.#freesOrderMismatch,
      freesPartial: this.#freesPartial,
      freesOfFailedAllocs: this.#freesOfFailed,
      allocsOverLive: this.#allocsOverLive,
      liveAllocationsAtEnd: this.#liveAllocs,
      livePagesAtEnd: this.#livePages,
      peakLivePages: this.#peakPages,
      peakLiveAllocations: this.#peakAllocs,
      sutFailures: this.#sutFailures,
      sutFailuresByOrder: trimZeros(this.#failuresByOrder),
      sutOrderTooLarge: this.#sutOrderTooLarge,
      phases: this.#phases.map((p) => ({ ...p })),
      markers: this.#markers.map((m) => ({ ...m })),
      perCpu: {
        allocs: Array.from(this.#cpuAllocs.subarray(0, this.#maxCpu + 1)),
        frees: Array.from(this.#cpuFrees.subarray(0, this.#maxCpu + 1)),
        allocFailed: Array.from(this.#cpuFailed.subarray(0, this.#maxCpu + 1)),
      },
    };
  }

  /**
   * Validates every invariant of the live-allocation tables and throws
   * `MmkitError(ERR_INVARIANT)` on the first one broken: every map entry points at a slot in use
   * that covers its key; an unsplit allocation has exactly its first pfn in the map and all its
   * pages left; a split one has exactly its pages left in the map; slot, page and allocation
   * counts agree; no slot is both free and in use.
   *
   * Cost: O(live pages + slots).
   *
   * @example
   * ```ts
   * for (const r of records) { replayer.apply(r); replayer.check(); }
   * ```
   */
  check(): void {
    const fail = (what: string): never => {
      throw new MmkitError(ErrorCode.Invariant, `trace replayer: ${what}`);
    };
    const mapped = new Float64Array(this.#slotsUsed);
    for (const [key, slot] of this.#live) {
      if (!(slot >= 0 && slot < this.#slotsUsed) || (this.#flags[slot]! & FLAG_IN_USE) === 0) fail(`key ${key} maps to slot ${slot}, not in use`);
      const head = this.#head[slot]!;
      if ((this.#flags[slot]! & FLAG_SPLIT) === 0) {
        if (key !== head) fail(`key ${key} maps to unsplit slot ${slot} whose first key is ${head}`);
      } else if (!(key >= head && key < head + 2 ** this.#order[slot]!)) {
        fail(`key ${key} is outside split slot ${slot} [${head}, ${head + 2 ** this.#order[slot]!})`);
      }
      mapped[slot]!++;
    }
    let inUse = 0;
    let pages = 0;
    let interior = 0;
    for (let s = 0; s < this.#slotsUsed; s++) {
      if ((this.#flags[s]! & FLAG_IN_USE) === 0) continue;
      inUse++;
      const size = 2 ** this.#order[s]!;
      const left = this.#remaining[s]!;
      pages += left;
      if ((this.#flags[s]! & FLAG_SPLIT) === 0) {
        if (left !== size || mapped[s] !== 1) fail(`unsplit slot ${s} has ${left} of ${size} pages left and ${mapped[s]} keys`);
        // No other allocation's key may fall inside an unsplit allocation; its other pages are its interior.
        const head = this.#head[s]!;
        if (head >= 0 && size > 1) {
          for (let i = 1; i < size; i++) {
            if (this.#live.has(head + i)) fail(`pfn ${head + i} is mapped inside unsplit allocation at ${head}`);
            if (this.#interior.get(head + i) !== s) fail(`pfn ${head + i} of unsplit allocation at ${head} is not in its interior`);
          }
          interior += size - 1;
        }
      } else if (!(left >= 1 && left < size) || mapped[s] !== left) {
        fail(`split slot ${s} has ${left} of ${size} pages left and ${mapped[s]} keys`);
      }
    }
    const unsplit = new Int32Array(MAX_TRACE_ORDER + 1);
    for (let s = 0; s < this.#slotsUsed; s++) if ((this.#flags[s]! & (FLAG_IN_USE | FLAG_SPLIT)) === FLAG_IN_USE) unsplit[this.#order[s]!]!++;
    for (let o = 0; o <= MAX_TRACE_ORDER; o++) if (unsplit[o] !== this.#unsplitByOrder[o]) fail(`${unsplit[o]} unsplit order-${o} slots but the count says ${this.#unsplitByOrder[o]}`);
    if (interior !== this.#interior.size) fail(`${this.#interior.size} interior pages mapped but unsplit allocations have ${interior}`);
    if (inUse !== this.#liveAllocs) fail(`${inUse} slots in use but ${this.#liveAllocs} live allocations`);
    if (pages !== this.#livePages) fail(`slots hold ${pages} pages but livePages is ${this.#livePages}`);
    if (inUse + this.#freeTop !== this.#slotsUsed) fail(`${inUse} in use + ${this.#freeTop} free != ${this.#slotsUsed} slots`);
    for (let i = 0; i < this.#freeTop; i++) {
      const s = this.#freeSlots[i]!;
      if ((this.#flags[s]! & FLAG_IN_USE) !== 0) fail(`slot ${s} is on the free list and in use`);
    }
    if (this.#peakPages < this.#livePages) fail(`peak ${this.#peakPages} below live ${this.#livePages}`);
  }

  #validatePageRecord(record: TraceRecord): number {
    const { pfn, id, order } = record;
    const byPfn = Number.isSafeInteger(pfn) && pfn >= 0 && id === -1;
    const byId = Number.isSafeInteger(id) && id >= 0 && pfn === -1;
    if (!byPfn && !byId) {
      throw new MmkitError(ErrorCode.InvalidArgument, `record at line ${describeValue(record.line)} must have a pfn or an id (the other -1), got pfn ${describeValue(pfn)} and id ${describeValue(id)}`);
    }
    const orderOk = Number.isInteger(order) && order >= 0 && order <= MAX_TRACE_ORDER;
    if (!orderOk && !(order === -1 && byId && record.kind === TraceEventKind.Free)) {
      throw new MmkitError(ErrorCode.OutOfRange, `record at line ${describeValue(record.line)} has order ${describeValue(order)}, not in [0, ${MAX_TRACE_ORDER}]`);
    }
    if (byPfn && !Number.isSafeInteger(pfn + 2 ** order)) {
      throw new MmkitError(ErrorCode.OutOfRange, `record at line ${describeValue(record.line)}: pfn ${pfn} + 2^${order} pages is beyond 2^53`);
    }
    return byPfn ? pfn : -1 - id;
  }

  #currentPhase(): PhaseReport {
    if (this.#phase === null) {
      this.#phase = newPhase("", 0, this.#livePages);
      this.#phases.push(this.#phase);
    }
    return this.#phase;
  }

  #marker(text: string, line: number): void {
    if (this.#markers.length < MAX_MARKERS) this.#markers.push({ line, text, time: this.#time });
    const m = this.#phaseMarker.exec(text);
    if (m === null) return;
    const name = (m[1] ?? "").trim();
    this.#phase = newPhase(name, line, this.#livePages);
    this.#phases.push(this.#phase);
    this.#onPhase?.(name, this.#progress());
  }

  #progress(): ReplayProgress {
    return {
      pageEvents: this.#pageEvents,
      line: this.#line,
      phase: this.#phase?.name ?? "",
      liveAllocations: this.#liveAllocs,
      livePages: this.#livePages,
      peakLivePages: this.#peakPages,
      sutFailures: this.#sutFailures,
    };
  }

  #afterPageEvent(): void {
    const phase = this.#currentPhase();
    phase.livePagesAtEnd = this.#livePages;
    if (this.#livePages > phase.peakLivePages) phase.peakLivePages = this.#livePages;
    this.#pageEvents++;
    if (this.#sampleEvery !== 0 && this.#pageEvents % this.#sampleEvery === 0) this.#onSample!(this.#progress());
  }

  #alloc(key: number, byPfn: boolean, order: number): void {
    const size = 1 << order;
    // Pages the trace still holds are being allocated again: their free was not traced.
    let overLive: boolean;
    // Where the new key goes when one probe showed nothing holds its page (the common order-0 case), else -1.
    let bucket = -1;
    if (byPfn) {
      const at = order === 0 ? this.#live.probe(key) : 0;
      if (at < 0 && this.#interior.get(key) === undefined) {
        overLive = false;
        bucket = -1 - at;
      } else overLive = this.#releaseRange(key, size) > 0;
    } else {
      const old = this.#live.get(key);
      overLive = old !== undefined;
      if (old !== undefined) this.#retire(old);
    }
    if (overLive) this.#allocsOverLive++;
    let sutPfn: number;
    try {
      sutPfn = this.#face.allocPages(order);
    } catch (e) {
      // An order the system does not have is an allocation it cannot serve: counted, and the replay goes on.
      if (e instanceof Error && (e as { code?: unknown }).code === ErrorCode.OutOfRange) {
        this.#sutOrderTooLarge++;
        sutPfn = -1;
      } else {
        throw new TraceError(TraceErrorCode.Replay, this.#line, `the allocator threw on allocPages(${order}): ${e instanceof Error ? e.message : String(e)}`, "", { cause: e });
      }
    }
    if (!Number.isSafeInteger(sutPfn) || sutPfn < -1) {
      throw new TraceError(TraceErrorCode.Replay, this.#line, `allocPages(${order}) returned ${describeValue(sutPfn)}, not a pfn or -1`, "");
    }
    const slot = this.#newSlot();
    this.#sutPfn[slot] = sutPfn;
    this.#head[slot] = key;
    this.#remaining[slot] = size;
    this.#order[slot] = order;
    this.#flags[slot] = sutPfn === -1 ? FLAG_IN_USE | FLAG_SUT_FAILED : FLAG_IN_USE;
    if (bucket !== -1) this.#live.insertAt(bucket, key, slot);
    else this.#live.set(key, slot);
    if (order > 0 && key >= 0) this.#setInterior(slot, true);
    this.#unsplitByOrder[order]!++;
    this.#liveAllocs++;
    this.#livePages += size;
    if (this.#livePages > this.#peakPages) this.#peakPages = this.#livePages;
    if (this.#liveAllocs > this.#peakAllocs) this.#peakAllocs = this.#liveAllocs;
    this.#allocsByOrder[order]++;
    this.#allocPages += size;
    const phase = this.#currentPhase();
    phase.allocs++;
    phase.allocPages += size;
    if (sutPfn === -1) {
      this.#sutFailures++;
      this.#failuresByOrder[order]++;
      phase.sutFailures++;
    }
  }

  #free(key: number, byPfn: boolean, order: number): void {
    const phase = this.#currentPhase();
    if (!byPfn) {
      const slot = this.#live.get(key);
      if (slot === undefined) {
        this.#freesUnmatched++;
        if (order >= 0) this.#freesUnmatchedPages += 2 ** order;
        phase.freesUnmatched++;
        return;
      }
      if (order !== -1 && order !== this.#order[slot]) this.#freesOrderMismatch++;
      this.#freesMatched++;
      phase.frees++;
      phase.freedPages += this.#remaining[slot]!;
      this.#retire(slot);
      return;
    }
    const size = 1 << order;
    const live = this.#live;
    const bucket = live.find(key);
    const slot = bucket === -1 ? -1 : live.slotAt(bucket);
    if (slot !== -1 && this.#order[slot] === order && (this.#flags[slot]! & FLAG_SPLIT) === 0) {
      // The common case: the whole allocation, at its first pfn, with its order (one probe for the look and the delete).
      this.#freesMatched++;
      phase.frees++;
      phase.freedPages += size;
      live.deleteAt(bucket);
      this.#setInterior(slot, false);
      this.#livePages -= size;
      this.#remaining[slot] = 0;
      this.#finish(slot);
      return;
    }
    const freed = this.#releaseRange(key, size);
    if (freed === 0) {
      this.#freesUnmatched++;
      this.#freesUnmatchedPages += size;
      phase.freesUnmatched++;
      return;
    }
    this.#freesMatched++;
    phase.frees++;
    phase.freedPages += freed;
    if (this.#rangeMismatch) this.#freesOrderMismatch++;
    if (this.#rangePartial) this.#freesPartial++;
  }

  /** Adds (or removes) the interior pages of unsplit pfn-keyed allocation `slot` to {@link #interior}. O(2^order). */
  #setInterior(slot: number, add: boolean): void {
    const head = this.#head[slot]!;
    const size = 1 << this.#order[slot]!;
    if (head < 0 || size === 1) return;
    const interior = this.#interior;
    if (add) for (let i = 1; i < size; i++) interior.set(head + i, slot);
    else for (let i = 1; i < size; i++) interior.delete(head + i);
  }

  /**
   * Releases every traced page in [pfn, pfn + count): whole allocations inside the range are
   * retired; allocations that straddle it are split and lose the pages inside. Returns the pages
   * released; sets #rangeMismatch / #rangePartial for the caller.
   */
  #releaseRange(pfn: number, count: number): number {
    this.#rangeMismatch = false;
    this.#rangePartial = false;
    const end = pfn + count;
    let released = 0;
    let p = pfn;
    while (p < end) {
      let slot = this.#live.get(p);
      // An unsplit allocation covering pfn without starting at it (only the first page can meet one: later ones start in the range).
      if (slot === undefined && p === pfn) slot = this.#interior.get(p);
      if (slot === undefined) {
        p++;
        continue;
      }
      const size = 1 << this.#order[slot]!;
      if ((this.#flags[slot]! & FLAG_SPLIT) === 0 && this.#head[slot] === p && p + size <= end) {
        if (size !== count) this.#rangeMismatch = true;
        released += size;
        this.#retire(slot);
        p += size;
        continue;
      }
      // Part of an allocation: track its pages one by one from now on, and release page p.
      this.#rangeMismatch = true;
      this.#rangePartial = true;
      if ((this.#flags[slot]! & FLAG_SPLIT) === 0) {
        const head = this.#head[slot]!;
        this.#setInterior(slot, false);
        for (let i = 1; i < size; i++) this.#live.set(head + i, slot);
        this.#flags[slot]! |= FLAG_SPLIT;
        this.#unsplitByOrder[this.#order[slot]!]!--;
      }
      this.#live.delete(p);
      this.#livePages--;
      released++;
      if (--this.#remaining[slot]! === 0) this.#finish(slot);
      p++;
    }
    return released;
  }

  /** Ends a whole allocation: removes its keys, gives its pages back to the allocator. */
  #retire(slot: number): void {
    const head = this.#head[slot]!;
    if ((this.#flags[slot]! & FLAG_SPLIT) === 0) {
      this.#live.delete(head);
      this.#setInterior(slot, false);
    } else {
      const size = 1 << this.#order[slot]!;
      for (let i = 0; i < size; i++) if (this.#live.get(head + i) === slot) this.#live.delete(head + i);
    }
    this.#livePages -= this.#remaining[slot]!;
    this.#remaining[slot] = 0;
    this.#finish(slot);
  }

  /** The allocation has no pages left in the trace: free it in the allocator and recycle the slot. */
  #finish(slot: number): void {
    this.#liveAllocs--;
    const flags = this.#flags[slot]!;
    this.#flags[slot] = 0;
    if ((flags & FLAG_SPLIT) === 0) this.#unsplitByOrder[this.#order[slot]!]!--;
    this.#pushFreeSlot(slot);
    if ((flags & FLAG_SUT_FAILED) !== 0) {
      this.#freesOfFailed++;
      return;
    }
    const order = this.#order[slot]!;
    const sutPfn = this.#sutPfn[slot]!;
    try {
      this.#face.freePages(sutPfn, order);
    } catch (e) {
      throw new TraceError(TraceErrorCode.Replay, this.#line, `the allocator threw on freePages(${sutPfn}, ${order}): ${e instanceof Error ? e.message : String(e)}`, "", { cause: e });
    }
  }

  #newSlot(): number {
    if (this.#freeTop > 0) return this.#freeSlots[--this.#freeTop]!;
    if (this.#slotsUsed === this.#flags.length) {
      const n = this.#flags.length * 2;
      const grow = <T extends Float64Array | Uint8Array>(old: T, make: (n: number) => T): T => {
        const a = make(n);
        a.set(old);
        return a;
      };
      this.#sutPfn = grow(this.#sutPfn, (k) => new Float64Array(k));
      this.#head = grow(this.#head, (k) => new Float64Array(k));
      this.#remaining = grow(this.#remaining, (k) => new Float64Array(k));
      this.#order = grow(this.#order, (k) => new Uint8Array(k));
      this.#flags = grow(this.#flags, (k) => new Uint8Array(k));
    }
    return this.#slotsUsed++;
  }

  #pushFreeSlot(slot: number): void {
    if (this.#freeTop === this.#freeSlots.length) {
      const a = new Int32Array(this.#freeSlots.length * 2);
      a.set(this.#freeSlots);
      this.#freeSlots = a;
    }
    this.#freeSlots[this.#freeTop++] = slot;
  }
}

/**
 * Replays every record of `records` on `allocator` and returns the report. See
 * {@link TraceReplayer} for the matching rules, hooks and costs.
 *
 * @example
 * ```ts
 * const report = replayTrace(parseTraceText(text), buddy);
 * report.allocsByOrder;   // [12267, 341, 7, 1, 0, 0, 0, 0, 0, 1] for the Linux 6.1 sample
 * ```
 */
export function replayTrace(records: Iterable<TraceRecord>, allocator: PageAllocator, options: ReplayOptions = {}): ReplayReport {
  const replayer = new TraceReplayer(allocator, options);
  for (const r of records) replayer.apply(r);
  return replayer.report();
}
