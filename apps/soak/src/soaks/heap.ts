import { Heap } from "@mmkit/heap";
import type { Op, Soak, SoakInstance } from "../soak.js";
import { LivePicker, PageOwners, fillStamp, hasStamp, holds, isZeroed, refused, same } from "./support.js";

const START = 2 << 20;
const MAX = 8 << 20;
/** The model's unit: 8 bytes, the heap's smallest alignment. */
const UNIT = 8;

const KINDS = [
  { name: "malloc", weight: 8 },
  { name: "calloc", weight: 2 },
  { name: "realloc", weight: 3 },
  { name: "free", weight: 11 },
  { name: "misuse", weight: 1 },
] as const;

/** Sizes: small ones mostly (slab classes), some of several pages (ranges of the heap's segregated-fit allocator). */
function sizeOf(a: number): number {
  const k = a % 16;
  if (k < 10) return 1 + ((a >>> 4) % 512);
  if (k < 14) return 1 + ((a >>> 4) % 8192);
  return 8193 + ((a >>> 4) % (96 << 10));
}

/**
 * `@mmkit/heap` (slab size classes and a segregated-fit range allocator) over a resizable ArrayBuffer that grows from 2
 * to 8 MiB: malloc with alignments, calloc, realloc, free. Each allocation's bytes carry a stamp,
 * checked at free and across realloc (the bytes it keeps); a unit map finds any overlap at once.
 */
class HeapSoak implements SoakInstance {
  // A resizable ArrayBuffer (ES2024; Node 20 has it, the ES2022 lib types do not).
  readonly buffer = new (ArrayBuffer as unknown as new (bytes: number, options: { maxByteLength: number }) => ArrayBuffer)(START, { maxByteLength: MAX });
  readonly heap = new Heap(this.buffer, { grow: true });
  readonly units = new PageOwners(MAX / UNIT);
  readonly live = new LivePicker<[address: number, size: number, id: number]>();
  readonly freed = new LivePicker<number>();
  #id = 0;
  #requested = 0;

  #stamp(id: number): number {
    return 1 + (id % 251);
  }

  #taken(address: number, size: number, align: number, log?: string[]): void {
    if (log) log[log.length - 1] += ` -> ${address}`;
    holds(address % align === 0, `address ${address} is not aligned to ${align}`);
    const id = ++this.#id;
    this.units.take(address / UNIT, Math.ceil(size / UNIT), id);
    same(this.heap.sizeOf(address), size, `sizeOf(${address})`);
    holds(this.heap.usableSize(address) >= size, `usableSize(${address}) is below its size ${size}`);
    fillStamp(this.heap.u8(address, size), this.#stamp(id));
    this.live.add([address, size, id]);
    this.#requested += size;
  }

  #verify(address: number, size: number, id: number, what: string): void {
    const stamp = this.#stamp(id);
    holds(hasStamp(this.heap.u8(address, size), stamp), `${what}: the ${size} bytes at ${address} lost their stamp ${stamp}`);
  }

  step(op: Op, log?: string[]): void {
    const h = this.heap;
    switch (KINDS[op.kind]!.name) {
      case "malloc": {
        const size = sizeOf(op.a);
        const align = op.b % 4 === 0 ? 2 ** (3 + ((op.b >>> 2) % 11)) : 8;
        log?.push(`malloc(${size}, ${align})`);
        const address = h.malloc(size, align);
        if (address >= 0) this.#taken(address, size, align, log);
        else if (log) log[log.length - 1] += " -> -1";
        return;
      }
      case "calloc": {
        const count = 1 + (op.a % 64);
        const each = 1 + (op.b % 128);
        log?.push(`calloc(${count}, ${each})`);
        const address = h.calloc(count, each);
        if (address < 0) {
          if (log) log[log.length - 1] += " -> -1";
          return;
        }
        holds(isZeroed(h.u8(address, count * each)), `calloc(${count}, ${each}) at ${address} is not zeroed`);
        this.#taken(address, count * each, 8, log);
        return;
      }
      case "realloc": {
        const item = this.live.take(op.a);
        if (item === undefined) return;
        const [address, size, id] = item;
        const next = sizeOf(op.b);
        log?.push(`realloc(${address}, ${next}) of ${size} bytes`);
        this.#verify(address, size, id, "before realloc");
        const moved = h.realloc(address, next);
        if (moved < 0) {
          // Out of memory: the old allocation stands, unchanged.
          if (log) log[log.length - 1] += " -> -1";
          this.live.add(item);
          return;
        }
        this.units.give(address / UNIT, Math.ceil(size / UNIT), id);
        this.#requested -= size;
        const kept = Math.min(size, next);
        holds(hasStamp(h.u8(moved, kept), this.#stamp(id), size), `realloc(${address}, ${next}) -> ${moved} did not keep the first ${kept} bytes`);
        this.#taken(moved, next, 8, log);
        return;
      }
      case "free": {
        const item = this.live.take(op.a);
        if (item === undefined) return;
        const [address, size, id] = item;
        log?.push(`free(${address})`);
        this.#verify(address, size, id, "at free");
        this.units.give(address / UNIT, Math.ceil(size / UNIT), id);
        h.free(address);
        this.#requested -= size;
        this.freed.add(address);
        if (this.freed.size > 64) this.freed.take(op.b);
        return;
      }
      case "misuse": {
        const observable = (): string => JSON.stringify(h.stats());
        if ((op.a & 1) === 0) {
          const address = this.freed.peek(op.b);
          if (address === undefined || this.units.owner(address / UNIT) !== 0) return;
          log?.push(`double free of ${address}`);
          refused(() => h.free(address), ["ERR_DOUBLE_FREE", "ERR_NOT_ALLOCATED"], observable, `double free of ${address}`);
        } else {
          const item = this.live.peek(op.b);
          if (item === undefined || item[1] <= UNIT) return;
          log?.push(`free(${item[0] + UNIT}), inside the allocation at ${item[0]}`);
          refused(() => h.free(item[0] + UNIT), ["ERR_NOT_ALLOCATED"], observable, `free inside an allocation`);
        }
        return;
      }
    }
  }

  check(): void {
    this.heap.check();
    const s = this.heap.stats();
    same(s.allocations, this.live.size, "live allocations");
    same(s.requestedBytes, this.#requested, "requested bytes");
  }

  drain(): void {
    for (const [address, size, id] of this.live.takeAll()) {
      this.#verify(address, size, id, "in the final drain");
      this.units.give(address / UNIT, Math.ceil(size / UNIT), id);
      this.heap.free(address);
    }
    this.heap.slab.shrink();
    this.heap.check();
    const s = this.heap.stats();
    same(s.allocations, 0, "allocations after the final drain");
    same(s.reservedBytes, 0, "bytes the heap holds from the buffer after freeing everything and shrinking the slabs");
  }
}

/** The heap facade: malloc/calloc/realloc/free with alignments over a growing resizable ArrayBuffer, stamps checked. */
export const heapSoak: Soak = {
  name: "heap",
  package: "heap",
  description: "Heap (slab size classes and a segregated-fit range allocator) over a resizable ArrayBuffer growing 2 to 8 MiB: malloc with alignments, calloc, realloc keeping bytes, free; stamps checked, double and inside frees refused",
  defaultOps: 1_000_000,
  kinds: KINDS,
  create: () => new HeapSoak(),
};
