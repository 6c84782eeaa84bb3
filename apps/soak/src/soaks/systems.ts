import { SYSTEMS, buildSystem, type AnonMemory, type MemorySystem, type SystemDefinition } from "@mmkit/bench/src/systems/index.js";
import { MemdescType, memdescType } from "@mmkit/memdesc-lookup";
import { MiB } from "@mmkit/physmem";
import type { Op, Soak, SoakInstance } from "../soak.js";
import { LivePicker, PageOwners, fillStamp, hasStamp, holds, refused, same } from "./support.js";

const BYTES = 16 * MiB;
const PAGE = 4096;
/** Memory failures one run injects at most (each may cost a 2 MiB region when a PTE-cache refill draws it). */
const MAX_POISONS = 12;
const VIRTUAL_PAGES = 1024;
/** Owner ids in the page map: user allocations get 1.., these are fixed. */
const QUARANTINED = -1;

const KINDS = [
  { name: "anon-alloc", weight: 8 },
  { name: "anon-free", weight: 7 },
  { name: "contiguous-alloc", weight: 2 },
  { name: "contiguous-free", weight: 2 },
  { name: "pte-alloc", weight: 4 },
  { name: "pte-free", weight: 4 },
  { name: "frag-alloc", weight: 6 },
  { name: "frag-free", weight: 6 },
  { name: "anon-touch", weight: 6 },
  { name: "anon-release", weight: 3 },
  { name: "reclaim", weight: 1 },
  { name: "poison", weight: 1 },
  { name: "faults", weight: 1 },
  { name: "misuse", weight: 1 },
] as const;

/** Contiguous requests: bytes and alignment (buddy systems serve the power-of-two ones up to 4 MiB). */
const CONTIGUOUS: readonly [number, number][] = [
  [64 << 10, 64 << 10],
  [96 << 10, 32 << 10],
  [256 << 10, 256 << 10],
  [1 << 20, 1 << 20],
  [20 << 10, 4 << 10],
];

const FRAG_SIZES = [64, 576, 1500, 64, 256, 4000, 9000, 32768];

/**
 * A whole bench system (`buildSystem`) on a backed 16 MiB machine: anon blocks through direct
 * reclaim, contiguous ranges, PTE-mapped pages, fragments, anon memory swapping to a file; memory
 * failure (`machine.poison`) and fault injection (`pages.failAllocation`) mixed in. The model is
 * the page map of what users hold and what the face quarantined: no page goes out twice, none goes
 * out after it failed, fragments and swapped pages keep their bytes, and at the end every page is
 * free in the allocator or quarantined.
 */
class SystemSoak implements SoakInstance {
  readonly system: MemorySystem;
  readonly anon: AnonMemory;
  readonly owners = new PageOwners(BYTES / PAGE);
  /** Live fragments per page (pages of fragment blocks are not in `owners`). */
  readonly fragPages = new Int32Array(BYTES / PAGE);
  readonly blocks = new LivePicker<[pfn: number, order: number, id: number]>();
  readonly ranges = new LivePicker<[pfn: number, bytes: number, alignment: number, pages: number, id: number]>();
  readonly pte = new LivePicker<[pfn: number, id: number]>();
  readonly frags = new LivePicker<[address: number, size: number, stamp: number]>();
  readonly freedBlocks = new LivePicker<[pfn: number, order: number]>();
  /** Virtual pages touched and not released, and the stamp each one's bytes carry. */
  readonly touched = new Map<number, number>();
  #id = 0;
  #seenQuarantine = 0;
  #poisons = 0;
  #faultRandom = 0;

  constructor(def: SystemDefinition) {
    this.system = buildSystem(def, { bytes: BYTES, backing: true });
    this.anon = this.system.anonMemory(VIRTUAL_PAGES, 4 * MiB);
  }

  #bytes(pfn: number): Uint8Array {
    return this.system.machine.bytes(pfn * PAGE, PAGE);
  }

  /** Pages `[pfn, pfn + count)` just handed out to a user: none failed before, none held. */
  #handedOut(pfn: number, count: number, what: string): number {
    const id = ++this.#id;
    for (let p = pfn; p < pfn + count; p++) {
      holds(!this.system.machine.failures.isPoisoned(p), `${what} handed out pfn ${p}, which had failed (poisoned) before`);
      holds(this.fragPages[p] === 0, `${what} handed out pfn ${p}, which live fragments are on`);
    }
    this.owners.take(pfn, count, id);
    return id;
  }

  step(op: Op, log?: string[]): void {
    const s = this.system;
    switch (KINDS[op.kind]!.name) {
      case "anon-alloc": {
        const order = op.a % 4;
        log?.push(`anon alloc order ${order} (through direct reclaim)`);
        const pfn = s.reclaiming.allocPages(order);
        if (log) log[log.length - 1] += ` -> ${pfn}`;
        if (pfn >= 0) this.blocks.add([pfn, order, this.#handedOut(pfn, 2 ** order, `anon alloc of order ${order}`)]);
        break;
      }
      case "anon-free": {
        const b = this.blocks.take(op.a);
        if (b === undefined) return;
        log?.push(`anon free pfn ${b[0]} order ${b[1]}`);
        this.owners.give(b[0], 2 ** b[1], b[2]);
        s.reclaiming.freePages(b[0], b[1]);
        this.freedBlocks.add([b[0], b[1]]);
        if (this.freedBlocks.size > 64) this.freedBlocks.take(op.b);
        break;
      }
      case "contiguous-alloc": {
        const [bytes, alignment] = CONTIGUOUS[op.a % CONTIGUOUS.length]!;
        const pages = Math.ceil(bytes / alignment) * (alignment / PAGE);
        log?.push(`allocContiguous(${bytes}, ${alignment})`);
        const pfn = s.allocContiguous(bytes, alignment);
        if (log) log[log.length - 1] += ` -> ${pfn}`;
        if (pfn < 0) return;
        holds(pfn % (alignment / PAGE) === 0, `contiguous range at pfn ${pfn} is not aligned to ${alignment}`);
        this.ranges.add([pfn, bytes, alignment, pages, this.#handedOut(pfn, pages, `allocContiguous(${bytes}, ${alignment})`)]);
        break;
      }
      case "contiguous-free": {
        const r = this.ranges.take(op.a);
        if (r === undefined) return;
        log?.push(`freeContiguous(${r[0]}, ${r[1]}, ${r[2]})`);
        this.owners.give(r[0], r[3], r[4]);
        s.freeContiguous(r[0], r[1], r[2]);
        break;
      }
      case "pte-alloc": {
        log?.push("allocPteMapped");
        const pfn = s.allocPteMapped();
        if (log) log[log.length - 1] += ` -> ${pfn}`;
        if (pfn >= 0) this.pte.add([pfn, this.#handedOut(pfn, 1, "allocPteMapped")]);
        break;
      }
      case "pte-free": {
        const p = this.pte.take(op.a);
        if (p === undefined) return;
        log?.push(`freePteMapped(${p[0]})`);
        this.owners.give(p[0], 1, p[1]);
        s.freePteMapped(p[0]);
        break;
      }
      case "frag-alloc": {
        const size = FRAG_SIZES[op.a % FRAG_SIZES.length]! % 32769 || 1;
        log?.push(`fragment alloc ${size}`);
        const address = s.fragmentCache!.alloc(size);
        if (log) log[log.length - 1] += ` -> ${address}`;
        if (address < 0) return;
        const first = Math.floor(address / PAGE);
        const last = Math.floor((address + size - 1) / PAGE);
        for (let p = first; p <= last; p++) {
          holds(!s.machine.failures.isPoisoned(p), `fragment ${address} lies on pfn ${p}, which had failed before`);
          holds(this.owners.owner(p) === 0, `fragment ${address} lies on pfn ${p}, which allocation ${this.owners.owner(p)} holds`);
          this.fragPages[p]!++;
        }
        const stamp = 1 + (++this.#id % 250);
        fillStamp(s.machine.bytes(address, size), stamp);
        this.frags.add([address, size, stamp]);
        break;
      }
      case "frag-free": {
        const f = this.frags.take(op.a);
        if (f === undefined) return;
        const [address, size, stamp] = f;
        log?.push(`fragment free ${address}`);
        holds(hasStamp(s.machine.bytes(address, size), stamp), `fragment ${address} lost its stamp: something else wrote over it`);
        for (let p = Math.floor(address / PAGE); p <= Math.floor((address + size - 1) / PAGE); p++) this.fragPages[p]!--;
        s.fragmentCache!.free(address);
        break;
      }
      case "anon-touch": {
        const v = op.a % VIRTUAL_PAGES;
        const stamp = this.touched.get(v);
        const wasSwapped = this.anon.isSwapped(v);
        log?.push(`touch virtual page ${v}${wasSwapped ? " (swapped out)" : ""}`);
        const pfn = this.anon.touch(v);
        if (log) log[log.length - 1] += ` -> ${pfn}`;
        if (pfn < 0) return;
        const bytes = this.#bytes(pfn);
        if (stamp === undefined) {
          holds(!s.machine.failures.isPoisoned(pfn), `anon memory mapped virtual page ${v} to pfn ${pfn}, which had failed before`);
          const fresh = (v * 2654435761 + 12345) >>> 0;
          new DataView(bytes.buffer, bytes.byteOffset).setUint32(0, fresh);
          new DataView(bytes.buffer, bytes.byteOffset).setUint32(PAGE - 4, fresh);
          this.touched.set(v, fresh);
        } else {
          const view = new DataView(bytes.buffer, bytes.byteOffset);
          holds(view.getUint32(0) === stamp && view.getUint32(PAGE - 4) === stamp, `virtual page ${v} (pfn ${pfn}${wasSwapped ? ", back from swap" : ""}) lost its bytes`);
        }
        break;
      }
      case "anon-release": {
        const v = op.a % VIRTUAL_PAGES;
        if (!this.touched.has(v)) return;
        log?.push(`release virtual page ${v}`);
        this.anon.release(v);
        this.touched.delete(v);
        break;
      }
      case "reclaim": {
        const target = 1 + (op.a % 1024);
        log?.push(`reclaim ${target}`);
        s.registry!.reclaim(target);
        break;
      }
      case "poison": {
        if (this.#poisons >= MAX_POISONS) return;
        const pfn = op.a % (BYTES / PAGE);
        log?.push(`memory failure at pfn ${pfn}`);
        if (s.machine.poison(pfn)) this.#poisons++;
        break;
      }
      case "faults": {
        const on = (op.a & 1) === 0;
        const percent = 10 + (op.b % 41);
        log?.push(on ? `fault injection on, ${percent} %` : "fault injection off");
        // A deterministic generator of its own, seeded by the operation.
        this.#faultRandom = op.b | 1;
        s.pages.failAllocation = on
          ? () => {
              let x = this.#faultRandom;
              x ^= x << 13;
              x ^= x >>> 17;
              x ^= x << 5;
              this.#faultRandom = x;
              return (x >>> 0) % 100 < percent;
            }
          : null;
        break;
      }
      case "misuse": {
        const observable = (): string => JSON.stringify([s.pages.quarantine.length, s.pages.allocs, s.pages.frees, s.buddy?.freePageCount(), s.potad?.stats(s.ramSpace).allocatedBytes]);
        if ((op.a & 1) === 0) {
          const f = this.freedBlocks.peek(op.b);
          if (f === undefined || this.owners.owner(f[0]) !== 0 || s.table.get(f[0]) >= 0) return;
          log?.push(`double free of pfn ${f[0]} order ${f[1]}`);
          refused(() => s.pages.freePages(f[0], f[1]), ["ERR_NOT_ALLOCATED", "ERR_DOUBLE_FREE"], observable, `double free of pfn ${f[0]}`);
        } else {
          const r = this.ranges.peek(op.b);
          if (r === undefined) return;
          log?.push(`freeContiguous(${r[0]}) with half its size`);
          refused(() => s.freeContiguous(r[0], r[3] * PAGE / 2), ["ERR_WRONG_SIZE", "ERR_OUT_OF_RANGE", "ERR_INVALID_ARGUMENT"], observable, `freeContiguous of pfn ${r[0]} with the wrong size`);
        }
        return;
      }
    }
    this.#takeQuarantined();
  }

  /** New quarantine entries: their pages leave circulation for good; no user holds them. */
  #takeQuarantined(): void {
    const q = this.system.pages.quarantine;
    for (; this.#seenQuarantine < q.length; this.#seenQuarantine++) {
      const { pfn, pages } = q[this.#seenQuarantine]!;
      let poisoned = false;
      for (let p = pfn; p < pfn + pages; p++) {
        poisoned ||= this.system.machine.failures.isPoisoned(p);
        holds(this.fragPages[p] === 0, `quarantined pfn ${p} still has live fragments`);
      }
      holds(poisoned, `the quarantined range at pfn ${pfn} (${pages} pages) holds no failed page`);
      this.owners.take(pfn, pages, QUARANTINED);
    }
  }

  check(): void {
    const s = this.system;
    s.check();
    // Resident anon pages: each on its own frame, held by no user allocation.
    const frames = new Set<number>();
    for (const v of this.touched.keys()) {
      const pfn = this.anon.frameOf(v);
      if (pfn < 0) continue;
      holds(!frames.has(pfn), `two virtual pages share pfn ${pfn}`);
      frames.add(pfn);
      holds(this.owners.owner(pfn) === 0 && this.fragPages[pfn] === 0, `virtual page ${v} is on pfn ${pfn}, which allocation ${this.owners.owner(pfn)} (or a fragment) holds`);
      same(memdescType(s.table.get(pfn)), MemdescType.Anon, `memdesc type of the frame of virtual page ${v}`);
    }
    same(this.anon.resident, frames.size, "resident anon pages");
  }

  drain(): void {
    const s = this.system;
    s.pages.failAllocation = null;
    for (const v of [...this.touched.keys()]) this.anon.release(v);
    this.touched.clear();
    for (const [pfn, order, id] of this.blocks.takeAll()) {
      this.owners.give(pfn, 2 ** order, id);
      s.reclaiming.freePages(pfn, order);
    }
    for (const [pfn, bytes, alignment, pages, id] of this.ranges.takeAll()) {
      this.owners.give(pfn, pages, id);
      s.freeContiguous(pfn, bytes, alignment);
    }
    for (const [pfn, id] of this.pte.takeAll()) {
      this.owners.give(pfn, 1, id);
      s.freePteMapped(pfn);
    }
    for (const [address] of this.frags.takeAll()) s.fragmentCache!.free(address);
    this.fragPages.fill(0);
    s.drain();
    this.#takeQuarantined();
    s.check();
    same(this.anon.resident, 0, "resident anon pages after releasing them all");
    same(this.anon.swap!.slotsInUse, 0, "swap slots in use after releasing every virtual page");
    same(this.owners.owned, s.pages.quarantinedPages, "pages out of circulation after the final drain (only quarantined ones)");
    if (s.buddy !== null) same(s.buddy.freePageCount() + s.pages.quarantinedPages, s.buddy.managedPages(), "free + quarantined pages after the final drain (every page back)");
    else same(s.potad!.stats(s.ramSpace).allocatedBytes, s.pages.quarantinedPages * PAGE, "bytes POTAD still has allocated after the final drain (only quarantined ones)");
    for (let pfn = 0; pfn < BYTES / PAGE; pfn++) {
      const m = s.table.get(pfn);
      holds(m < 0 || memdescType(m) === MemdescType.HwPoison, `pfn ${pfn} still has a descriptor of type ${memdescType(m)} after the final drain`);
    }
  }

  dispose(): void {
    this.system.dispose();
  }
}

/** One soak per shipped bench system. */
export const systemSoaks: Soak[] = SYSTEMS.map((def) => ({
  name: `system:${def.name}`,
  package: "bench",
  description: `the ${def.name} system (${def.description}), 16 MiB backed: anon via direct reclaim, contiguous, PTE-mapped, fragments, swapping anon memory; memory failure and fault injection`,
  defaultOps: 1_800_000,
  kinds: KINDS,
  create: () => new SystemSoak(def),
}));
