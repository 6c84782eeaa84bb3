import { ErrorCode, MmkitError, describeValue, requirePowerOfTwo } from "@mmkit/physmem";
import type { DescriptorTable, PfnRange } from "./descriptor-table.js";
import { memdescHandle, memdescType, memdescTypeName } from "./memdesc.js";

/**
 * Who owns memory of one memdesc type, and how it wants to hear about a failure in it.
 *
 * @example
 * ```ts
 * const slab: DescriptorOwner = { name: "slab", memoryFailure: (d) => console.log(`slab ${d.handle} lost page ${d.pfn}`) };
 * router.setOwner(MemdescType.Slab, slab);
 * ```
 */
export interface DescriptorOwner {
  /** A name for reports ("page cache", "slab", "netpool"). */
  readonly name: string;
  /** Called by {@link DescriptorRouter.memoryFailure} for a failure in memory this owner holds. */
  memoryFailure?(desc: PhysDesc): void;
}

/**
 * What a physical address resolves to.
 *
 * @example
 * ```ts
 * table.set(256, 511, encodeMemdesc(MemdescType.Slab, 0x2000));
 * physToDesc(table, 300 * 4096 + 17);
 * // => { address: 1228817, pfn: 300, memdesc: 8197, type: 5, typeName: "slab", handle: 8192,
 * //      firstPfn: 256, lastPfn: 511, first: 1048576, last: 2097151, owner: undefined }
 * ```
 */
export interface PhysDesc {
  /** The address asked about. */
  address: number;
  /** Page frame number of `address`. */
  pfn: number;
  /** The 8-byte descriptor word. */
  memdesc: number;
  /** Its type tag (see `MemdescType`) and the tag's name. */
  type: number;
  /** Name of the type tag, e.g. "slab". */
  typeName: string;
  /** The descriptor handle (memdesc with the type bits cleared). */
  handle: number;
  /** Pfns the descriptor covers, inclusive. */
  firstPfn: number;
  /** Last pfn the descriptor covers (inclusive). */
  lastPfn: number;
  /** Byte addresses the descriptor covers, inclusive. */
  first: number;
  /** Last byte address the descriptor covers (inclusive). */
  last: number;
  /** The owner registered for the type, if any. */
  owner: DescriptorOwner | undefined;
}

/**
 * Resolves `address` through `table`: the memdesc, its type and handle, and the whole range it
 * covers, or undefined when no descriptor covers the address. `owner` is looked up by type in
 * `owners` when given.
 *
 * Cost: one `table.get` and one `table.range` (two descents on a maple table, two or three reads
 * on a linked memmap) plus one small object.
 *
 * @example
 * ```ts
 * const table = new MapleDescriptorTable();
 * table.set(256, 511, encodeMemdesc(MemdescType.Slab, 0x2000));
 * physToDesc(table, 300 * 4096 + 17)?.typeName; // "slab"
 * ```
 */
export function physToDesc(table: DescriptorTable, address: number, pageSize = 4096, owners?: ReadonlyMap<number, DescriptorOwner>): PhysDesc | undefined {
  requireTable(table);
  if (pageSize !== 4096) requirePowerOfTwo(pageSize, "pageSize", 512, 2 ** 30);
  if (owners != null && typeof owners.get !== "function") {
    throw new MmkitError(ErrorCode.InvalidArgument, `owners must be a Map from memdesc type to owner, got ${describeValue(owners)}`);
  }
  return resolve(table, address, pageSize, owners);
}

/** Throws `ERR_INVALID_ARGUMENT` unless `table` has a DescriptorTable's `get` and `range`. */
function requireTable(table: unknown): void {
  if (table === null || typeof table !== "object" || typeof (table as DescriptorTable).get !== "function" || typeof (table as DescriptorTable).range !== "function") {
    throw new MmkitError(ErrorCode.InvalidArgument, `table must be a DescriptorTable, got ${describeValue(table)}`);
  }
}

/** {@link physToDesc} once the table, page size and owners are known to be good. */
function resolve(table: DescriptorTable, address: number, pageSize: number, owners: ReadonlyMap<number, DescriptorOwner> | undefined): PhysDesc | undefined {
  if (typeof address !== "number" || !Number.isSafeInteger(address) || address < 0) {
    throw new MmkitError(ErrorCode.InvalidArgument, `address must be a non-negative integer, got ${describeValue(address)}`);
  }
  const pfn = Math.floor(address / pageSize);
  const memdesc = table.get(pfn);
  if (memdesc < 0) return undefined;
  const range: PfnRange = { firstPfn: pfn, lastPfn: pfn };
  table.range(pfn, range);
  const type = memdescType(memdesc);
  return {
    address,
    pfn,
    memdesc,
    type,
    typeName: memdescTypeName(type),
    handle: memdescHandle(memdesc),
    firstPfn: range.firstPfn,
    lastPfn: range.lastPfn,
    first: range.firstPfn * pageSize,
    last: (range.lastPfn + 1) * pageSize - 1,
    owner: owners?.get(type),
  };
}

/**
 * Routes physical addresses to the owners of the memory: each memdesc type gets an owner
 * (page cache for file folios, the slab allocator for slabs, ...), and {@link memoryFailure}
 * tells the owner of a failed page, like `memory_failure()` dispatching on the page's type.
 * Plug it into physmem's `MemoryFailure`: `failures.subscribe((e) => router.memoryFailure(e.pfn))`.
 *
 * Cost: as {@link physToDesc}.
 *
 * @example
 * ```ts
 * const router = new DescriptorRouter(table);
 * router.setOwner(MemdescType.Slab, { name: "slab", memoryFailure: (d) => console.log(d.handle) });
 * router.memoryFailure(300); // the slab owner hears about it
 * ```
 */
export class DescriptorRouter {
  /** The pfn-to-memdesc table the router reads. */
  readonly table: DescriptorTable;
  /** Bytes per page: how a physical address becomes a pfn. */
  readonly pageSize: number;
  readonly #owners = new Map<number, DescriptorOwner>();

  constructor(table: DescriptorTable, options: { pageSize?: number } = {}) {
    requireTable(table);
    if (options === null || typeof options !== "object") {
      throw new MmkitError(ErrorCode.InvalidArgument, `router options must be an object, got ${describeValue(options)}`);
    }
    this.table = table;
    this.pageSize = requirePowerOfTwo(options.pageSize ?? 4096, "pageSize", 512, 2 ** 30);
  }

  /** Makes `owner` the owner of every descriptor of `type` (replacing any previous one). */
  setOwner(type: number, owner: DescriptorOwner): void {
    if (!Number.isInteger(type) || type < 0 || type > 15) throw new MmkitError(ErrorCode.OutOfRange, `memdesc type must be in [0, 15], got ${describeValue(type)}`);
    if (owner === null || typeof owner !== "object" || typeof owner.name !== "string") {
      throw new MmkitError(ErrorCode.InvalidArgument, `owner must be an object with a name, got ${describeValue(owner)}`);
    }
    if (owner.memoryFailure !== undefined && typeof owner.memoryFailure !== "function") {
      throw new MmkitError(ErrorCode.InvalidArgument, `owner ${JSON.stringify(owner.name)}'s memoryFailure must be a function, got ${describeValue(owner.memoryFailure)}`);
    }
    this.#owners.set(type, owner);
  }

  /** The owner of `type`, if any. */
  ownerOf(type: number): DescriptorOwner | undefined {
    return this.#owners.get(type);
  }

  /** {@link physToDesc} with this router's page size and owners. */
  physToDesc(address: number): PhysDesc | undefined {
    return resolve(this.table, address, this.pageSize, this.#owners);
  }

  /**
   * A failure at page `pfn`: resolves it and calls its owner's `memoryFailure`. Returns what it
   * resolved (undefined when no descriptor covers the page, as for free memory never recorded).
   */
  memoryFailure(pfn: number): PhysDesc | undefined {
    if (typeof pfn !== "number" || !Number.isSafeInteger(pfn) || pfn < 0) {
      throw new MmkitError(ErrorCode.InvalidArgument, `pfn must be a non-negative integer, got ${describeValue(pfn)}`);
    }
    if (pfn > Math.floor(Number.MAX_SAFE_INTEGER / this.pageSize)) {
      throw new MmkitError(ErrorCode.OutOfRange, `pfn ${pfn} is beyond the last page a 2^53-byte address space holds at page size ${this.pageSize}`);
    }
    const desc = this.physToDesc(pfn * this.pageSize);
    desc?.owner?.memoryFailure?.(desc);
    return desc;
  }
}
