import { MetadataArena, type MetadataArenaOptions, type MetadataArray } from "./arena.js";
import { ErrorCode, MmkitError, describeValue } from "./errors.js";

/** Size of a CPU cache line, the unit the probe counts. */
export const CACHE_LINE_BYTES = 64;

/**
 * What one probed window touched.
 *
 * @example
 * ```ts
 * const probe = new ProbingArena();
 * const a = probe.int32(64, "a");
 * probe.measure(() => { a[0] = 1; a[20] = 2; });
 * // => { lines: 2, linesWritten: 2, reads: 0, writes: 2, linesByLabel: { a: 2 }, value: undefined }
 * ```
 */
export interface ProbeResult {
  /** Distinct 64-byte lines read or written. */
  lines: number;
  /** Distinct lines written. */
  linesWritten: number;
  /** Element reads and writes (every access, not distinct). */
  reads: number;
  /** Element writes (every access, not distinct). */
  writes: number;
  /** Distinct lines per array label. */
  linesByLabel: Record<string, number>;
}

interface ArrayInfo {
  base: number; // byte address of element 0 in the probe's virtual metadata space
  shift: number; // log2(BYTES_PER_ELEMENT)
  label: string;
}

// Typed-array methods that may read any element: the probe counts the whole array as read.
const SCANNING_METHODS = new Set(["indexOf", "lastIndexOf", "includes", "find", "findIndex", "findLast", "findLastIndex", "some", "every", "forEach", "reduce", "reduceRight", "join", "slice", "map", "filter", "toString", "at"]);

/**
 * A {@link MetadataArena} whose arrays are Proxies that record which 64-byte lines each access
 * touches between {@link begin} and {@link end}. Every array gets its own 64-byte-aligned place in
 * a virtual address space, so the same allocator code reports an exact, deterministic count of
 * cache lines per operation.
 *
 * It is slow (a Proxy trap per element access): use it to count, never to time. `Atomics` does not
 * accept a Proxy, so code that uses `Atomics` on arena arrays cannot be probed.
 *
 * @example
 * ```ts
 * const arena = new ProbingArena();
 * const a = arena.int32(64, "table");
 * arena.begin();
 * a[0] = 1; a[15] = 2; a[16] = 3;     // elements 0..15 share line 0; 16 is on line 1
 * arena.end().lines;                  // 2
 * ```
 */
export class ProbingArena extends MetadataArena {
  #nextBase = 0;
  #recording = false;
  #touched = new Map<number, string>();
  #written = new Set<number>();
  #reads = 0;
  #writes = 0;
  #infos = new WeakMap<object, ArrayInfo>();
  #proxies = new WeakMap<MetadataArray, MetadataArray>();

  constructor(options: MetadataArenaOptions = {}) {
    super(options);
  }

  /** True between {@link begin} and {@link end}. */
  get recording(): boolean {
    return this.#recording;
  }

  /** Starts a window: clears what was recorded and records every access from now on. */
  begin(): void {
    this.#touched.clear();
    this.#written.clear();
    this.#reads = 0;
    this.#writes = 0;
    this.#recording = true;
  }

  /** Ends the window and returns what it touched. */
  end(): ProbeResult {
    if (!this.#recording) throw new MmkitError(ErrorCode.InvalidState, "probe.end() without begin()");
    this.#recording = false;
    const linesByLabel: Record<string, number> = {};
    for (const label of this.#touched.values()) linesByLabel[label] = (linesByLabel[label] ?? 0) + 1;
    return { lines: this.#touched.size, linesWritten: this.#written.size, reads: this.#reads, writes: this.#writes, linesByLabel };
  }

  /** Runs `fn` inside a window and returns the window's result with `fn`'s value. */
  measure<T>(fn: () => T): ProbeResult & { value: T } {
    if (typeof fn !== "function") throw new MmkitError(ErrorCode.InvalidArgument, `measure needs a function, got ${describeValue(fn)}`);
    this.begin();
    let value: T;
    try {
      value = fn();
    } catch (error) {
      this.#recording = false;
      throw error;
    }
    return { ...this.end(), value };
  }

  protected override expose(array: MetadataArray, label: string): MetadataArray {
    const base = this.#nextBase;
    this.#nextBase += Math.ceil(Math.max(array.byteLength, 1) / CACHE_LINE_BYTES) * CACHE_LINE_BYTES;
    return this.#wrap(array, { base, shift: Math.log2(array.BYTES_PER_ELEMENT), label });
  }

  #touch(info: ArrayInfo, first: number, last: number, write: boolean): void {
    if (!this.#recording || last < first) return;
    const from = Math.floor((info.base + (first << info.shift)) / CACHE_LINE_BYTES);
    const to = Math.floor((info.base + ((last + 1) << info.shift) - 1) / CACHE_LINE_BYTES);
    for (let line = from; line <= to; line++) {
      this.#touched.set(line, info.label);
      if (write) this.#written.add(line);
    }
    if (write) this.#writes += last - first + 1;
    else this.#reads += last - first + 1;
  }

  #wrap(array: MetadataArray, info: ArrayInfo): MetadataArray {
    const probe = this;
    const proxy = new Proxy(array, {
      get(target, prop) {
        if (typeof prop === "string") {
          const c = prop.charCodeAt(0);
          if (c >= 48 && c <= 57) {
            const index = Number(prop);
            if (index < target.length) probe.#touch(info, index, index, false);
            return target[index];
          }
        }
        const value = Reflect.get(target, prop, target);
        if (typeof value !== "function") return value;
        return probe.#method(target, info, prop, value as (...args: unknown[]) => unknown);
      },
      set(target, prop, value) {
        if (typeof prop === "string") {
          const c = prop.charCodeAt(0);
          if (c >= 48 && c <= 57) {
            const index = Number(prop);
            if (index < target.length) probe.#touch(info, index, index, true);
            (target as unknown as Record<number, unknown>)[index] = value;
            return true;
          }
        }
        return Reflect.set(target, prop, value, target);
      },
    });
    this.#infos.set(proxy, info);
    this.#proxies.set(array, proxy);
    return proxy;
  }

  #method(target: MetadataArray, info: ArrayInfo, prop: string | symbol, fn: (...args: unknown[]) => unknown): (...args: unknown[]) => unknown {
    const len = target.length;
    const clamp = (v: unknown, dflt: number): number => {
      if (v === undefined) return dflt;
      const n = Math.trunc(Number(v));
      return n < 0 ? Math.max(len + n, 0) : Math.min(n, len);
    };
    switch (prop) {
      case "fill":
        return (value, start, end) => {
          const s = clamp(start, 0);
          const e = clamp(end, len);
          this.#touch(info, s, e - 1, true);
          fn.call(target, value, start, end);
          return this.#proxies.get(target);
        };
      case "set":
        return (source, offset) => {
          const s = clamp(offset, 0);
          const n = (source as ArrayLike<number>).length;
          this.#touch(info, s, s + n - 1, true);
          const sourceInfo = this.#infos.get(source as object);
          if (sourceInfo !== undefined) this.#touch(sourceInfo, 0, n - 1, false);
          fn.call(target, source, offset);
          return undefined;
        };
      case "copyWithin":
        return (dest, start, end) => {
          const d = clamp(dest, 0);
          const s = clamp(start, 0);
          const e = clamp(end, len);
          this.#touch(info, s, e - 1, false);
          this.#touch(info, d, d + (e - s) - 1, true);
          fn.call(target, dest, start, end);
          return this.#proxies.get(target);
        };
      case "subarray":
        return (start, end) => {
          const s = clamp(start, 0);
          const sub = fn.call(target, start, end) as MetadataArray;
          return this.#wrap(sub, { base: info.base + (s << info.shift), shift: info.shift, label: info.label });
        };
      default:
        if (typeof prop === "string" && SCANNING_METHODS.has(prop)) {
          return (...args) => {
            this.#touch(info, 0, len - 1, false);
            return fn.apply(target, args);
          };
        }
        return (...args) => fn.apply(target, args);
    }
  }
}

