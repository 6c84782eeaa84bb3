import { BuddyAllocator } from "@mmkit/buddy";
import { FragmentCache } from "@mmkit/frag-cache";
import { MiB, PhysicalMemory } from "@mmkit/physmem";
import type { Op, Soak, SoakInstance } from "../soak.js";
import { fillStamp, hasStamp, holds, isZeroed, LivePicker, PageOwners, refused, same, toggleFaults } from "./support.js";

const BYTES = 8 * MiB;
/** The model's unit: 16 bytes, the cache's granule. */
const UNIT = 16;

const KINDS = [
  { name: "alloc", weight: 10 },
  { name: "free", weight: 9 },
  { name: "drain", weight: 1 },
  { name: "faults", weight: 1 },
  { name: "misuse", weight: 1 },
  { name: "pressure", weight: 1 },
] as const;

/** Sizes as a receive path sees them: IMIX-like mostly, any size up to 4 KiB, some up to a block. */
function sizeOf(a: number): number {
  const k = a % 10;
  if (k < 6) return [64, 576, 1500, 64, 9000 % 4096, 256][k]!;
  if (k < 9) return 1 + ((a >>> 4) % 4096);
  return 4097 + ((a >>> 4) % (32768 - 4096));
}

/**
 * FragmentCache over a real buddy allocator (its page source, with fail_page_alloc switched on and
 * off) on backed memory, with zeroOnAlloc and poison: each fragment is filled with a stamp of its
 * own and the stamp is verified when it is freed, so an overlap corrupts a stamp and is seen.
 */
class FragCacheSoak implements SoakInstance {
  readonly machine = new PhysicalMemory({ ranges: [{ base: 0, size: BYTES, node: 0 }], backing: "array" });
  readonly buddy = new BuddyAllocator(this.machine.map, { minFreeKbytes: 0 });
  readonly cache: FragmentCache;
  readonly units = new PageOwners(BYTES / UNIT);
  readonly live = new LivePicker<[address: number, units: number, id: number]>();
  readonly freed = new LivePicker<number>();
  /** Pages another user of the allocator holds (pressure, so the cache's refills fail and fall back). */
  readonly others = new LivePicker<number>();
  #id = 0;

  constructor() {
    this.cache = new FragmentCache(this.buddy, { backing: this.machine, zeroOnAlloc: true, poison: true });
  }

  step(op: Op, log?: string[]): void {
    const c = this.cache;
    switch (KINDS[op.kind]!.name) {
      case "alloc": {
        const size = sizeOf(op.a);
        const align = op.b % 4 === 0 ? 2 ** (op.b >>> 2) % 8192 || 1 : 1;
        log?.push(`alloc ${size} B align ${align}`);
        const address = c.alloc(size, align);
        if (log) log[log.length - 1] += ` -> ${address}`;
        if (address < 0) return;
        holds(address % align === 0 && address % UNIT === 0, `fragment ${address} is not aligned to ${Math.max(align, UNIT)}`);
        const units = Math.ceil(size / UNIT);
        const id = ++this.#id;
        this.units.take(address / UNIT, units, id);
        const view = c.view(address);
        same(view.length, units * UNIT, `view length of the fragment at ${address}`);
        holds(isZeroed(view), `fragment ${address} was not zeroed (zeroOnAlloc)`);
        fillStamp(view, 1 + (id % 127)); // never 0 nor the poison byte 0xaa
        this.live.add([address, units, id]);
        return;
      }
      case "free": {
        const item = this.live.take(op.a);
        if (item === undefined) return;
        const [address, units, id] = item;
        log?.push(`free ${address}`);
        const stamp = 1 + (id % 127);
        holds(hasStamp(c.view(address), stamp), `fragment ${address} lost its stamp ${stamp}: another fragment overlapped it`);
        this.units.give(address / UNIT, units, id);
        c.free(address);
        this.freed.add(address);
        if (this.freed.size > 64) this.freed.take(op.b);
        return;
      }
      case "drain":
        log?.push("drain");
        c.drain();
        return;
      case "faults": {
        toggleFaults(this.buddy, op, log, "page source fault injection");
        return;
      }
      case "misuse": {
        const address = this.freed.peek(op.a);
        if (address === undefined || c.isLive(address)) return;
        log?.push(`double free of ${address}`);
        refused(() => c.free(address), ["ERR_DOUBLE_FREE", "ERR_NOT_ALLOCATED", "ERR_INVALID_ARGUMENT"], () => JSON.stringify([c.stats(), c.blocks(), c.currentBlock()]), `double free of fragment ${address}`);
        return;
      }
      case "pressure": {
        // Another user takes or gives back a block of the allocator.
        if ((op.a & 1) === 0 || this.others.size > 200) {
          const pfn = this.others.take(op.b);
          if (pfn === undefined) return;
          log?.push(`another user frees pfn ${pfn} (order 3)`);
          this.buddy.freePages(pfn, 3);
        } else {
          const pfn = this.buddy.allocPages(3);
          log?.push(`another user takes order 3 -> ${pfn}`);
          if (pfn >= 0) this.others.add(pfn);
        }
        return;
      }
    }
  }

  check(): void {
    const c = this.cache;
    c.check();
    this.buddy.check();
    const s = c.stats();
    same(s.liveFragments, this.live.size, "live fragments");
    same(c.takePoisonReports().length, 0, "poison reports (a write after free)");
    const held = c.blocks().reduce((n, b) => n + 2 ** b.order, 0);
    same(this.buddy.allocatedPageCount(), held + 8 * this.others.size, "pages out of the allocator (the cache's blocks and the other user's)");
  }

  drain(): void {
    this.buddy.setFaultInjection(null);
    for (const [address, units, id] of this.live.takeAll()) {
      this.units.give(address / UNIT, units, id);
      this.cache.free(address);
    }
    for (const pfn of this.others.takeAll()) this.buddy.freePages(pfn, 3);
    this.cache.drain();
    this.cache.check();
    const s = this.cache.stats();
    same(s.blocksInUse, 0, "blocks the cache holds after the final drain");
    same(s.blocksTaken, s.blocksReturned, "blocks taken and returned");
    this.buddy.drainAll();
    same(this.buddy.freePageCount(), this.buddy.managedPages(), "free pages after the final drain (every page back)");
  }
}

/** The page-fragment cache over a buddy allocator with fault injection and another user's pressure, stamps verified at free. */
export const fragCacheSoak: Soak = {
  name: "frag-cache",
  package: "frag-cache",
  description: "FragmentCache over a buddy on backed memory: IMIX and odd sizes and alignments, stamps checked at free, drains, refill failures (fail_page_alloc, another user's pressure), double frees refused",
  defaultOps: 560_000,
  kinds: KINDS,
  create: () => new FragCacheSoak(),
};
