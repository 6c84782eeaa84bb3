import { DirectMap, MemoryMap, MetadataArena, MiB, type LeafLevel } from "@mmkit/physmem";
import { PteMappedCache, type ShrinkerHost, type CacheShrinker } from "@mmkit/pte-cache";
import { FakePageSource } from "./fake-page-source.js";

export interface SystemOptions {
  mib?: number;
  nodes?: number;
  largestLeaf?: LeafLevel;
  splitBlocks?: boolean;
  host?: ShrinkerHost;
}

/** A machine, its direct map, a fake page source over all of it, and a cache over both. */
export function makeSystem(options: SystemOptions = {}) {
  const map = MemoryMap.uniform((options.mib ?? 16) * MiB, { nodes: options.nodes ?? 1 });
  const directMap = new DirectMap(map, { largestLeaf: options.largestLeaf ?? "2M" });
  const source = new FakePageSource(map.presentPages);
  const arena = new MetadataArena();
  const cache = new PteMappedCache({
    source,
    directMap,
    arena,
    nodeOf: (pfn) => map.nodeOf(pfn),
    splitBlocks: options.splitBlocks,
    shrinkerHost: options.host,
  });
  return { map, directMap, source, arena, cache };
}

/** A shrinker host that just keeps a list. */
export class ListHost implements ShrinkerHost {
  readonly shrinkers: CacheShrinker[] = [];
  register(s: CacheShrinker): void {
    this.shrinkers.push(s);
  }
  unregister(s: CacheShrinker): void {
    const i = this.shrinkers.indexOf(s);
    if (i < 0) throw new Error("not registered");
    this.shrinkers.splice(i, 1);
  }
}

/** Everything observable about a cache and what it stands on, for "nothing changed" assertions. */
export function snapshot(sys: ReturnType<typeof makeSystem>): unknown {
  const states: number[] = [];
  for (let p = 0; p < sys.map.presentPages; p++) states.push(sys.cache.pageState(p));
  return {
    stats: sys.cache.stats(),
    regions: sys.cache.regions(),
    states: states.join(""),
    source: sys.source.snapshot(),
    directMap: sys.directMap.counters(),
    arena: sys.arena.byLabel(),
  };
}
