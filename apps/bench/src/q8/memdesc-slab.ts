import { ErrorCode, MmkitError, SharedMetadataArena, describeValue, type SharedArenaHandle } from "@mmkit/physmem";

/**
 * The shared memory of the Q8 measurement (seed 001: can a lockless lookup survive a memdesc being
 * freed?), laid out in one {@link SharedMetadataArena} so reader and writer workers attach to it:
 *
 * | array              | what                                                                                   |
 * | ------------------ | -------------------------------------------------------------------------------------- |
 * | `memdesc records`  | int32[slots * 8]: per memdesc slot [0] type (0 free), [1] reference count, [2] first pfn, [3] pages, [4] generation; 32 bytes, 16-byte aligned as the seed asks |
 * | `descriptor table` | int32[pfns]: pfn -> memdesc slot, -1 when no memdesc describes the page (the system's descriptor table) |
 * | `epochs`           | int32[16 * (1 + readers)]: [0] the global epoch, then each reader's published epoch (0: outside a read section) on a line of its own |
 * | `reader counters`  | float64[8 * readers]: each reader's lookups, hits, misses, retries, violations into a free slot, into another type, wrong ranges, on a line of its own |
 * | `writer counters`  | float64[16]: frees, allocations, deferred frees, allocations that found no slot, epochs, slots reclaimed, held-back peak/sum/samples |
 * | `config`           | int32[16]: [0] mode, [1] slots, [2] frames, [3] pages per frame, [4] readers, [5] readers publish epochs (1) or not (0) |
 *
 * The reference count sits at the same offset in every type of memdesc (the seed's `struct
 * mappable`), so a reader's get-unless-zero on a slot that has become a slab descriptor increments
 * that descriptor's count: the violation the measurement counts.
 */
export const RECORD_INTS = 8;
/** Offsets in a record. */
export const R_TYPE = 0;
export const R_REF = 1;
export const R_FIRST = 2;
export const R_PAGES = 3;
export const R_GENERATION = 4;

/** Memdesc types; a reader's page-cache lookup wants a folio. */
export const MemdescType = { Free: 0, Folio: 1, Slab: 2, Ptdesc: 3 } as const;
/** Number of types a slot can be made (folio, slab, ptdesc). */
export const TYPE_COUNT = 3;

/**
 * How freed slots may be reused: `"reuse-at-once"` (mode a: a freed slot may be reused at once for any
 * type) or `"type-stable"` (mode b, SLAB_TYPESAFE_BY_RCU: reused at once only for the same type; for
 * another type only after every reader has passed a grace period).
 */
export type ReuseMode = "reuse-at-once" | "type-stable";
export const MODES: readonly ReuseMode[] = ["reuse-at-once", "type-stable"];

/** Ints per line: every reader's epoch and counters get a 64-byte line of their own. */
export const LINE_INTS = 16;
export const LINE_DOUBLES = 8;

/** A reader's counters (offsets in its line of `reader counters`). */
export const C_LOOKUPS = 0;
export const C_HITS = 1;
export const C_MISSES = 2;
export const C_RETRIES = 3;
export const C_VIOLATIONS_FREE = 4;
export const C_VIOLATIONS_TYPE = 5;
export const C_WRONG_RANGE = 6;

/** The writer's counters. */
export const W_FREES = 0;
export const W_ALLOCS = 1;
export const W_DEFERRED = 2;
export const W_NO_SLOT = 3;
export const W_EPOCHS = 4;
export const W_RECLAIMED = 5;
export const W_HELD_PEAK = 6;
export const W_HELD_SUM = 7;
export const W_HELD_SAMPLES = 8;
export const W_STEPS = 9;

/** The shape of a slab. */
export interface MemdescSlabOptions {
  mode: ReuseMode;
  /** Memdesc slots (records). */
  slots: number;
  /** Frames of memory a memdesc can describe: frame f is pfns [f * framePages, (f + 1) * framePages). */
  frames: number;
  /** Pages per frame (every memdesc describes one whole frame). */
  framePages: number;
  /** Reader workers (each gets an epoch word and a counter line). */
  readers: number;
  /**
   * Readers publish the epoch they entered in (default: in type-stable mode only). Reuse-at-once
   * mode with it set measures what the readers' epoch stores cost alone, the writer ignoring them.
   */
  publishEpochs?: boolean;
}

function positiveInt(name: string, value: unknown, max: number): number {
  if (typeof value !== "number" || !Number.isSafeInteger(value) || value < 1 || value > max) {
    throw new MmkitError(ErrorCode.InvalidArgument, `memdesc slab ${name} must be an integer in [1, ${max}], got ${describeValue(value)}`);
  }
  return value;
}

/**
 * A slab of memdesc records and the descriptor table that finds them, in shared memory. The
 * creator builds it ({@link MemdescSlab.create}); workers {@link MemdescSlab.attach} to its
 * {@link handle}. All slots start free and the table empty. O(slots + pfns) to create, O(1) to attach.
 *
 * @example
 * ```ts
 * const slab = MemdescSlab.create({ mode: "type-stable", slots: 640, frames: 512, framePages: 4, readers: 2 });
 * worker.postMessage(slab.handle);                    // in the worker: MemdescSlab.attach(handle)
 * ```
 */
export class MemdescSlab {
  readonly mode: ReuseMode;
  readonly slots: number;
  readonly frames: number;
  readonly framePages: number;
  readonly readers: number;
  readonly publishEpochs: boolean;
  readonly records: Int32Array;
  readonly table: Int32Array;
  readonly epochs: Int32Array;
  readonly readerCounters: Float64Array;
  readonly writerCounters: Float64Array;
  readonly #arena: SharedMetadataArena;

  private constructor(arena: SharedMetadataArena, o: Required<MemdescSlabOptions>) {
    this.#arena = arena;
    this.mode = o.mode;
    this.publishEpochs = o.publishEpochs;
    this.slots = o.slots;
    this.frames = o.frames;
    this.framePages = o.framePages;
    this.readers = o.readers;
    const config = arena.int32(16, "config");
    if (!arena.attached) {
      config[0] = MODES.indexOf(o.mode);
      config[1] = o.slots;
      config[2] = o.frames;
      config[3] = o.framePages;
      config[4] = o.readers;
      config[5] = o.publishEpochs ? 1 : 0;
    }
    this.records = arena.int32(o.slots * RECORD_INTS, "memdesc records");
    this.table = arena.int32(o.frames * o.framePages, "descriptor table");
    this.epochs = arena.int32(LINE_INTS * (1 + o.readers), "epochs");
    this.readerCounters = arena.float64(LINE_DOUBLES * o.readers, "reader counters");
    this.writerCounters = arena.float64(16, "writer counters");
    if (!arena.attached) {
      this.table.fill(-1);
      this.epochs[0] = 1;
    }
  }

  /** A new slab: every slot free, every table entry -1, epoch 1. Bad options throw `ERR_INVALID_ARGUMENT`. */
  static create(options: MemdescSlabOptions): MemdescSlab {
    if (options === null || typeof options !== "object") throw new MmkitError(ErrorCode.InvalidArgument, `memdesc slab options must be an object, got ${describeValue(options)}`);
    if (!MODES.includes(options.mode)) throw new MmkitError(ErrorCode.InvalidArgument, `memdesc slab mode must be one of ${MODES.join(", ")}, got ${describeValue(options.mode)}`);
    const slots = positiveInt("slots", options.slots, 1 << 22);
    const frames = positiveInt("frames", options.frames, 1 << 22);
    const framePages = positiveInt("framePages", options.framePages, 1024);
    const readers = positiveInt("readers", options.readers, 64);
    const publishEpochs = options.publishEpochs === undefined ? options.mode === "type-stable" : options.publishEpochs;
    if (typeof publishEpochs !== "boolean") throw new MmkitError(ErrorCode.InvalidArgument, `memdesc slab publishEpochs must be a boolean, got ${describeValue(publishEpochs)}`);
    if (options.mode === "type-stable" && !publishEpochs) throw new MmkitError(ErrorCode.InvalidArgument, "a type-stable memdesc slab needs its readers to publish epochs (publishEpochs false)");
    if (frames * framePages > 1 << 24) throw new MmkitError(ErrorCode.OutOfRange, `memdesc slab frames * framePages must be at most 2^24 pfns, got ${frames * framePages}`);
    const bytes = (16 + slots * RECORD_INTS + frames * framePages + LINE_INTS * (1 + readers)) * 4 + (LINE_DOUBLES * readers + 16) * 8 + 6 * 64;
    const arena = new SharedMetadataArena({ capacity: bytes, maxArrays: 6 });
    return new MemdescSlab(arena, { mode: options.mode, slots, frames, framePages, readers, publishEpochs });
  }

  /** The slab behind `handle`, as another worker sees it (its own views of the same memory). O(1). */
  static attach(handle: SharedArenaHandle): MemdescSlab {
    const arena = SharedMetadataArena.attach(handle);
    // The config array is the first of the layout: read it through a second, throwaway attach.
    const peek = SharedMetadataArena.attach(handle).int32(16, "config");
    const mode = MODES[peek[0]!];
    if (mode === undefined) throw new MmkitError(ErrorCode.LayoutMismatch, `memdesc slab mode word is ${peek[0]}`);
    return new MemdescSlab(arena, { mode, slots: peek[1]!, frames: peek[2]!, framePages: peek[3]!, readers: peek[4]!, publishEpochs: peek[5] === 1 });
  }

  /** The postable handle of the shared memory. */
  get handle(): SharedArenaHandle {
    return this.#arena.handle;
  }

  /** Pfns the descriptor table covers. */
  get pfns(): number {
    return this.table.length;
  }

  /** Zeroes every counter (between warm-up and the measured rounds; no worker may be running). */
  resetCounters(): void {
    this.readerCounters.fill(0);
    this.writerCounters.fill(0);
  }

  /** Sum of counter `c` over the readers. */
  readerTotal(c: number): number {
    let sum = 0;
    for (let r = 0; r < this.readers; r++) sum += this.readerCounters[r * LINE_DOUBLES + c]!;
    return sum;
  }
}
