import { Potad } from "@mmkit/potad";
import type { PageFace } from "@mmkit/potad";
import type { Op, Soak, SoakInstance } from "../soak.js";
import { LivePicker, holds, refused, same } from "./support.js";

/** RAM-like (512 B granule, fronts for 4-32 KiB) and swap-like (4 KiB slots above 1 TiB, not aligned to its size). */
const SPACES = [
  { base: 0, size: 4 << 20, granule: 512, frontOrder: 3 },
  { base: 2 ** 40 + 3 * 4096, size: 2 << 20, granule: 4096 },
] as const;

const KINDS = [
  { name: "alloc", weight: 8 },
  { name: "contiguous", weight: 2 },
  { name: "page-alloc", weight: 3 },
  { name: "free", weight: 11 },
  { name: "lookup", weight: 2 },
  { name: "drain", weight: 1 },
  { name: "misuse", weight: 1 },
] as const;

interface Allocation {
  space: number;
  address: number;
  size: number;
  id: number;
  descriptor: number;
  /** Page-face order, or -1 for `alloc`/contiguous allocations. */
  order: number;
}

function pow2AtLeast(n: number): number {
  return 2 ** Math.ceil(Math.log2(n));
}

class PotadSoak implements SoakInstance {
  readonly potad = new Potad({ frontHigh: 7 });
  readonly ids: number[];
  readonly face: PageFace;
  /** One cell per granule: 0 free, else the id of the allocation holding it. */
  readonly cells = SPACES.map((s) => new Int32Array(s.size / s.granule));
  readonly bytes = SPACES.map(() => 0);
  readonly live = new LivePicker<Allocation>();
  readonly freedAddresses = new LivePicker<[space: number, address: number]>();
  #id = 0;

  constructor() {
    this.ids = SPACES.map((s) => this.potad.addSpace({ ...s }));
    this.face = this.potad.pageFace(this.ids[0]!, 4096);
  }

  #mark(a: Allocation, id: number): void {
    const spec = SPACES[a.space]!;
    const first = (a.address - spec.base) / spec.granule;
    const count = a.size / spec.granule;
    const cells = this.cells[a.space]!;
    holds(Number.isInteger(first) && first >= 0 && first + count <= cells.length, `allocation at ${a.address} (${a.size} B) is outside space ${a.space}`);
    for (let i = first; i < first + count; i++) holds(id === 0 ? cells[i] === a.id : cells[i] === 0, `granule ${i} of space ${a.space} (address ${spec.base + i * spec.granule}) is held by allocation ${cells[i]} ${id === 0 ? `, not ${a.id}` : "already"}`);
    cells.fill(id, first, first + count);
    this.bytes[a.space]! += id === 0 ? -a.size : a.size;
  }

  /** Whether the model has `size` free bytes at some address of `space` aligned to `alignment`. */
  #hasWindow(space: number, size: number, alignment: number): boolean {
    const spec = SPACES[space]!;
    const cells = this.cells[space]!;
    const per = size / spec.granule;
    for (let a = Math.ceil(spec.base / alignment) * alignment; a + size <= spec.base + spec.size; a += alignment) {
      const first = (a - spec.base) / spec.granule;
      let free = true;
      for (let i = first; i < first + per && free; i++) free = cells[i] === 0;
      if (free) return true;
    }
    return false;
  }

  #taken(a: Allocation, log?: string[]): void {
    if (log) log[log.length - 1] += ` -> ${a.address}`;
    this.#mark(a, a.id);
    this.live.add(a);
  }

  #observable(): string {
    return JSON.stringify([this.potad.blockCount, this.ids.map((id) => this.potad.stats(id))]);
  }

  step(op: Op, log?: string[]): void {
    const p = this.potad;
    switch (KINDS[op.kind]!.name) {
      case "alloc": {
        const space = op.a & 1;
        const spec = SPACES[space]!;
        const size = 1 + ((op.a >>> 1) % (op.b & 1 ? 2048 : 65536));
        const descriptor = (op.b >>> 1) % 3 === 0 ? -1 : (op.b >>> 2) % 100_000;
        log?.push(`alloc ${size} B in space ${space}${descriptor >= 0 ? ` with descriptor ${descriptor}` : ""}`);
        const address = p.alloc(this.ids[space]!, size, descriptor >= 0 ? { descriptor } : undefined);
        const block = Math.max(pow2AtLeast(size), spec.granule);
        if (address < 0) {
          if (log) log[log.length - 1] += " -> -1";
          holds(!this.#hasWindow(space, block, block), `alloc of ${size} B in space ${space} failed but the model has a free aligned ${block}-byte block`);
          return;
        }
        holds(address % block === 0 || space === 1, `address ${address} is not aligned to its ${block}-byte block`);
        this.#taken({ space, address, size: block, id: ++this.#id, descriptor, order: -1 }, log);
        return;
      }
      case "contiguous": {
        const space = op.a & 1;
        const spec = SPACES[space]!;
        const size = spec.granule + ((op.a >>> 1) % (256 << 10));
        const alignment = Math.max(spec.granule, pow2AtLeast(size) >> (1 + (op.b % 4)));
        const total = Math.ceil(size / alignment) * alignment;
        log?.push(`contiguous ${size} B at ${alignment} in space ${space}`);
        const address = p.alloc(this.ids[space]!, size, { alignment, descriptor: 7 });
        if (address < 0) {
          if (log) log[log.length - 1] += " -> -1";
          holds(!this.#hasWindow(space, total, alignment), `contiguous ${size} B at ${alignment} in space ${space} failed but the model has a window`);
          return;
        }
        holds(address % alignment === 0, `contiguous address ${address} is not aligned to ${alignment}`);
        same(p.sizeOf(address), total, `size of the contiguous allocation at ${address}`);
        this.#taken({ space, address, size: total, id: ++this.#id, descriptor: 7, order: -1 }, log);
        return;
      }
      case "page-alloc": {
        const order = op.a % 4 === 3 ? op.a % 7 : op.a % 3;
        log?.push(`page face: allocPages(${order})`);
        const pfn = this.face.allocPages(order);
        const size = 4096 * 2 ** order;
        if (pfn < 0) {
          if (log) log[log.length - 1] += " -> -1";
          holds(!this.#hasWindow(0, size, size), `allocPages(${order}) failed but the model has a free block`);
          return;
        }
        this.#taken({ space: 0, address: pfn * 4096, size, id: ++this.#id, descriptor: -1, order }, log);
        return;
      }
      case "free": {
        const a = this.live.take(op.a);
        if (a === undefined) return;
        log?.push(a.order >= 0 ? `page face: freePages(${a.address / 4096}, ${a.order})` : `free ${a.address} (${a.size} B in space ${a.space})`);
        this.#mark(a, 0);
        if (a.order >= 0) this.face.freePages(a.address / 4096, a.order);
        else same(p.free(a.address), a.descriptor, `descriptor returned by free(${a.address})`);
        this.freedAddresses.add([a.space, a.address]);
        if (this.freedAddresses.size > 64) this.freedAddresses.take(op.b);
        return;
      }
      case "lookup": {
        const a = this.live.peek(op.a);
        if (a === undefined) return;
        const at = a.address + (op.b % a.size);
        log?.push(`lookup ${at}`);
        same(p.allocationAt(at), a.address, `allocationAt(${at})`);
        same(p.descriptorOf(at), a.descriptor, `descriptorOf(${at})`);
        return;
      }
      case "drain":
        log?.push("drain the fronts");
        p.drain();
        return;
      case "misuse": {
        const kind = op.a % 3;
        if (kind === 0) {
          const f = this.freedAddresses.peek(op.b);
          if (f === undefined) return;
          const [space, address] = f;
          const spec = SPACES[space]!;
          if (this.cells[space]![(address - spec.base) / spec.granule] !== 0) return; // it went out again
          log?.push(`double free of ${address}`);
          refused(() => p.free(address), ["ERR_DOUBLE_FREE", "ERR_NOT_ALLOCATED"], () => this.#observable(), `double free of ${address}`);
        } else {
          const a = this.live.peek(op.b);
          if (a === undefined) return;
          const granule = SPACES[a.space]!.granule;
          if (kind === 1 && a.size > granule) {
            log?.push(`free of ${a.address + granule}, inside the allocation at ${a.address}`);
            refused(() => p.free(a.address + granule), ["ERR_NOT_ALLOCATED"], () => this.#observable(), `free inside an allocation`);
          } else if (kind === 2) {
            log?.push(`free of ${a.address} with expected size ${a.size * 2}`);
            refused(() => p.free(a.address, a.size * 2), ["ERR_WRONG_SIZE"], () => this.#observable(), `free with the wrong size`);
          }
        }
        return;
      }
    }
  }

  check(): void {
    this.potad.check();
    this.ids.forEach((id, s) => same(this.potad.stats(id).allocatedBytes, this.bytes[s], `allocated bytes of space ${s}`));
  }

  drain(): void {
    for (const a of this.live.takeAll()) {
      this.#mark(a, 0);
      this.potad.free(a.address);
    }
    this.potad.drain();
    this.potad.check();
    // Every space whole again: the same free blocks as a fresh POTAD's.
    const fresh = new Potad();
    SPACES.forEach((s, i) => {
      const id = fresh.addSpace({ ...s });
      same(JSON.stringify(this.potad.stats(this.ids[i]!).freeBytesByOrder), JSON.stringify(fresh.stats(id).freeBytesByOrder), `free bytes by order of space ${i} after the final drain`);
      same(this.potad.stats(this.ids[i]!).allocations, 0, `allocations left in space ${i}`);
    });
  }
}

/** POTAD: blocks, contiguous ranges, the page face and descriptors over a RAM-like and a swap-like space, against a granule map. */
export const potadSoak: Soak = {
  name: "potad",
  package: "potad",
  description: "Potad over a 512 B-granule RAM space with fronts and a swap space above 1 TiB: blocks, contiguous ranges, page face, descriptors, lookups, drains; double/middle/wrong-size frees refused",
  defaultOps: 6_000_000,
  kinds: KINDS,
  create: () => new PotadSoak(),
};
