import { BuddyAllocator } from "@mmkit/buddy";
import { MemoryMap, MiB } from "@mmkit/physmem";
import { DirectReclaim, ListLru, LruWalk, SHRINK_EMPTY, SHRINK_STOP, ShrinkerRegistry, type ShrinkControl, type Shrinker } from "@mmkit/shrinker";
import type { Op, Soak, SoakInstance } from "../soak.js";
import { holds, LivePicker, PageOwners, same, toggleFaults } from "./support.js";

const BYTES = 16 * MiB;
const CACHES = 3;
/** Scan calls a pass makes to one shrinker at most: far above what an honest cache here needs (2 x 2048 / 32 = 128; a cache holds at most 2048 pages of a node), so only liars reach it. */
const MAX_SCAN_CALLS = 160;

const KINDS = [
  { name: "app-alloc", weight: 6 },
  { name: "app-free", weight: 7 },
  { name: "cache-fill", weight: 6 },
  { name: "cache-touch", weight: 2 },
  { name: "cache-drop", weight: 2 },
  { name: "shrink", weight: 1 },
  { name: "reclaim", weight: 1 },
  { name: "misbehave", weight: 1 },
  { name: "faults", weight: 1 },
] as const;

/** Shrinkers that misbehave, each in its own way; registered and unregistered at random beside the honest caches. */
const MISBEHAVIOURS: ((sc: ShrinkControl) => number)[][] = [
  [() => { throw new Error("count exploded"); }, () => 0],
  [() => 100, () => { throw new Error("scan exploded"); }],
  [() => 2 ** 60, () => 0], // the liar of issue 13: a huge count, scans that free nothing
  [() => 1e15, (sc) => ((sc.nrScanned = 1), 0)],
  [() => Number.NaN, () => 0],
  [() => -7, () => 0],
  [() => 50, (sc) => sc.nrToScan * 1000], // over-reports
  [() => 50, (sc) => ((sc.nrScanned = -3), 1)],
  [() => SHRINK_EMPTY, () => 0],
  [() => 500, () => SHRINK_STOP],
];

/**
 * The shrinker registry and direct reclaim under an application: three honest page caches (NUMA-aware
 * `ListLru`s of pfns over two nodes) hold pages of a buddy allocator; the application allocates
 * through `DirectReclaim`, which shrinks them when the allocator runs dry; misbehaving shrinkers
 * (throwing, lying, over-reporting) come and go; fail_page_alloc goes on and off. Each honest cache's
 * content is modelled, and the registry's figures for it must match what it really freed.
 */
class ShrinkerSoak implements SoakInstance {
  readonly map = MemoryMap.uniform(BYTES, { nodes: 2 });
  readonly buddy = new BuddyAllocator(this.map, { minFreeKbytes: 0 });
  /** Warnings about an honest cache (there must be none: it never misbehaves and never needs the scan-call limit). */
  readonly honestWarnings: string[] = [];
  readonly registry = new ShrinkerRegistry({ nodes: 2, maxScanCalls: MAX_SCAN_CALLS, warningLimit: 0, onWarning: (w) => void (w.shrinker.startsWith("page-cache-") && this.honestWarnings.push(w.message)) });
  // Four rounds, not sixteen: at the allocator's limit each round meets the liars' scan-call limits again.
  readonly reclaim = new DirectReclaim(this.buddy, this.registry, { maxRetries: 4 });
  readonly owners = new PageOwners(this.map.presentPages);
  readonly lists: ListLru<number>[] = [];
  readonly honest: Shrinker[] = [];
  /** Pages each honest cache freed, as the soak counted them in its own scan callbacks. */
  readonly freedBy = new Float64Array(CACHES);
  readonly app = new LivePicker<number>();
  readonly misbehaving: (Shrinker | null)[] = MISBEHAVIOURS.map(() => null);

  constructor() {
    for (let k = 0; k < CACHES; k++) {
      const lru = new ListLru<number>({ nodes: 2, universe: this.map.presentPages });
      this.lists.push(lru);
      const shrinker: Shrinker = {
        name: `page-cache-${k}`,
        numaAware: true,
        batch: 32,
        seeks: k, // 0, 1, 2: from "trim hard" to the default
        count: (sc) => lru.count(sc.nid),
        scan: (sc) =>
          lru.shrinkWalk(sc, (pfn) => {
            this.owners.give(pfn, 1, 2 + k);
            this.buddy.freePages(pfn, 0);
            this.freedBy[k]!++;
            return LruWalk.Removed;
          }),
      };
      this.honest.push(shrinker);
      this.registry.register(shrinker);
    }
  }

  step(op: Op, log?: string[]): void {
    switch (KINDS[op.kind]!.name) {
      case "app-alloc": {
        log?.push("application allocates a page through direct reclaim");
        const pfn = this.reclaim.allocPages(0);
        if (log) log[log.length - 1] += ` -> ${pfn}`;
        if (pfn < 0) return;
        this.owners.take(pfn, 1, 1);
        this.app.add(pfn);
        return;
      }
      case "app-free": {
        const pfn = this.app.take(op.a);
        if (pfn === undefined) return;
        this.owners.give(pfn, 1, 1);
        const k = op.b % (CACHES + 1);
        if (k < CACHES) {
          // The page stays cached (page cache), on its node's list of cache k.
          log?.push(`application frees ${pfn} into cache ${k}`);
          this.owners.take(pfn, 1, 2 + k);
          same(this.lists[k]!.add(pfn, this.map.nodeOf(pfn)), true, `ListLru.add(${pfn}) of cache ${k}`);
        } else {
          log?.push(`application frees ${pfn}`);
          this.reclaim.freePages(pfn, 0);
        }
        return;
      }
      case "cache-fill": {
        const k = op.a % CACHES;
        const pfn = this.buddy.allocPages(0);
        log?.push(`cache ${k} takes a page -> ${pfn}`);
        if (pfn < 0) return;
        this.owners.take(pfn, 1, 2 + k);
        this.lists[k]!.add(pfn, this.map.nodeOf(pfn));
        return;
      }
      case "cache-touch": {
        const k = op.a % CACHES;
        const pfn = op.b % this.map.presentPages;
        if (this.owners.owner(pfn) !== 2 + k) return;
        log?.push(`cache ${k} touches ${pfn}`);
        same(this.lists[k]!.rotate(pfn), true, `rotate(${pfn}) of cache ${k}`);
        return;
      }
      case "cache-drop": {
        const k = op.a % CACHES;
        const pfn = op.b % this.map.presentPages;
        if (this.owners.owner(pfn) !== 2 + k) return;
        log?.push(`cache ${k} drops ${pfn}`);
        same(this.lists[k]!.del(pfn), true, `del(${pfn}) of cache ${k}`);
        this.owners.give(pfn, 1, 2 + k);
        this.buddy.freePages(pfn, 0);
        return;
      }
      case "shrink": {
        const priority = op.a % 13;
        const nid = op.b & 1;
        log?.push(`shrink node ${nid} at priority ${priority}`);
        this.registry.shrink({ nid, priority });
        return;
      }
      case "reclaim": {
        const target = 1 + (op.a % 2000);
        log?.push(`reclaim ${target}`);
        this.registry.reclaim(target, (op.b & 3) === 3 ? undefined : op.b & 1);
        return;
      }
      case "misbehave": {
        const i = op.a % MISBEHAVIOURS.length;
        const s = this.misbehaving[i];
        if (s === null) {
          const [count, scan] = MISBEHAVIOURS[i]!;
          const shrinker: Shrinker = { name: `misbehaving-${i}`, count: count!, scan: scan!, numaAware: (op.b & 1) === 1, batch: 1 + (op.b % 64) };
          log?.push(`register misbehaving shrinker ${i}`);
          this.registry.register(shrinker);
          this.misbehaving[i] = shrinker;
        } else {
          log?.push(`unregister misbehaving shrinker ${i}`);
          this.registry.unregister(s);
          this.misbehaving[i] = null;
        }
        return;
      }
      case "faults": {
        toggleFaults(this.buddy, op, log, "fault injection");
        return;
      }
    }
  }

  check(): void {
    this.registry.check();
    this.buddy.check();
    same(this.honestWarnings[0], undefined, "a warning about an honest cache");
    let cached = 0;
    for (let k = 0; k < CACHES; k++) {
      const lru = this.lists[k]!;
      lru.check();
      cached += lru.size;
      same(this.registry.stats(this.honest[k]!).freed, this.freedBy[k], `objects the registry says cache ${k} freed`);
    }
    same(this.owners.owned, cached + this.app.size, "pages the model holds (caches and application)");
    same(this.buddy.allocatedPageCount(), this.owners.owned, "pages out of the allocator");
  }

  drain(): void {
    this.buddy.setFaultInjection(null);
    for (const s of this.misbehaving) if (s !== null) this.registry.unregister(s);
    // Reclaim as hard as it goes, then the caches drop what is left (a cache of one object with
    // seeks 0 is never scanned: its delta is count / 2 = 0, as in the kernel).
    this.registry.reclaim(this.map.presentPages);
    for (let k = 0; k < CACHES; k++) {
      for (let nid = 0; nid < 2; nid++) {
        for (const pfn of this.lists[k]!.items(nid)) {
          this.lists[k]!.del(pfn);
          this.owners.give(pfn, 1, 2 + k);
          this.buddy.freePages(pfn, 0);
        }
      }
      same(this.lists[k]!.size, 0, `pages left in cache ${k}`);
      same(this.registry.stats(this.honest[k]!).freed, this.freedBy[k], `objects the registry says cache ${k} freed`);
    }
    for (const pfn of this.app.takeAll()) {
      this.owners.give(pfn, 1, 1);
      this.reclaim.freePages(pfn, 0);
    }
    this.registry.check();
    this.buddy.drainAll();
    same(this.buddy.freePageCount(), this.buddy.managedPages(), "free pages after the final drain (every page back)");
  }
}

/** The shrinker registry, ListLru and direct reclaim under an application, with misbehaving shrinkers and fault injection. */
export const shrinkerSoak: Soak = {
  name: "shrinker",
  package: "shrinker",
  description: "ShrinkerRegistry + ListLru + DirectReclaim on two nodes: honest page caches modelled, ten kinds of misbehaving shrinker (throwing, lying 2^60/1e15, over-reporting) coming and going, fail_page_alloc",
  defaultOps: 1_400_000,
  kinds: KINDS,
  create: () => new ShrinkerSoak(),
};
