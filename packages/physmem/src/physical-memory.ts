import type { ArrayFactory } from "./arena.js";
import { MemoryBacking } from "./backing.js";
import { DirectMap, type DirectMapOptions } from "./direct-map.js";
import { ErrorCode, MmkitError, describeValue } from "./errors.js";
import { MemoryFailure } from "./memory-failure.js";
import { MemoryMap, type MemoryMapOptions } from "./memory-map.js";
import { requireInteger } from "./validate.js";

/**
 * Options for {@link PhysicalMemory}.
 *
 * @example
 * ```ts
 * const machine = new PhysicalMemory({ ranges: [{ base: 0, size: 16 * MiB }], backing: "array" });
 * machine.bytes(4096, 2).set([1, 2]);   // real bytes behind the RAM
 * ```
 */
export interface PhysicalMemoryOptions extends MemoryMapOptions {
  /** Back RAM with real bytes: `"array"` (ArrayBuffer), `"shared"` (SharedArrayBuffer), or none (default). */
  backing?: "array" | "shared" | "none";
  /** Refuse backing larger than this many bytes. */
  maxBackingBytes?: number;
  /** Direct-map options; its page tables come from `arena` when given. */
  directMap?: Omit<DirectMapOptions, "arena">;
  /** Arena for the direct map's page tables. */
  arena?: ArrayFactory;
}

/**
 * The whole machine: the memory map, optional backing bytes, the direct map and memory-failure
 * events, built together from one description.
 *
 * @example
 * ```ts
 * const machine = new PhysicalMemory({ ranges: [{ base: 0, size: 64 << 20 }], backing: "array" });
 * machine.bytes(8192, 4).set([1, 2, 3, 4]);
 * machine.map.presentPages;                 // 16384
 * machine.directMap.counters().directMap2M; // 67108864
 * ```
 */
export class PhysicalMemory {
  /** The machine's RAM ranges and nodes. */
  readonly map: MemoryMap;
  /** The bytes behind RAM, or null when the machine has none (`backing: "none"`). */
  readonly backing: MemoryBacking | null;
  /** The kernel's direct map of this machine's RAM. */
  readonly directMap: DirectMap;
  /** Poisoned pages and the listeners told about them. */
  readonly failures: MemoryFailure;

  constructor(options: PhysicalMemoryOptions) {
    this.map = new MemoryMap(options);
    const kind = options.backing ?? "none";
    if (kind !== "none" && kind !== "array" && kind !== "shared") {
      throw new MmkitError(ErrorCode.InvalidArgument, `backing must be "array", "shared" or "none", got ${describeValue(kind)}`);
    }
    // Checked even without backing: a bad limit is a mistake whether or not it ends up used.
    if (options.maxBackingBytes !== undefined) requireInteger(options.maxBackingBytes, "maxBackingBytes");
    const dm = options.directMap ?? {};
    if (typeof dm !== "object") throw new MmkitError(ErrorCode.InvalidArgument, `directMap options must be an object, got ${describeValue(dm)}`);
    this.backing =
      kind === "none"
        ? null
        : new MemoryBacking(this.map, { shared: kind === "shared", ...(options.maxBackingBytes !== undefined ? { maxBytes: options.maxBackingBytes } : {}) });
    this.directMap = new DirectMap(this.map, { ...dm, ...(options.arena !== undefined ? { arena: options.arena } : {}) });
    this.failures = new MemoryFailure(this.map);
  }

  /** Bytes per page (the memory map's). */
  get pageSize(): number {
    return this.map.pageSize;
  }

  /** A view of backed bytes; throws `ERR_INVALID_STATE` on an unbacked machine. */
  bytes(address: number, length: number): Uint8Array {
    if (this.backing === null) throw new MmkitError(ErrorCode.InvalidState, "this machine has no backing bytes (construct it with backing: \"array\" or \"shared\")");
    return this.backing.bytes(address, length);
  }

  /** Reports a memory failure at `pfn` (see {@link MemoryFailure.poison}). */
  poison(pfn: number, source?: string): boolean {
    return this.failures.poison(pfn, source);
  }
}
