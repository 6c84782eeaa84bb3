import { ErrorCode, MmkitError, describeValue } from "./errors.js";
import { requireMemoryMap, type MemoryMap } from "./memory-map.js";
import { requireInteger } from "./validate.js";

/**
 * Options for {@link MemoryBacking}.
 *
 * @example
 * ```ts
 * const map = MemoryMap.uniform(64 * MiB);
 * new MemoryBacking(map, { maxBytes: 64 * MiB }).bytes(0, 4);   // 4 bytes of real memory at address 0
 * new MemoryBacking(map, { maxBytes: 16 * MiB });               // throws ERR_BACKING_TOO_LARGE
 * ```
 */
export interface MemoryBackingOptions {
  /** Back RAM with `SharedArrayBuffer`s so worker threads see the same bytes. */
  shared?: boolean;
  /**
   * Refuse to back more than this many bytes in all (default: no limit of our own; the runtime's
   * limit still applies and is reported the same way).
   */
  maxBytes?: number;
}

/**
 * Real bytes behind the RAM of a {@link MemoryMap}: one buffer per RAM range, so an allocation is
 * memory a caller can read and write. Views never cross a hole.
 *
 * `bytes()` is O(log ranges) (a binary search over the ranges) plus the cost of one `Uint8Array` view.
 *
 * @example
 * ```ts
 * const map = MemoryMap.uniform(1 << 20);
 * const ram = new MemoryBacking(map);
 * ram.bytes(4096, 16).fill(7);
 * ram.bytes(4100, 1)[0];   // 7
 * ```
 */
export class MemoryBacking {
  /** The memory map whose RAM these bytes back. */
  readonly map: MemoryMap;
  /** True when the bytes live in `SharedArrayBuffer`s that workers can share. */
  readonly shared: boolean;
  /** Bytes of backing in all, one per byte of RAM. */
  readonly totalBytes: number;
  #buffers: (ArrayBuffer | SharedArrayBuffer)[];

  constructor(map: MemoryMap, options: MemoryBackingOptions = {}) {
    this.map = requireMemoryMap(map);
    if (options === null || typeof options !== "object") {
      throw new MmkitError(ErrorCode.InvalidArgument, `backing options must be an object, got ${describeValue(options)}`);
    }
    const shared = options.shared ?? false;
    if (typeof shared !== "boolean") throw new MmkitError(ErrorCode.InvalidArgument, `shared must be a boolean, got ${describeValue(shared)}`);
    this.shared = shared;
    const total = map.presentBytes;
    this.totalBytes = total;
    if (options.maxBytes !== undefined) {
      const max = requireInteger(options.maxBytes, "maxBytes", 0);
      if (total > max) {
        throw new MmkitError(ErrorCode.BackingTooLarge, `backing ${total} bytes of RAM exceeds maxBytes ${max}`);
      }
    }
    const buffers: (ArrayBuffer | SharedArrayBuffer)[] = [];
    for (const r of map.ranges) {
      const size = (r.endPfn - r.startPfn) * map.pageSize;
      try {
        buffers.push(this.shared ? new SharedArrayBuffer(size) : new ArrayBuffer(size));
      } catch (cause) {
        throw new MmkitError(
          ErrorCode.BackingTooLarge,
          `cannot back a RAM range of ${size} bytes (${total} in all): the runtime refused the buffer; use an unbacked map or a smaller one`,
          { cause },
        );
      }
    }
    this.#buffers = buffers;
  }

  /**
   * A `Uint8Array` view of `length` bytes at physical `address`. Throws `ERR_NOT_RAM` when any of
   * it is outside RAM or crosses a hole or range boundary.
   */
  bytes(address: number, length: number): Uint8Array {
    requireInteger(address, "address");
    requireInteger(length, "length");
    const map = this.map;
    const pfn = Math.floor(address / map.pageSize);
    const i = map.rangeIndexOf(pfn);
    if (i < 0) throw new MmkitError(ErrorCode.NotRam, `address ${describeValue(address)} is not RAM`);
    const r = map.ranges[i]!;
    const offset = address - r.startPfn * map.pageSize;
    const rangeBytes = (r.endPfn - r.startPfn) * map.pageSize;
    if (offset + length > rangeBytes) {
      throw new MmkitError(ErrorCode.NotRam, `view of ${length} bytes at address ${address} crosses the end of its RAM range at ${r.endPfn * map.pageSize}`);
    }
    return new Uint8Array(this.#buffers[i]!, offset, length);
  }

  /**
   * A view of `count` whole pages starting at `pfn`. Throws `ERR_NOT_RAM` (naming the pfn) unless
   * they are all RAM in one range.
   */
  pages(pfn: number, count = 1): Uint8Array {
    requireInteger(pfn, "pfn");
    requireInteger(count, "count", 1);
    if (!this.map.isContiguousRam(pfn, count)) {
      throw new MmkitError(ErrorCode.NotRam, `pages [${pfn}, ${pfn + count}) are not all RAM in one range (pfn ${pfn}, count ${count})`);
    }
    return this.bytes(pfn * this.map.pageSize, count * this.map.pageSize);
  }

  /** The buffer behind RAM range `index` (for handing to a worker or a WebAssembly memory). */
  buffer(index: number): ArrayBuffer | SharedArrayBuffer {
    requireInteger(index, "index", 0, this.#buffers.length - 1);
    return this.#buffers[index]!;
  }
}
