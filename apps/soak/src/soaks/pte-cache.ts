import { BuddyAllocator } from "@mmkit/buddy";
import { MemoryMap, MiB, DirectMap } from "@mmkit/physmem";
import { PageState, PteMappedCache } from "@mmkit/pte-cache";
import type { Op, Soak, SoakInstance } from "../soak.js";
import { holds, LivePicker, PageOwners, refused, same, toggleFaults } from "./support.js";

const BYTES = 16 * MiB;

const KINDS = [
  { name: "alloc", weight: 8 },
  { name: "free", weight: 7 },
  { name: "other-alloc", weight: 2 },
  { name: "other-free", weight: 2 },
  { name: "shrink", weight: 1 },
  { name: "faults", weight: 1 },
  { name: "misuse", weight: 1 },
] as const;

/**
 * The PTE-mapped page cache over a real buddy allocator (with fail_page_alloc on and off) and a real
 * direct map on two nodes, beside another user of the allocator whose frees the cache may adopt.
 * Every page is owned exactly once (allocator, cache, other user), and the direct map's splits and
 * collapses are the cache's own. Without `splitBlocks`: the buddy allocator cannot take back single
 * pages of a block it handed out as order 9 (it has no `split_page`).
 */
class PteCacheSoak implements SoakInstance {
  readonly map = MemoryMap.uniform(BYTES, { nodes: 2 });
  readonly directMap = new DirectMap(this.map, { largestLeaf: "2M" });
  readonly buddy = new BuddyAllocator(this.map, { minFreeKbytes: 0 });
  readonly cache: PteMappedCache;
  readonly owners = new PageOwners(this.map.presentPages);
  readonly inUse = new LivePicker<number>();
  readonly others = new LivePicker<number>();
  readonly freed = new LivePicker<number>();

  constructor() {
    this.cache = new PteMappedCache({ source: this.buddy, directMap: this.directMap, nodeOf: (pfn) => this.map.nodeOf(pfn) });
  }

  step(op: Op, log?: string[]): void {
    const c = this.cache;
    switch (KINDS[op.kind]!.name) {
      case "alloc": {
        const nid = (op.a % 3) - 1;
        log?.push(`alloc on node ${nid}`);
        const pfn = c.alloc(nid);
        if (log) log[log.length - 1] += ` -> ${pfn}`;
        if (pfn < 0) return;
        this.owners.take(pfn, 1, 1);
        same(c.pageState(pfn), PageState.InUse, `state of page ${pfn} just handed out`);
        same(this.directMap.leafPages(pfn), 1, `direct-map leaf pages of PTE-mapped page ${pfn}`);
        this.inUse.add(pfn);
        return;
      }
      case "free": {
        const pfn = this.inUse.take(op.a);
        if (pfn === undefined) return;
        log?.push(`free ${pfn}`);
        this.owners.give(pfn, 1, 1);
        c.free(pfn);
        this.freed.add(pfn);
        if (this.freed.size > 64) this.freed.take(op.b);
        return;
      }
      case "other-alloc": {
        const pfn = this.buddy.allocPages(0);
        log?.push(`another user takes a page -> ${pfn}`);
        if (pfn < 0) return;
        this.owners.take(pfn, 1, 2);
        this.others.add(pfn);
        return;
      }
      case "other-free": {
        const pfn = this.others.take(op.a);
        if (pfn === undefined) return;
        this.owners.give(pfn, 1, 2);
        const tracked = c.tracksRegionOf(pfn);
        const taken = c.adopt(pfn);
        log?.push(`another user frees ${pfn}: ${taken ? "adopted by the cache" : "to the allocator"}`);
        same(taken, tracked, `adopt(${pfn}) against tracksRegionOf`);
        if (!taken) this.buddy.freePages(pfn, 0);
        return;
      }
      case "shrink": {
        const n = op.a % 4 === 0 ? op.b % 4000 : op.b % 64;
        const nid = (op.a >>> 2) % 3 - 1;
        const freeable = c.freeablePages(nid);
        log?.push(`shrink ${n} on node ${nid} (freeable ${freeable})`);
        const got = c.shrink(n, nid);
        if (log) log[log.length - 1] += ` -> ${got}`;
        holds(got <= freeable && got >= Math.min(n, freeable) && got < n + 512, `shrink(${n}, ${nid}) gave ${got} of ${freeable} freeable`);
        return;
      }
      case "faults": {
        toggleFaults(this.buddy, op, log, "page source fault injection");
        return;
      }
      case "misuse": {
        const pfn = this.freed.peek(op.a);
        if (pfn === undefined || c.pageState(pfn) !== PageState.Cached) return;
        log?.push(`double free of ${pfn}`);
        refused(() => c.free(pfn), ["ERR_DOUBLE_FREE"], () => JSON.stringify(c.stats()), `double free of PTE-mapped page ${pfn}`);
        return;
      }
    }
  }

  check(): void {
    const c = this.cache;
    c.check();
    this.directMap.check();
    this.buddy.check();
    const s = c.stats();
    same(s.inUsePages, this.inUse.size, "pages in use");
    same(this.buddy.allocatedPageCount(), s.cachedPages + s.inUsePages + this.others.size, "pages out of the allocator (cache's and the other user's)");
    const d = this.directMap.counters();
    same(d.level2Splits, s.splitsCaused, "2 MiB splits of the direct map against the cache's");
    same(d.collapses2M, s.collapses, "2 MiB collapses against the cache's");
  }

  drain(): void {
    const c = this.cache;
    this.buddy.setFaultInjection(null);
    for (const pfn of this.inUse.takeAll()) {
      this.owners.give(pfn, 1, 1);
      c.free(pfn);
    }
    for (const pfn of this.others.takeAll()) {
      this.owners.give(pfn, 1, 2);
      if (!c.adopt(pfn)) this.buddy.freePages(pfn, 0);
    }
    c.drain();
    c.check();
    same(c.stats().cachedPages, 0, "pages the cache holds after the final drain");
    this.buddy.drainAll();
    same(this.buddy.freePageCount(), this.buddy.managedPages(), "free pages after the final drain (every page back)");
    const d = this.directMap.counters();
    same(d.collapses2M, d.level2Splits, "every 2 MiB split collapsed again");
  }
}

/** The PTE-mapped page cache over a buddy allocator and a direct map on two nodes, with adoption, shrinking and fault injection. */
export const pteCacheSoak: Soak = {
  name: "pte-cache",
  package: "pte-cache",
  description: "PteMappedCache over a buddy and a real DirectMap, 2 nodes: alloc/free per node, another user's pages adopted, shrinks, fail_page_alloc 10-50 %, double frees refused; splits match collapses",
  defaultOps: 12_000_000,
  kinds: KINDS,
  create: () => new PteCacheSoak(),
};
