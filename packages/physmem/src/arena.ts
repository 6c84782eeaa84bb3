import { ErrorCode, MmkitError, describeValue } from "./errors.js";

/** The typed-array kinds an arena hands out. */
export type TypedArrayKind = "uint8" | "int8" | "uint16" | "int16" | "uint32" | "int32" | "float64";

/** Any typed array an arena can hand out. */
export type MetadataArray = Uint8Array | Int8Array | Uint16Array | Int16Array | Uint32Array | Int32Array | Float64Array;

/**
 * What an allocator needs from an arena: typed arrays with a label, and a way to give them back.
 * Allocators declare their dependency on this narrow face; {@link MetadataArena} and
 * {@link ProbingArena} implement it.
 *
 * @example
 * ```ts
 * const arena: ArrayFactory = new MetadataArena();
 * const next = arena.int32(1024, "free-list next");   // 4 KiB, counted under its label
 * arena.release(next);                                // its bytes stop counting
 * ```
 */
export interface ArrayFactory {
  /** A zeroed `Uint8Array` of `length` elements, counted under `label`. */
  uint8(length: number, label: string): Uint8Array;
  /** A zeroed `Int8Array` of `length` elements, counted under `label`. */
  int8(length: number, label: string): Int8Array;
  /** A zeroed `Uint16Array` of `length` elements, counted under `label`. */
  uint16(length: number, label: string): Uint16Array;
  /** A zeroed `Int16Array` of `length` elements, counted under `label`. */
  int16(length: number, label: string): Int16Array;
  /** A zeroed `Uint32Array` of `length` elements, counted under `label`. */
  uint32(length: number, label: string): Uint32Array;
  /** A zeroed `Int32Array` of `length` elements, counted under `label`. */
  int32(length: number, label: string): Int32Array;
  /** A zeroed `Float64Array` of `length` elements, counted under `label`. */
  float64(length: number, label: string): Float64Array;
  /** Gives an array back; its bytes stop counting. Releasing an array twice is an error. */
  release(array: MetadataArray): void;
}

/**
 * Options for {@link MetadataArena}.
 *
 * @example
 * ```ts
 * new MetadataArena({ shared: true }).int32(16, "next").buffer instanceof SharedArrayBuffer;   // true
 * ```
 */
export interface MetadataArenaOptions {
  /** Allocate every array over a `SharedArrayBuffer` so worker threads can share the metadata. */
  shared?: boolean;
}

/** Per-label byte counts, as {@link MetadataArena.byLabel} returns them. */
export type LabelBytes = Record<string, number>;

const CONSTRUCTORS = {
  uint8: Uint8Array,
  int8: Int8Array,
  uint16: Uint16Array,
  int16: Int16Array,
  uint32: Uint32Array,
  int32: Int32Array,
  float64: Float64Array,
} as const;

interface Record_ {
  label: string;
  bytes: number;
}

/**
 * The factory allocators get their typed arrays from. It counts live and peak bytes per label, so
 * "metadata bytes per managed byte" is a measurement. It can be sealed, so that a test can prove an
 * operation (a free, say) allocates no metadata at all.
 *
 * Cost: one `Map` insertion per array handed out; nothing per element access.
 *
 * @example
 * ```ts
 * const arena = new MetadataArena();
 * const next = arena.int32(1024, "free-list next");
 * arena.bytes;              // 4096
 * arena.byLabel();          // { "free-list next": 4096 }
 * ```
 */
export class MetadataArena implements ArrayFactory {
  /** True when arrays are made over `SharedArrayBuffer`s (option `shared`). */
  readonly shared: boolean;
  #live = new Map<MetadataArray, Record_>();
  #byLabel = new Map<string, number>();
  #bytes = 0;
  #peak = 0;
  #allocations = 0;
  #sealed = 0;

  constructor(options: MetadataArenaOptions = {}) {
    if (options === null || typeof options !== "object") {
      throw new MmkitError(ErrorCode.InvalidArgument, `arena options must be an object, got ${describeValue(options)}`);
    }
    const shared = options.shared ?? false;
    if (typeof shared !== "boolean") throw new MmkitError(ErrorCode.InvalidArgument, `shared must be a boolean, got ${describeValue(shared)}`);
    this.shared = shared;
  }

  /** Live metadata bytes. */
  get bytes(): number {
    return this.#bytes;
  }
  /** The most live bytes there ever were. */
  get peakBytes(): number {
    return this.#peak;
  }
  /** Arrays handed out so far (released ones included). */
  get allocations(): number {
    return this.#allocations;
  }
  /** True while sealed: any allocation throws `ERR_ARENA_SEALED`. */
  get sealed(): boolean {
    return this.#sealed > 0;
  }

  /** Live bytes per label. */
  byLabel(): LabelBytes {
    const out: LabelBytes = {};
    for (const [label, bytes] of this.#byLabel) if (bytes > 0) out[label] = bytes;
    return out;
  }

  /** Live bytes under one label (0 when none). */
  labelBytes(label: string): number {
    return this.#byLabel.get(label) ?? 0;
  }

  /**
   * Forbids allocation until {@link unseal} (seals nest). Use it to prove an operation needs no
   * new metadata: `arena.sealWhile(() => allocator.free(addr))`.
   */
  seal(): void {
    this.#sealed++;
  }
  /** Ends one `seal()`: allocations are allowed again once every seal is undone. Throws `ERR_INVALID_STATE` if the arena is not sealed. */
  unseal(): void {
    if (this.#sealed === 0) throw new MmkitError(ErrorCode.InvalidState, "arena is not sealed");
    this.#sealed--;
  }
  /** Runs `fn` with the arena sealed and returns its result. */
  sealWhile<T>(fn: () => T): T {
    if (typeof fn !== "function") throw new MmkitError(ErrorCode.InvalidArgument, `sealWhile needs a function, got ${describeValue(fn)}`);
    this.seal();
    try {
      return fn();
    } finally {
      this.unseal();
    }
  }

  uint8(length: number, label: string): Uint8Array {
    return this.allocate("uint8", length, label) as Uint8Array;
  }
  int8(length: number, label: string): Int8Array {
    return this.allocate("int8", length, label) as Int8Array;
  }
  uint16(length: number, label: string): Uint16Array {
    return this.allocate("uint16", length, label) as Uint16Array;
  }
  int16(length: number, label: string): Int16Array {
    return this.allocate("int16", length, label) as Int16Array;
  }
  uint32(length: number, label: string): Uint32Array {
    return this.allocate("uint32", length, label) as Uint32Array;
  }
  int32(length: number, label: string): Int32Array {
    return this.allocate("int32", length, label) as Int32Array;
  }
  float64(length: number, label: string): Float64Array {
    return this.allocate("float64", length, label) as Float64Array;
  }

  /** Allocates a zero-filled array of `kind`. */
  allocate(kind: TypedArrayKind, length: number, label: string): MetadataArray {
    if (this.#sealed > 0) {
      throw new MmkitError(ErrorCode.ArenaSealed, `arena is sealed: refused ${kind}[${describeValue(length)}] for ${JSON.stringify(label)}`);
    }
    if (!Number.isSafeInteger(length) || length < 0) {
      throw new MmkitError(ErrorCode.InvalidArgument, `array length must be a non-negative integer, got ${describeValue(length)}`);
    }
    const ctor = Object.hasOwn(CONSTRUCTORS, kind) ? CONSTRUCTORS[kind] : undefined;
    if (ctor === undefined) throw new MmkitError(ErrorCode.InvalidArgument, `unknown array kind ${describeValue(kind)}`);
    if (typeof label !== "string") throw new MmkitError(ErrorCode.InvalidArgument, `array label must be a string, got ${describeValue(label)}`);
    const bytes = length * ctor.BYTES_PER_ELEMENT;
    let array: MetadataArray;
    try {
      // The constructors are a union, so TypeScript cannot pick an overload for a SharedArrayBuffer.
      array = this.shared ? new ctor(new SharedArrayBuffer(bytes) as unknown as ArrayBuffer) : new ctor(length);
    } catch (cause) {
      throw new MmkitError(ErrorCode.BackingTooLarge, `cannot allocate ${kind}[${length}] (${bytes} bytes) of metadata for ${JSON.stringify(label)}`, { cause });
    }
    const exposed = this.expose(array, label);
    this.#live.set(exposed, { label, bytes });
    this.#byLabel.set(label, (this.#byLabel.get(label) ?? 0) + bytes);
    this.#bytes += bytes;
    this.#allocations++;
    if (this.#bytes > this.#peak) this.#peak = this.#bytes;
    return exposed;
  }

  release(array: MetadataArray): void {
    const record = this.#live.get(array);
    if (record === undefined) {
      throw new MmkitError(ErrorCode.NotAllocated, `cannot release ${describeValue(array)}: not an array this arena handed out, or released already`);
    }
    this.#live.delete(array);
    this.#byLabel.set(record.label, (this.#byLabel.get(record.label) ?? 0) - record.bytes);
    this.#bytes -= record.bytes;
  }

  /** Hook for subclasses: what the caller receives in place of the raw array. */
  protected expose(array: MetadataArray, _label: string): MetadataArray {
    return array;
  }
}

const FACTORY_METHODS = ["uint8", "int8", "uint16", "int16", "uint32", "int32", "float64", "release"] as const;

/**
 * Throws `ERR_INVALID_ARGUMENT` unless `value` has every method of an {@link ArrayFactory}; returns
 * it. For constructors that take an `arena` option, so a wrong one is refused when it is given, not
 * when the first array is needed.
 *
 * @example
 * ```ts
 * const arena = options.arena === undefined ? new MetadataArena() : requireArrayFactory(options.arena);
 * ```
 */
export function requireArrayFactory(value: unknown, name = "arena"): ArrayFactory {
  if (value === null || typeof value !== "object" || FACTORY_METHODS.some((m) => typeof (value as Record<string, unknown>)[m] !== "function")) {
    throw new MmkitError(ErrorCode.InvalidArgument, `${name} must be an ArrayFactory (a MetadataArena or one with its methods), got ${describeValue(value)}`);
  }
  return value as ArrayFactory;
}
