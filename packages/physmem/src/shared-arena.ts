import type { ArrayFactory, LabelBytes, MetadataArray, TypedArrayKind } from "./arena.js";
import { ErrorCode, MmkitError, describeValue } from "./errors.js";
import { RecordingArena } from "./recording-arena.js";

/**
 * The layout of a {@link SharedMetadataArena}'s one `SharedArrayBuffer`, written down here because
 * every worker that attaches depends on it:
 *
 * | bytes                  | what                                                              |
 * | ---------------------- | ----------------------------------------------------------------- |
 * | 0..63 (int32 header)   | [0] magic `0x6d6d6b61` ("mmka"), [1] format version, [2] arrays, [3] directory slots, [4] bytes used by arrays, [5] capacity |
 * | 64..64+16*slots        | the directory, one 16-byte entry per array: [0] kind code, [1] byte offset, [2] length (elements), [3] FNV-1a hash of the label |
 * | then, 64-byte aligned  | the arrays, in the order they were asked for, each starting on its own 64-byte line |
 *
 * Each array starts on a fresh cache line, so two arrays that different workers write (a lock word,
 * one CPU's lists) never share a line.
 */
export const SHARED_ARENA_MAGIC = 0x6d6d6b61;
/** Version of the layout above; a buffer of another version is refused on attach. */
export const SHARED_ARENA_VERSION = 1;
const HEADER_BYTES = 64;
const ENTRY_INTS = 4;
const H_MAGIC = 0;
const H_VERSION = 1;
const H_COUNT = 2;
const H_SLOTS = 3;
const H_USED = 4;
const H_CAPACITY = 5;
const LINE = 64;
/** Most bytes a shared arena's arrays may take: offsets and sizes are int32s in the header. */
const MAX_CAPACITY = 2 ** 31 - LINE;

const KINDS: readonly TypedArrayKind[] = ["uint8", "int8", "uint16", "int16", "uint32", "int32", "float64"];
const CONSTRUCTORS = [Uint8Array, Int8Array, Uint16Array, Int16Array, Uint32Array, Int32Array, Float64Array] as const;

/**
 * What a worker needs to attach to a {@link SharedMetadataArena}: a plain object holding the
 * `SharedArrayBuffer`, so it survives `postMessage` (structured clone shares the buffer, copies
 * nothing).
 *
 * @example
 * ```ts
 * worker.postMessage(arena.handle);                              // shares the buffer, copies nothing
 * const same = SharedMetadataArena.attach(event.data);           // in the worker
 * ```
 */
export interface SharedArenaHandle {
  /** What this object is, checked by `attach`. */
  readonly format: "mmkit-shared-arena";
  /** Layout version ({@link SHARED_ARENA_VERSION}); `attach` refuses another. */
  readonly version: number;
  /** The buffer holding the directory and every array. */
  readonly buffer: SharedArrayBuffer;
}

/**
 * Options for {@link SharedMetadataArena}.
 *
 * @example
 * ```ts
 * const arena = new SharedMetadataArena({ capacity: 1 << 20, maxArrays: 16 });
 * ```
 */
export interface SharedMetadataArenaOptions {
  /** Bytes available to arrays (each rounded up to 64 bytes). Fixed: a full arena refuses with `ERR_ARENA_FULL`. */
  capacity: number;
  /** Most arrays the arena can hold (default 64); each costs 16 bytes of directory. */
  maxArrays?: number;
}

/** FNV-1a of a label's UTF-16 code units: enough to tell two layouts apart, not a security measure. */
function labelHash(label: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < label.length; i++) {
    h ^= label.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h | 0;
}

// The buffer `attach` hands to the constructor (set just before `new`, read and cleared at once).
let attaching: SharedArrayBuffer | null = null;

function layoutError(message: string): MmkitError {
  return new MmkitError(ErrorCode.LayoutMismatch, message);
}

/**
 * A metadata arena whose arrays all live in one `SharedArrayBuffer`, so that an allocator built on
 * it can be shared by worker threads: post {@link handle} to a worker and call
 * {@link SharedMetadataArena.attach} there. An attached arena hands out *views of the arrays that
 * already exist*, in the order they were first asked for, and checks that each request (kind,
 * length, label) is the one the creator made: the same constructor code, run in the worker, gets
 * the same typed-array layout, and anything else (another version of the code, another shape of
 * allocator) is refused with `ERR_LAYOUT_MISMATCH` before it can read the memory wrongly.
 *
 * Space is handed out by bumping a pointer: `release` stops counting an array's bytes but does not
 * reuse them (shared allocators size their metadata once, up front).
 *
 * Cost: O(1) per array; nothing per element access (the arrays are plain typed arrays).
 *
 * @example
 * ```ts
 * const arena = new SharedMetadataArena({ capacity: 1 << 20 });
 * const next = arena.int32(1024, "free-list next");
 * worker.postMessage(arena.handle);
 * // in the worker:
 * const same = SharedMetadataArena.attach(handle).int32(1024, "free-list next"); // same memory
 * ```
 */
export class SharedMetadataArena implements ArrayFactory {
  /** Always true: every array is over the shared buffer. */
  readonly shared = true;
  /** True when this arena was attached to an existing buffer rather than created. */
  readonly attached: boolean;
  readonly #buffer: SharedArrayBuffer;
  readonly #header: Int32Array;
  #cursor = 0;
  #live = new Map<MetadataArray, { label: string; bytes: number }>();
  #byLabel = new Map<string, number>();
  #bytes = 0;

  constructor(options: SharedMetadataArenaOptions) {
    const adopted = attaching;
    attaching = null;
    if (adopted !== null) {
      this.#buffer = adopted;
      this.#header = new Int32Array(adopted);
      this.attached = true;
      return;
    }
    if (options === null || typeof options !== "object") {
      throw new MmkitError(ErrorCode.InvalidArgument, `shared arena options must be an object, got ${describeValue(options)}`);
    }
    const capacity = options.capacity;
    if (typeof capacity !== "number" || !Number.isSafeInteger(capacity) || capacity < 0 || capacity > MAX_CAPACITY) {
      throw new MmkitError(ErrorCode.InvalidArgument, `capacity must be an integer number of bytes in [0, 2^31 - 64], got ${describeValue(capacity)}`);
    }
    // `=== undefined`, not `??`: null is refused, not taken for the default.
    const slots = options.maxArrays === undefined ? 64 : options.maxArrays;
    if (typeof slots !== "number" || !Number.isSafeInteger(slots) || slots < 1 || slots > 4096) {
      throw new MmkitError(ErrorCode.InvalidArgument, `maxArrays must be an integer in [1, 4096], got ${describeValue(slots)}`);
    }
    if (typeof SharedArrayBuffer !== "function") {
      throw new MmkitError(ErrorCode.InvalidState, "SharedArrayBuffer is not available (a browser page needs cross-origin isolation: COOP and COEP headers)");
    }
    const cap = Math.ceil(capacity / LINE) * LINE;
    const dataStart = Math.ceil((HEADER_BYTES + slots * ENTRY_INTS * 4) / LINE) * LINE;
    let buffer: SharedArrayBuffer;
    try {
      buffer = new SharedArrayBuffer(dataStart + cap);
    } catch (cause) {
      throw new MmkitError(ErrorCode.BackingTooLarge, `cannot allocate a shared arena of ${dataStart + cap} bytes`, { cause });
    }
    this.#buffer = buffer;
    this.#header = new Int32Array(buffer);
    const h = this.#header;
    h[H_MAGIC] = SHARED_ARENA_MAGIC;
    h[H_VERSION] = SHARED_ARENA_VERSION;
    h[H_COUNT] = 0;
    h[H_SLOTS] = slots;
    h[H_USED] = 0;
    h[H_CAPACITY] = cap;
    this.attached = false;
  }

  /**
   * Attaches to the arena behind `handle` (posted from the creating thread). Throws
   * `ERR_LAYOUT_MISMATCH` when the handle is not one, or its buffer was laid out by another
   * version of this code. O(1).
   *
   * @example
   * ```ts
   * onmessage = ({ data }) => { const arena = SharedMetadataArena.attach(data); };
   * ```
   */
  static attach(handle: SharedArenaHandle): SharedMetadataArena {
    if (handle === null || typeof handle !== "object" || handle.format !== "mmkit-shared-arena" || !(handle.buffer instanceof SharedArrayBuffer)) {
      throw layoutError(`not a shared arena handle: ${describeValue(handle)}`);
    }
    if (handle.buffer.byteLength < HEADER_BYTES) throw layoutError(`a shared arena buffer has at least ${HEADER_BYTES} bytes, this one ${handle.buffer.byteLength}`);
    const h = new Int32Array(handle.buffer, 0, HEADER_BYTES / 4);
    if (h[H_MAGIC] !== SHARED_ARENA_MAGIC) throw layoutError(`the buffer is not a shared arena (magic 0x${(h[H_MAGIC]! >>> 0).toString(16)})`);
    if (h[H_VERSION] !== SHARED_ARENA_VERSION || handle.version !== SHARED_ARENA_VERSION) {
      throw layoutError(`shared arena layout version ${h[H_VERSION]} (handle says ${describeValue(handle.version)}); this code reads version ${SHARED_ARENA_VERSION}`);
    }
    attaching = handle.buffer;
    return new SharedMetadataArena({ capacity: 0 });
  }

  /**
   * A shared arena holding copies of every array `recording` handed out, in the same order and with
   * the same kinds, lengths, labels and contents, and room for `spareBytes` more in up to
   * `spareArrays` more arrays (say, a lock word). O(bytes copied).
   *
   * @example
   * ```ts
   * const recording = new RecordingArena();
   * const built = new Thing({ arena: recording });           // the constructor fills the arrays
   * const shared = SharedMetadataArena.copyOf(recording, { spareBytes: 64, spareArrays: 1 });
   * Thing.attach(SharedMetadataArena.attach(shared.handle)); // in a worker: the same contents
   * ```
   */
  static copyOf(recording: RecordingArena, spare: { spareBytes?: number; spareArrays?: number } = {}): SharedMetadataArena {
    if (!(recording instanceof RecordingArena)) throw new MmkitError(ErrorCode.InvalidArgument, `copyOf needs a RecordingArena, got ${describeValue(recording)}`);
    if (spare === null || typeof spare !== "object") throw new MmkitError(ErrorCode.InvalidArgument, `copyOf's spare room must be an object, got ${describeValue(spare)}`);
    const spareBytes = spare.spareBytes === undefined ? 0 : spare.spareBytes;
    const spareArrays = spare.spareArrays === undefined ? 0 : spare.spareArrays;
    for (const [name, v] of [["spareBytes", spareBytes], ["spareArrays", spareArrays]] as const) {
      if (typeof v !== "number" || !Number.isSafeInteger(v) || v < 0 || v > 2 ** 31) {
        throw new MmkitError(ErrorCode.InvalidArgument, `${name} must be an integer in [0, 2^31], got ${describeValue(v)}`);
      }
    }
    const arrays = recording.arrays();
    let bytes = spareBytes;
    for (const r of arrays) bytes += Math.ceil(r.array.byteLength / LINE) * LINE;
    if (bytes > MAX_CAPACITY) {
      throw new MmkitError(ErrorCode.OutOfRange, `the recorded arrays and spare room need ${bytes} bytes; a shared arena holds at most ${MAX_CAPACITY} (2^31 - 64)`);
    }
    const arena = new SharedMetadataArena({ capacity: bytes, maxArrays: Math.max(1, arrays.length + spareArrays) });
    for (const r of arrays) {
      const copy = arena.allocate(r.kind, r.array.length, r.label);
      (copy as Int32Array).set(r.array as Int32Array);
    }
    return arena;
  }

  /** The postable handle: pass it to `postMessage`, then {@link SharedMetadataArena.attach} it. */
  get handle(): SharedArenaHandle {
    return { format: "mmkit-shared-arena", version: SHARED_ARENA_VERSION, buffer: this.#buffer };
  }

  /** The buffer all arrays live in. */
  get buffer(): SharedArrayBuffer {
    return this.#buffer;
  }

  /** Arrays in the buffer (created so far, by the creator). */
  get arrayCount(): number {
    return this.#header[H_COUNT]!;
  }

  /** Bytes of the buffer used by arrays (each rounded up to 64). */
  get usedBytes(): number {
    return this.#header[H_USED]!;
  }

  /** Bytes available to arrays. */
  get capacity(): number {
    return this.#header[H_CAPACITY]!;
  }

  /** Live bytes handed out through this arena object (not rounded). */
  get bytes(): number {
    return this.#bytes;
  }

  /** Live bytes per label handed out through this arena object. */
  byLabel(): LabelBytes {
    const out: LabelBytes = {};
    for (const [label, bytes] of this.#byLabel) if (bytes > 0) out[label] = bytes;
    return out;
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

  /**
   * A zero-filled array of `kind` in the shared buffer (created arena), or the view of the next
   * array of the layout (attached arena; `ERR_LAYOUT_MISMATCH` unless kind, length and label are
   * those the creator asked for). `ERR_ARENA_FULL` when the capacity or the directory is used up;
   * either way the arena is unchanged by a refusal.
   */
  allocate(kind: TypedArrayKind, length: number, label: string): MetadataArray {
    const code = KINDS.indexOf(kind);
    if (code < 0) throw new MmkitError(ErrorCode.InvalidArgument, `unknown array kind ${describeValue(kind)}`);
    if (!Number.isSafeInteger(length) || length < 0) {
      throw new MmkitError(ErrorCode.InvalidArgument, `array length must be a non-negative integer, got ${describeValue(length)}`);
    }
    if (typeof label !== "string") throw new MmkitError(ErrorCode.InvalidArgument, `array label must be a string, got ${describeValue(label)}`);
    const ctor = CONSTRUCTORS[code]!;
    const bytes = length * ctor.BYTES_PER_ELEMENT;
    const h = this.#header;
    const slot = this.#cursor;
    const entry = (HEADER_BYTES >> 2) + slot * ENTRY_INTS;
    let offset: number;
    if (this.attached) {
      if (slot >= h[H_COUNT]!) throw layoutError(`the shared layout has ${h[H_COUNT]} arrays; ${JSON.stringify(label)} would be array ${slot + 1}`);
      const want = `${kind}[${length}] ${JSON.stringify(label)}`;
      if (h[entry] !== code || h[entry + 2] !== length || h[entry + 3] !== labelHash(label)) {
        throw layoutError(`array ${slot} of the shared layout is ${KINDS[h[entry]!] ?? "?"}[${h[entry + 2]}], not ${want} (another version or shape of the object that created it)`);
      }
      offset = h[entry + 1]!;
    } else {
      const slots = h[H_SLOTS]!;
      const dataStart = Math.ceil((HEADER_BYTES + slots * ENTRY_INTS * 4) / LINE) * LINE;
      const rounded = Math.ceil(bytes / LINE) * LINE;
      if (slot >= slots) throw new MmkitError(ErrorCode.ArenaFull, `shared arena directory is full (${slots} arrays): refused ${kind}[${length}] for ${JSON.stringify(label)}`);
      if (h[H_USED]! + rounded > h[H_CAPACITY]!) {
        throw new MmkitError(ErrorCode.ArenaFull, `shared arena has ${h[H_CAPACITY]! - h[H_USED]!} of ${h[H_CAPACITY]} bytes left: refused ${kind}[${length}] (${bytes} bytes) for ${JSON.stringify(label)}`);
      }
      offset = dataStart + h[H_USED]!;
      h[entry] = code;
      h[entry + 1] = offset;
      h[entry + 2] = length;
      h[entry + 3] = labelHash(label);
      h[H_USED] = h[H_USED]! + rounded;
      h[H_COUNT] = slot + 1;
    }
    this.#cursor = slot + 1;
    // The constructors are a union, so TypeScript cannot pick an overload for a SharedArrayBuffer.
    const array = new ctor(this.#buffer as unknown as ArrayBuffer, offset, length) as MetadataArray;
    this.#live.set(array, { label, bytes });
    this.#byLabel.set(label, (this.#byLabel.get(label) ?? 0) + bytes);
    this.#bytes += bytes;
    return array;
  }

  /** Stops counting `array`'s bytes (its space is not reused). Releasing twice is `ERR_NOT_ALLOCATED`. */
  release(array: MetadataArray): void {
    const record = this.#live.get(array);
    if (record === undefined) {
      throw new MmkitError(ErrorCode.NotAllocated, `cannot release ${describeValue(array)}: not an array this arena handed out, or released already`);
    }
    this.#live.delete(array);
    this.#byLabel.set(record.label, (this.#byLabel.get(record.label) ?? 0) - record.bytes);
    this.#bytes -= record.bytes;
  }

}
