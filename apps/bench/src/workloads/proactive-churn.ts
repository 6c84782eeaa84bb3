import { MemdescType } from "@mmkit/memdesc-lookup";
import { ErrorCode, MmkitError, describeValue } from "@mmkit/physmem";
import { buildSystem, type BuildOptions } from "../systems/build.js";
import type { SystemDefinition } from "../systems/definition.js";
import { randomIndices, SeededRandom } from "./random.js";

/** The shape of {@link proactiveChurn}. */
export interface ProactiveChurnOptions {
  /** `vm.compaction_proactiveness` of the run (0..100; 0: kcompactd never compacts proactively). */
  proactiveness: number;
  /** Churn steps (one free or one allocation each) after the fill. */
  steps: number;
  /** Steps between two kcompactd ticks; the score is sampled at each tick, after it. */
  tickEvery: number;
  /** The live set swings between these shares of RAM (default 0.4 and 0.9). */
  lowShare?: number;
  highShare?: number;
  /** Share of allocations that are slab, never moved (default 1/8). */
  unmovableShare?: number;
}

/** What {@link proactiveChurn} saw. */
export interface ProactiveChurnResult {
  /** Steps at which the score was sampled (0: right after the fill), and the score then. */
  at: number[];
  score: number[];
  /** Proactive compaction runs done (kcompactd wake-ups that compacted), pages moved, pages scanned by both scanners. */
  runs: number;
  migrated: number;
  scanned: number;
  /** Wall-clock milliseconds of the churn and the ticks. */
  ms: number;
}

/**
 * A churn under kcompactd: a buddy system is filled to `highShare` of RAM with blocks of random
 * orders 0-3 (anon in `AnonBlocks` the mover knows, `unmovableShare` slab); then the live set
 * swings, one operation a step: random live blocks are freed until it is down to `lowShare` (the
 * holes scatter over the machine), then blocks of random orders and kinds are allocated until it
 * is back at `highShare`, and so on. Every `tickEvery` steps `proactiveCompact(mover,
 * proactiveness)` runs (kcompactd's proactive step) and the fragmentation score is sampled. The same seed gives the same allocation sequence at every
 * proactiveness; where the blocks land differs once compaction moves some. O(steps) + compaction.
 *
 * @example
 * ```ts
 * proactiveChurn(systemNamed("classic")!, { bytes: 128 * MiB }, seed, { proactiveness: 20, steps: 20_000, tickEvery: 1_000 }).score;
 * ```
 */
export function proactiveChurn(def: SystemDefinition, build: BuildOptions, seed: number, options: ProactiveChurnOptions): ProactiveChurnResult {
  const { proactiveness, steps, tickEvery } = options;
  if (!Number.isSafeInteger(steps) || steps < 0) throw new MmkitError(ErrorCode.InvalidArgument, `steps must be a non-negative integer, got ${describeValue(steps)}`);
  if (!Number.isSafeInteger(tickEvery) || tickEvery < 1) throw new MmkitError(ErrorCode.InvalidArgument, `tickEvery must be a positive integer, got ${describeValue(tickEvery)}`);
  const system = buildSystem(def, build);
  try {
    const buddy = system.buddy;
    if (buddy === null) throw new MmkitError(ErrorCode.InvalidArgument, `proactive compaction needs a buddy system, got ${describeValue(def.name)}`);
    const orders = randomIndices(seed, "compaction/churn-orders", 1 << 16, 4);
    const kinds = new SeededRandom(seed, "compaction/churn-kinds");
    const victims = new SeededRandom(seed, "compaction/churn-victims");
    const unmovableShare = options.unmovableShare ?? 1 / 8;
    const anon = system.anonBlocks(system.managedPages);
    // Live blocks: an anon slot (>= 0) or a slab block (-1 - index into slabPfn/slabOrder).
    const live: number[] = [];
    const slabPfn: number[] = [];
    const slabOrder: number[] = [];
    const freeSlab: number[] = [];
    let livePages = 0;
    let n = 0;
    const allocOne = (): boolean => {
      const order = orders[n++ & 0xffff]!;
      if (kinds.float() < unmovableShare) {
        const pfn = system.pages.allocPages(order, MemdescType.Slab);
        if (pfn < 0) return false;
        const i = freeSlab.length > 0 ? freeSlab.pop()! : slabPfn.length;
        slabPfn[i] = pfn;
        slabOrder[i] = order;
        live.push(-1 - i);
      } else {
        const slot = anon.alloc(order);
        if (slot < 0) return false;
        live.push(slot);
      }
      livePages += 2 ** order;
      return true;
    };
    const freeOne = (): void => {
      const j = victims.below(live.length);
      const item = live[j]!;
      live[j] = live[live.length - 1]!;
      live.pop();
      if (item >= 0) {
        livePages -= 2 ** anon.order(item);
        anon.free(item);
      } else {
        const i = -1 - item;
        system.pages.freePages(slabPfn[i]!, slabOrder[i]!);
        livePages -= 2 ** slabOrder[i]!;
        freeSlab.push(i);
      }
    };
    const low = Math.floor(system.managedPages * (options.lowShare ?? 0.4));
    const high = Math.floor(system.managedPages * (options.highShare ?? 0.9));
    while (livePages < high && allocOne());
    buddy.resetCounters();
    const at = [0];
    const score = [buddy.fragmentationScore()];
    let runs = 0;
    let shrinking = true;
    const start = performance.now();
    for (let step = 1; step <= steps; step++) {
      if (shrinking) {
        freeOne();
        if (livePages <= low || live.length === 0) shrinking = false;
      } else if (livePages >= high || !allocOne()) shrinking = true;
      if (step % tickEvery === 0) {
        runs += buddy.proactiveCompact(system.mover, proactiveness).length;
        at.push(step);
        score.push(buddy.fragmentationScore());
      }
    }
    const ms = performance.now() - start;
    anon.check();
    system.check();
    const c = buddy.compactionCounters();
    return { at, score, runs, migrated: c.pgmigrateSuccess, scanned: c.compactMigrateScanned + c.compactFreeScanned, ms };
  } finally {
    system.dispose();
  }
}
