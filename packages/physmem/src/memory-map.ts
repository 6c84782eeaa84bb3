import { ErrorCode, MmkitError, describeValue } from "./errors.js";
import { log2Exact, requireInteger, requirePowerOfTwo } from "./validate.js";

/**
 * A RAM range as a firmware memory map gives it: byte base and size, and its NUMA node.
 *
 * @example
 * ```ts
 * new MemoryMap({ ranges: [{ base: 0, size: 32 * MiB }, { base: 40 * MiB, size: 32 * MiB, node: 1 }] });
 * ```
 */
export interface RamRangeSpec {
  /** Byte address of the first byte; a multiple of the page size. */
  base: number;
  /** Bytes in the range; a positive multiple of the page size. */
  size: number;
  /** NUMA node id (default 0). */
  node?: number;
}

/**
 * A RAM range of a built {@link MemoryMap}, in page frames.
 *
 * @example
 * ```ts
 * const map = new MemoryMap({ ranges: [{ base: 0, size: 32 * MiB }, { base: 40 * MiB, size: 32 * MiB, node: 1 }] });
 * map.ranges[1];   // { startPfn: 10240, endPfn: 18432, node: 1 }
 * ```
 */
export interface RamRange {
  /** First page frame number. */
  readonly startPfn: number;
  /** One past the last page frame number. */
  readonly endPfn: number;
  /** NUMA node the range belongs to. */
  readonly node: number;
}

/**
 * One NUMA node's extent.
 *
 * @example
 * ```ts
 * const map = new MemoryMap({ ranges: [{ base: 0, size: 32 * MiB }, { base: 40 * MiB, size: 32 * MiB, node: 1 }] });
 * map.nodes[1]?.presentPages;   // 8192
 * ```
 */
export interface NodeInfo {
  /** NUMA node id, as the ranges name it. */
  readonly id: number;
  /** First pfn of the node's first range. */
  readonly startPfn: number;
  /** One past the node's last pfn; `endPfn - startPfn` is the node's spanned pages. */
  readonly endPfn: number;
  /** Pages of RAM the node has (holes excluded). */
  readonly presentPages: number;
  /** Indices into {@link MemoryMap.ranges} of the node's ranges, in address order. */
  readonly ranges: readonly number[];
}

/**
 * Options for {@link MemoryMap}.
 *
 * @example
 * ```ts
 * new MemoryMap({ pageSize: 4096, ranges: [{ base: 0, size: 64 * MiB }] }).endPfn;   // 16384
 * ```
 */
export interface MemoryMapOptions {
  /** Page size in bytes, a power of two from 512 B to 1 GiB (default 4096). */
  pageSize?: number;
  /** The RAM ranges, in any order. Touching ranges of the same node are merged. */
  ranges: readonly RamRangeSpec[];
}

/** Largest address a memory map may reach: 2^53, so every byte address is an exact JS number. */
export const MAX_ADDRESS = 2 ** 53;

/**
 * The physical memory map: RAM ranges with node ids and the holes between them, like the map
 * firmware hands the kernel. It holds one small record per range, never per page, so a 1.5 TiB
 * machine costs the same as a 1 MiB one.
 *
 * Lookups (`pfnValid`, `nodeOf`, `rangeIndexOf`) are a binary search over the ranges, O(log ranges),
 * with a one-entry cache that makes repeated lookups in one range O(1).
 *
 * @example
 * ```ts
 * const map = new MemoryMap({ ranges: [
 *   { base: 0, size: 1 << 30, node: 0 },
 *   { base: 2 << 30, size: 1 << 30, node: 1 },   // a 1 GiB hole before it
 * ] });
 * map.presentPages;        // 524288
 * map.spannedPages;        // 786432
 * map.pfnValid(300000);    // false (in the hole)
 * map.nodeOf(600000);      // 1
 * ```
 */
export class MemoryMap implements Iterable<RamRange> {
  /** Bytes per page. */
  readonly pageSize: number;
  /** log2 of `pageSize`: `address >> pageShift` is the pfn (for addresses below 2^31). */
  readonly pageShift: number;
  /** The RAM ranges in address order; the gaps between them are holes. */
  readonly ranges: readonly RamRange[];
  /** The NUMA nodes, each with its pfn span and RAM pages. */
  readonly nodes: readonly NodeInfo[];
  /** First pfn of RAM. */
  readonly startPfn: number;
  /** One past the last pfn of RAM. */
  readonly endPfn: number;
  /** Pages of RAM (holes excluded). */
  readonly presentPages: number;
  #starts: Float64Array;
  #ends: Float64Array;
  #nodesOf: Int32Array;
  #last = 0;

  constructor(options: MemoryMapOptions) {
    if (options === null || typeof options !== "object") {
      throw new MmkitError(ErrorCode.InvalidArgument, `memory map options must be an object, got ${describeValue(options)}`);
    }
    const pageSize = requirePowerOfTwo(options.pageSize ?? 4096, "pageSize", 512, 2 ** 30);
    this.pageSize = pageSize;
    this.pageShift = log2Exact(pageSize);
    if (!Array.isArray(options.ranges)) {
      throw new MmkitError(ErrorCode.InvalidArgument, `ranges must be an array of RAM ranges, got ${describeValue(options.ranges)}`);
    }
    if (options.ranges.length === 0) throw new MmkitError(ErrorCode.InvalidArgument, "a memory map needs at least one RAM range");
    const specs = options.ranges.map((r, i) => {
      if (r === null || typeof r !== "object") throw new MmkitError(ErrorCode.InvalidArgument, `ranges[${i}] must be an object, got ${describeValue(r)}`);
      const base = requireInteger(r.base, `ranges[${i}].base`, 0, MAX_ADDRESS);
      const size = requireInteger(r.size, `ranges[${i}].size`, 1, MAX_ADDRESS);
      const node = requireInteger(r.node ?? 0, `ranges[${i}].node`, 0, 1023);
      if (base % pageSize !== 0) throw new MmkitError(ErrorCode.NotAligned, `ranges[${i}].base ${base} is not a multiple of the page size ${pageSize}`);
      if (size % pageSize !== 0) throw new MmkitError(ErrorCode.NotAligned, `ranges[${i}].size ${size} is not a multiple of the page size ${pageSize}`);
      if (base + size > MAX_ADDRESS) throw new MmkitError(ErrorCode.OutOfRange, `ranges[${i}] ends at ${base + size}, beyond 2^53`);
      return { index: i, startPfn: base / pageSize, endPfn: (base + size) / pageSize, node };
    });
    specs.sort((a, b) => a.startPfn - b.startPfn);
    const merged: RamRange[] = [];
    for (let i = 0; i < specs.length; i++) {
      const r = specs[i]!;
      const prev = merged[merged.length - 1];
      if (prev !== undefined && r.startPfn < prev.endPfn) {
        const other = specs[i - 1]!;
        throw new MmkitError(ErrorCode.Overlap, `ranges[${r.index}] (base ${r.startPfn * pageSize}) overlaps ranges[${other.index}] (ends ${prev.endPfn * pageSize})`);
      }
      if (prev !== undefined && r.startPfn === prev.endPfn && r.node === prev.node) {
        merged[merged.length - 1] = { startPfn: prev.startPfn, endPfn: r.endPfn, node: r.node };
      } else {
        merged.push({ startPfn: r.startPfn, endPfn: r.endPfn, node: r.node });
      }
    }
    this.ranges = Object.freeze(merged.map((r) => Object.freeze(r)));
    this.#starts = Float64Array.from(merged, (r) => r.startPfn);
    this.#ends = Float64Array.from(merged, (r) => r.endPfn);
    this.#nodesOf = Int32Array.from(merged, (r) => r.node);
    this.startPfn = merged[0]!.startPfn;
    this.endPfn = merged[merged.length - 1]!.endPfn;
    this.presentPages = merged.reduce((sum, r) => sum + (r.endPfn - r.startPfn), 0);
    const byNode = new Map<number, { startPfn: number; endPfn: number; presentPages: number; ranges: number[] }>();
    merged.forEach((r, i) => {
      const n = byNode.get(r.node);
      if (n === undefined) byNode.set(r.node, { startPfn: r.startPfn, endPfn: r.endPfn, presentPages: r.endPfn - r.startPfn, ranges: [i] });
      else {
        n.endPfn = r.endPfn;
        n.presentPages += r.endPfn - r.startPfn;
        n.ranges.push(i);
      }
    });
    this.nodes = Object.freeze(
      [...byNode.entries()].sort((a, b) => a[0] - b[0]).map(([id, n]) => Object.freeze({ id, ...n, ranges: Object.freeze(n.ranges) })),
    );
  }

  /**
   * A map of `size` bytes of RAM from address 0, split evenly over `nodes` nodes, optionally with a
   * hole of `holeBytes` after every node but the last. Handy for tests and benchmarks.
   */
  static uniform(size: number, options: { nodes?: number; holeBytes?: number; pageSize?: number } = {}): MemoryMap {
    if (options === null || typeof options !== "object") {
      throw new MmkitError(ErrorCode.InvalidArgument, `uniform options must be an object, got ${describeValue(options)}`);
    }
    const nodes = requireInteger(options.nodes ?? 1, "nodes", 1, 1024);
    const pageSize = requirePowerOfTwo(options.pageSize ?? 4096, "pageSize", 512, 2 ** 30);
    const hole = requireInteger(options.holeBytes ?? 0, "holeBytes", 0, MAX_ADDRESS);
    if (hole % pageSize !== 0) throw new MmkitError(ErrorCode.NotAligned, `holeBytes ${hole} is not a multiple of the page size ${pageSize}`);
    requireInteger(size, "size", 1, MAX_ADDRESS);
    const per = Math.floor(size / nodes / pageSize) * pageSize;
    if (per === 0) throw new MmkitError(ErrorCode.OutOfRange, `size ${size} is too small for ${nodes} nodes of whole pages`);
    if (per * nodes + hole * (nodes - 1) > MAX_ADDRESS) {
      throw new MmkitError(ErrorCode.OutOfRange, `holeBytes ${hole} after each of ${nodes - 1} nodes of ${per} bytes ends the map beyond 2^53`);
    }
    const ranges: RamRangeSpec[] = [];
    let base = 0;
    for (let n = 0; n < nodes; n++) {
      ranges.push({ base, size: per, node: n });
      base += per + hole;
    }
    return new MemoryMap({ pageSize, ranges });
  }

  /** Pages from the first to the last pfn of RAM, holes included. */
  get spannedPages(): number {
    return this.endPfn - this.startPfn;
  }
  /** Bytes of RAM. */
  get presentBytes(): number {
    return this.presentPages * this.pageSize;
  }

  /** Iterates the RAM ranges in address order (as `ranges`). */
  [Symbol.iterator](): Iterator<RamRange> {
    return this.ranges[Symbol.iterator]();
  }

  /**
   * Index into {@link ranges} of the range holding `pfn`, or -1 (a hole, or outside RAM; like
   * {@link pfnValid}, anything but an integer is no pfn of RAM).
   */
  rangeIndexOf(pfn: number): number {
    if (!Number.isInteger(pfn)) return -1;
    const last = this.#last;
    if (pfn >= this.#starts[last]! && pfn < this.#ends[last]!) return last;
    let lo = 0;
    let hi = this.#starts.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      if (pfn < this.#starts[mid]!) hi = mid - 1;
      else if (pfn >= this.#ends[mid]!) lo = mid + 1;
      else {
        this.#last = mid;
        return mid;
      }
    }
    return -1;
  }

  /** True when `pfn` is a page of RAM. Non-integers are not valid pfns. */
  pfnValid(pfn: number): boolean {
    return Number.isSafeInteger(pfn) && this.rangeIndexOf(pfn) >= 0;
  }

  /** The node of `pfn`, or -1 when it is not RAM. */
  nodeOf(pfn: number): number {
    if (!Number.isSafeInteger(pfn)) return -1;
    const i = this.rangeIndexOf(pfn);
    return i < 0 ? -1 : this.#nodesOf[i]!;
  }

  /** The node record for `id`, or undefined. */
  node(id: number): NodeInfo | undefined {
    return this.nodes.find((n) => n.id === id);
  }

  /**
   * True when every page of `[pfn, pfn + count)` is RAM in one range (so it crosses no hole or node).
   * A `pfn` that is not an integer is no RAM (false); a `count` that is not a positive integer
   * throws `ERR_INVALID_ARGUMENT` / `ERR_OUT_OF_RANGE`.
   */
  isContiguousRam(pfn: number, count: number): boolean {
    requireInteger(count, "count", 1);
    const i = this.rangeIndexOf(pfn);
    return i >= 0 && pfn + count <= this.#ends[i]!;
  }

  /** Throws `ERR_INVALID_ARGUMENT`/`ERR_NOT_RAM` unless `pfn` is a page of RAM; returns its range index. */
  requireRam(pfn: unknown, name = "pfn"): number {
    const p = requireInteger(pfn, name, 0, MAX_ADDRESS);
    const i = this.rangeIndexOf(p);
    if (i < 0) throw new MmkitError(ErrorCode.NotRam, `${name} ${p} is not RAM (outside the map or in a hole)`);
    return i;
  }

  /** Byte address of `pfn`'s first byte (`pfn` an integer in `[0, 2^53 / pageSize]`, RAM or not). */
  pfnToAddress(pfn: number): number {
    return requireInteger(pfn, "pfn", 0, MAX_ADDRESS / this.pageSize) * this.pageSize;
  }
  /** The pfn holding byte `address` (an integer in `[0, 2^53)`, RAM or not). */
  addressToPfn(address: number): number {
    return Math.floor(requireInteger(address, "address") / this.pageSize);
  }

  /** A one-line description per range, like the kernel's early memory map printout. */
  describe(): string {
    return this.ranges
      .map((r) => `node ${r.node}: [mem 0x${(r.startPfn * this.pageSize).toString(16)}-0x${(r.endPfn * this.pageSize - 1).toString(16)}] ${r.endPfn - r.startPfn} pages`)
      .join("\n");
  }
}

/** Throws `ERR_INVALID_ARGUMENT` unless `map` is a {@link MemoryMap}; for the constructors that take one. */
export function requireMemoryMap(map: unknown): MemoryMap {
  if (!(map instanceof MemoryMap)) throw new MmkitError(ErrorCode.InvalidArgument, `map must be a MemoryMap, got ${describeValue(map)}`);
  return map;
}
