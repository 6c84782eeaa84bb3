import { MigrateType, SharedBuddy } from "@mmkit/buddy";
import { SharedFragmentTable } from "@mmkit/frag-cache";
import { MemoryMap, MiB } from "@mmkit/physmem";
import { crewControl, startWorkerCrew } from "../harness/worker-crew.js";
import type { Suite, SuiteContext } from "../harness/types.js";
import { PAGE_FRAG_STATS, statsOffset, type PageFragConfig, type PageFragWorkerData } from "../workers/page-frag-protocol.js";
import { ringInts, ringSleeps } from "../workers/rings.js";
import { PAGE_FRAG_RING, pageFragMixes } from "../workloads/page-frag.js";
import { imixSizes } from "./fragments.js";

/** The floor: the 512-entry ring alone between the two workers, numbers instead of fragments. */
export const PAGE_FRAG_FLOOR = "ring alone (2 workers, push/pop only)";
/** The contenders of every size mix, by kind. */
export const PAGE_FRAG_SYSTEMS = {
  workers: "page_frag_test: SharedFragmentCache, producer -> ring -> consumer (2 workers)",
  queued: "FragmentCache, one thread, 512 in flight",
  atOnce: "FragmentCache, one thread, freed at once",
  sharedQueued: "SharedFragmentCache, one thread, 512 in flight",
} as const;
/** Memory behind every shared buddy: 512 fragments in flight pin at most a few MiB. */
const RAM = 16 * MiB;
/** Length of every size sequence (a power of two; the loops wrap around it). */
export const PAGE_FRAG_SEQUENCE = 1 << 14;

/** One contender as the main thread keeps it. */
interface Contender {
  name: string;
  /** Index into the size mixes; -1 for the floor (recorded under every mix). */
  mix: number;
  config: PageFragConfig;
  buddy?: SharedBuddy;
  table?: SharedFragmentTable;
}

function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  return s[s.length >> 1]!;
}

/**
 * The `page-frag` suite: the kernel's `page_frag_test` (mm/page_frag_test.c) in worker threads.
 * A producer worker allocates fragments from its `SharedFragmentCache` and pushes them through a
 * 512-entry ring in a `SharedArrayBuffer` to a consumer worker, which frees them from its own cache
 * over the same `SharedFragmentTable`; the blocks come from a `SharedBuddy`'s per-CPU fronts (CPU 0
 * producer, CPU 1 consumer). Beside it, the same sequence in one thread (in the producer worker):
 * `FragmentCache` with 512 fragments in flight and with each freed at once, and `SharedFragmentCache`
 * with 512 in flight (what its atomics cost without a second thread). Size mixes: IMIX and the
 * kernel test's 2048-byte default, 12-byte nonaligned and 12-byte aligned-to-64 runs. Every
 * contender runs in every round, interleaved, against the same long-lived workers; the figure is
 * the median over rounds of wall-clock ns per fragment (and fragments per second), with the ratio
 * to the ring alone measured in the same rounds; blocks taken, recycled in place and returned are
 * counted over the timed rounds.
 */
const suite: Suite = {
  name: "page-frag",
  description: "page_frag_test in workers: producer -> 512-entry SharedArrayBuffer ring -> consumer over SharedFragmentCache + SharedBuddy, vs the same sequence in one thread, IMIX and kernel-test sizes; fragments/s, blocks taken/recycled/returned",
  default: false,
  run: (ctx: SuiteContext) => measurePageFrag(ctx, { rounds: ctx.quick ? 10 : 15, fragments: ctx.quick ? 50_000 : 200_000 }),
};

/** Runs the suite's measurements: `rounds` rounds of `fragments` fragments per contender (the test runs a small one). */
export async function measurePageFrag(ctx: SuiteContext, { rounds, fragments }: { rounds: number; fragments: number }): Promise<void> {
  const mixes = pageFragMixes((length) => imixSizes(ctx.seed, length));
  const map = MemoryMap.uniform(RAM);
  const ring = (): Int32Array => new Int32Array(new SharedArrayBuffer(ringInts(PAGE_FRAG_RING) * 4));
  const contenders: Contender[] = [{ name: PAGE_FRAG_FLOOR, mix: -1, config: { kind: "floor", sizes: new Int32Array(1), aligns: new Int32Array(1), depth: 0, ring: ring() } }];
  mixes.forEach((mix, m) => {
    const { sizes, aligns } = mix.make(PAGE_FRAG_SEQUENCE);
    const kinds: [string, PageFragConfig["kind"], number][] = [
      [PAGE_FRAG_SYSTEMS.workers, "workers", 0],
      [PAGE_FRAG_SYSTEMS.queued, "one-thread", PAGE_FRAG_RING],
      [PAGE_FRAG_SYSTEMS.atOnce, "one-thread", 0],
      [PAGE_FRAG_SYSTEMS.sharedQueued, "one-thread shared", PAGE_FRAG_RING],
    ];
    for (const [name, kind, depth] of kinds) {
      // Movable, as user pages: no migratetype fallback in the way; CPU 0 the producer's, 1 the consumer's.
      const buddy = SharedBuddy.create(map, { cpus: 2, minFreeKbytes: 0, defaultMigratetype: MigrateType.Movable });
      const table = kind === "one-thread" ? undefined : SharedFragmentTable.create({ pages: map.presentPages });
      const config: PageFragConfig = { kind, sizes, aligns, depth, buddy: buddy.handle };
      if (table !== undefined) config.table = table.handle;
      if (kind === "workers") config.ring = ring();
      contenders.push({ name, mix: m, config, buddy, ...(table !== undefined ? { table } : {}) });
    }
  });
  const control = crewControl();
  const stats = new Float64Array(new SharedArrayBuffer(statsOffset(contenders.length, 0) * 8));
  const data = ([0, 1] as const).map((role): PageFragWorkerData => ({ role, control, stats, configs: contenders.map((c) => c.config) }));
  const crew = startWorkerCrew("page-frag suite", new URL("../workers/page-frag-worker.ts", import.meta.url), data, control);
  // Both workers answer every command (the consumer at once in a one-thread configuration).
  const command = (config: number, n: number): number => crew.run(config, [n], 2);
  // Counters at the start and the end of the timed rounds.
  let before = new Float64Array(0);
  let after = new Float64Array(0);
  let sleepsBefore: { producer: number; consumer: number }[] = [];
  let sleepsAfter: { producer: number; consumer: number }[] = [];
  const samples = contenders.map(() => [] as number[]);
  try {
    // Warm-up: every contender twice (workers attach and compile, caches take their first blocks).
    for (let w = 0; w < 2; w++) for (let c = 0; c < contenders.length; c++) command(c, fragments);
    before = stats.slice();
    sleepsBefore = contenders.map((k) => (k.config.ring === undefined ? { producer: 0, consumer: 0 } : ringSleeps(k.config.ring)));
    const total = rounds * contenders.length;
    for (let r = 0; r < rounds; r++) {
      for (let k = 0; k < contenders.length; k++) {
        // Rotate the order every round, so no contender always runs right after another.
        const c = (k + r) % contenders.length;
        samples[c]!.push((command(c, fragments) * 1e6) / fragments);
        ctx.progress("page-frag", r * contenders.length + k + 1, total);
      }
    }
    after = stats.slice();
    sleepsAfter = contenders.map((k) => (k.config.ring === undefined ? { producer: 0, consumer: 0 } : ringSleeps(k.config.ring)));
  } finally {
    await crew.close();
  }
  const delta = (c: number, role: number, name: (typeof PAGE_FRAG_STATS)[number]): number => {
    const i = statsOffset(c, role) + PAGE_FRAG_STATS.indexOf(name);
    return after[i]! - before[i]!;
  };
  const floorNs = median(samples[0]!);
  const timed = rounds * fragments;
  const counted = `over ${rounds} rounds of ${fragments} fragments`;
  mixes.forEach((mix, m) => {
    const workload = `${mix.name}, ${PAGE_FRAG_RING}-entry ring`;
    for (let c = 0; c < contenders.length; c++) {
      const k = contenders[c]!;
      if (k.mix !== m && k.mix !== -1) continue;
      const s = samples[c]!;
      const ns = median(s);
      const sorted = [...s].sort((a, b) => a - b);
      const spread = (sorted[Math.floor(sorted.length * 0.9)]! - sorted[Math.floor(sorted.length * 0.1)]!) / ns;
      ctx.record({ system: k.name, workload, metric: "ns/fragment", value: ns, unit: "ns", spread, ratio: ns / floorNs, ratioTo: PAGE_FRAG_FLOOR });
      ctx.record({ system: k.name, workload, metric: "fragments/s", value: 1e9 / ns, unit: "fragments/s", spread, ratio: floorNs / ns, ratioTo: PAGE_FRAG_FLOOR, note: "median over rounds" });
      if (k.config.ring !== undefined) {
        const full = sleepsAfter[c]!.producer - sleepsBefore[c]!.producer;
        const empty = sleepsAfter[c]!.consumer - sleepsBefore[c]!.consumer;
        ctx.record({ system: k.name, workload, metric: "producer sleeps (ring full)", value: full, unit: "count", note: `${counted}; the consumer slept ${empty} times on an empty ring` });
      }
      if (k.mix === -1) continue;
      const producedTotal = delta(c, 0, "fragmentsAllocated");
      ctx.record({ system: k.name, workload, metric: "fragments produced", value: producedTotal, unit: "count", note: counted });
      ctx.record({ system: k.name, workload, metric: "fragments consumed", value: delta(c, 0, "fragmentsFreed") + delta(c, 1, "fragmentsFreed"), unit: "count", note: k.config.kind === "workers" ? "freed by the consumer worker" : "freed in the same thread" });
      ctx.record({ system: k.name, workload, metric: "blocks taken", value: delta(c, 0, "blocksTaken"), unit: "count", note: `${((delta(c, 0, "blocksTaken") * 1000) / timed).toFixed(2)} per 1k fragments` });
      ctx.record({ system: k.name, workload, metric: "blocks recycled in place", value: delta(c, 0, "blocksRecycled"), unit: "count", note: `${((delta(c, 0, "blocksRecycled") * 1000) / timed).toFixed(2)} per 1k fragments` });
      const byConsumer = delta(c, 1, "blocksReturned");
      ctx.record({ system: k.name, workload, metric: "blocks returned", value: delta(c, 0, "blocksReturned") + byConsumer, unit: "count", note: k.config.kind === "workers" ? `${byConsumer} by the consumer's last free` : "by the last free" });
      const failed = delta(c, 0, "allocFailures") + delta(c, 0, "fallbacks");
      if (failed > 0) ctx.log(`${k.name}, ${mix.name}: ${delta(c, 0, "allocFailures")} allocations retried, ${delta(c, 0, "fallbacks")} single-page fallbacks`);
    }
  });
  ctx.log(`ring alone: ${floorNs.toFixed(1)} ns per fragment (${(1e3 / floorNs).toFixed(1)} M/s); figures taken with the machine's other load, read the ratios`);
  // After the workers have exited (quiescent): every fragment came back, every block went home, the shared state is whole.
  for (const k of contenders) {
    if (k.buddy === undefined) continue;
    const blocks = k.table?.check() ?? 0;
    if (blocks !== 0) throw new Error(`page-frag suite: ${k.name}: the table still holds ${blocks} blocks after the final drain`);
    k.buddy.drainAllQuiescent();
    k.buddy.check();
    if (k.buddy.allocatedPageCount() !== 0) throw new Error(`page-frag suite: ${k.name}: ${k.buddy.allocatedPageCount()} pages never went back to the buddy allocator`);
  }
}

export default suite;
