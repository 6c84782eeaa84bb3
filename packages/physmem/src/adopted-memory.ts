import { ErrorCode, MmkitError, describeValue } from "./errors.js";
import { requireInteger } from "./validate.js";

/** What {@link AdoptedMemory} adopts: a buffer the user already has. */
export type AdoptableBuffer = ArrayBuffer | SharedArrayBuffer | WebAssembly.Memory;

/**
 * Options for {@link AdoptedMemory}.
 *
 * @example
 * ```ts
 * const memory = new AdoptedMemory(buffer, { base: 1 << 20 }); // byte 0 of the buffer is address 1 MiB
 * ```
 */
export interface AdoptedMemoryOptions {
  /** Byte address of the buffer's first byte (default 0). */
  base?: number;
}

/** The members of a resizable `ArrayBuffer` or growable `SharedArrayBuffer` (ES2024) used here. */
interface Resizable {
  readonly maxByteLength?: number;
  readonly resizable?: boolean;
  readonly growable?: boolean;
  resize?(length: number): void;
  grow?(length: number): void;
}

/**
 * Bytes the user already has, adopted as memory an allocator can manage: an `ArrayBuffer`, a
 * `SharedArrayBuffer`, or a `WebAssembly.Memory`, at byte address `base`. It follows growth:
 * every access reads the current buffer (a `WebAssembly.Memory` hands out a new one after each
 * grow, by us or by the module itself, and detaches the old), so views are re-made after a grow
 * and nothing is ever written through a detached buffer: if the buffer was detached (transferred
 * to a worker, say), every access throws `ERR_INVALID_STATE` instead of writing into nothing.
 *
 * Cost: `bytes()` is two compares (the buffer is the one seen last, the range is inside it) and
 * one `Uint8Array` view; a grow costs what the runtime's grow costs.
 *
 * @example
 * ```ts
 * const wasm = new WebAssembly.Memory({ initial: 1, maximum: 4 });
 * const memory = new AdoptedMemory(wasm);
 * memory.bytes(100, 4).set([1, 2, 3, 4]);
 * memory.size;               // 65536
 * memory.grow(65536);        // 131072: one more 64 KiB wasm page
 * memory.bytes(100, 1)[0];   // 1: same bytes, seen through the new buffer
 * ```
 */
export class AdoptedMemory {
  /** The address the buffer's first byte has in this memory (option `base`, default 0). */
  readonly base: number;
  /** The buffer adopted: an `ArrayBuffer`, a `SharedArrayBuffer` or a `WebAssembly.Memory`. */
  readonly source: AdoptableBuffer;
  #wasm: WebAssembly.Memory | null;
  #buffer: ArrayBuffer | SharedArrayBuffer;
  #u8: Uint8Array;
  #generation = 0;

  constructor(source: AdoptableBuffer, options: AdoptedMemoryOptions = {}) {
    const isWasm = typeof WebAssembly !== "undefined" && source instanceof WebAssembly.Memory;
    const isBuffer = source instanceof ArrayBuffer || (typeof SharedArrayBuffer !== "undefined" && source instanceof SharedArrayBuffer);
    if (!isWasm && !isBuffer) {
      throw new MmkitError(ErrorCode.InvalidArgument, `can adopt an ArrayBuffer, a SharedArrayBuffer or a WebAssembly.Memory, got ${describeValue(source)}`);
    }
    if (options === null || typeof options !== "object") {
      throw new MmkitError(ErrorCode.InvalidArgument, `adopted memory options must be an object, got ${describeValue(options)}`);
    }
    this.base = requireInteger(options.base === undefined ? 0 : options.base, "base");
    this.source = source;
    this.#wasm = isWasm ? (source as WebAssembly.Memory) : null;
    this.#buffer = isWasm ? (source as WebAssembly.Memory).buffer : (source as ArrayBuffer);
    this.#u8 = new Uint8Array(this.#buffer);
  }

  /** The current buffer (a `WebAssembly.Memory`'s changes with every grow). */
  get buffer(): ArrayBuffer | SharedArrayBuffer {
    this.#current();
    return this.#buffer;
  }

  /** Bytes now. */
  get size(): number {
    return this.#current().byteLength;
  }

  /** How many times the buffer was replaced: views made before a change are stale. */
  get generation(): number {
    this.#current();
    return this.#generation;
  }

  /** True when {@link grow} can add bytes (a `WebAssembly.Memory`, a resizable or growable buffer). */
  get growable(): boolean {
    const s = this.source as unknown as Resizable;
    return this.#wasm !== null || s.resizable === true || s.growable === true;
  }

  /** A view of the whole current buffer; re-made whenever the buffer changed. */
  #current(): Uint8Array {
    const buffer = this.#wasm !== null ? this.#wasm.buffer : (this.source as ArrayBuffer);
    if (buffer !== this.#buffer || this.#u8.byteLength !== buffer.byteLength) {
      this.#buffer = buffer;
      this.#u8 = new Uint8Array(buffer);
      this.#generation++;
    }
    if (buffer.byteLength === 0 && isDetached(buffer)) {
      throw new MmkitError(ErrorCode.InvalidState, "the adopted buffer was detached (transferred); nothing can be read or written through it");
    }
    return this.#u8;
  }

  /**
   * A view of the whole current buffer: the same object until the buffer changes (a grow), so a
   * caller can keep derived views and re-make them when it sees a new one. Its byte 0 is at `base`.
   */
  whole(): Uint8Array {
    return this.#current();
  }

  /**
   * A `Uint8Array` view of `length` bytes at byte `address`, over the current buffer. Throws
   * `ERR_NOT_RAM` (naming the address) when any of it is outside the buffer.
   */
  bytes(address: number, length: number): Uint8Array {
    const u8 = this.#current();
    // typeof first: arithmetic on a BigInt throws a TypeError, not the typed error.
    const offset = typeof address === "number" ? address - this.base : NaN;
    if (typeof length !== "number" || !(offset >= 0 && length >= 0 && offset + length <= u8.byteLength) || !Number.isSafeInteger(address) || !Number.isSafeInteger(length)) {
      requireInteger(address, "address");
      requireInteger(length, "length");
      throw new MmkitError(ErrorCode.NotRam, `${length} bytes at address ${address} are not inside the adopted buffer [${this.base}, ${this.base + u8.byteLength})`);
    }
    return u8.subarray(offset, offset + length);
  }

  /**
   * Grows the buffer by at least `bytes` (a `WebAssembly.Memory` by whole 64 KiB pages) and
   * returns the new size, or -1 when it cannot (not growable, or past its maximum). Views of the
   * old buffer are stale afterwards: take new ones.
   */
  grow(bytes: number): number {
    requireInteger(bytes, "bytes", 1);
    const src = this.source;
    const size = this.size;
    try {
      if (this.#wasm !== null) {
        this.#wasm.grow(Math.ceil(bytes / 65536));
      } else {
        const r = src as unknown as Resizable;
        const max = r.maxByteLength ?? size;
        if (size + bytes > max) return -1;
        if (r.resizable === true && r.resize) r.resize(size + bytes);
        else if (r.growable === true && r.grow) r.grow(size + bytes);
        else return -1;
      }
    } catch (e) {
      if (e instanceof RangeError) return -1;
      throw e;
    }
    return this.size;
  }
}

function isDetached(buffer: ArrayBuffer | SharedArrayBuffer): boolean {
  const flag = (buffer as { detached?: boolean }).detached;
  if (typeof flag === "boolean") return flag;
  // Before ES2024's `detached`: a detached buffer refuses to make views of any nonzero length, and a 0-byte one is harmless.
  try {
    new Uint8Array(buffer, 0, 0);
    return false;
  } catch {
    return true;
  }
}
