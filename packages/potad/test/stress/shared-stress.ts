/// <reference types="node" />
import { checkVerdict, runStressWorkers, type StressRunTotals } from "@mmkit/test-support/shared-stress";
import { SharedPotad, type SharedPotadCounters, type SharedPotadOptions } from "../../src/index.ts";

/** Options of {@link runSharedStress}. */
export interface StressOptions {
  workers: number;
  opsPerWorker: number;
  /** Bytes of the one space at 0 (default 32 MiB: 8192 granules of 4 KiB, about twice what the workers hold at once). */
  spaceBytes?: number;
  seed?: number;
  /** Largest order the workers ask for (default 6). */
  maxOrder?: number;
  potad?: Omit<SharedPotadOptions, "spaces" | "cpus">;
}

/** What the run found; a correct allocator has doubles 0, misplaced 0 and every byte back. */
export interface StressResult extends StressRunTotals {
  /** Bytes of the space. */
  size: number;
  /** After every worker drained its front and detached: free bytes, cached blocks, allocated bytes. */
  freeAfter: number;
  cachedAfter: number;
  allocatedAfter: number;
  attachedAfter: number;
  counters: SharedPotadCounters;
  lock: ReturnType<SharedPotad["lockStats"]>;
  /** `check()` after the run: "ok" or the error message. */
  check: string;
}

const GRANULE = 4096;

/**
 * The shared-POTAD stress run: `workers` worker threads over one shared POTAD (one space at 0),
 * random allocations and frees of orders 0..maxOrder (mostly the front orders 0..3) through each
 * worker's front, half the frees sent through rings to the next worker; then the model check. Used
 * by the test (small) and by `pnpm --filter @mmkit/potad soak:shared` (>= 10M ops).
 */
export async function runSharedStress(o: StressOptions): Promise<StressResult> {
  const size = o.spaceBytes ?? 32 << 20;
  const shared = SharedPotad.create({ spaces: [{ base: 0, size, granule: GRANULE }], cpus: o.workers, frontHigh: 32, frontBatch: 8, ...o.potad });
  const totals = await runStressWorkers({
    worker: new URL("./worker.ts", import.meta.url),
    handle: shared.handle,
    workers: o.workers,
    opsPerWorker: o.opsPerWorker,
    seed: o.seed,
    maxOrder: o.maxOrder ?? 6,
    smallOrders: 4,
    units: size / GRANULE,
    base: 0,
  });
  const stats = shared.stats(0);
  return {
    ...totals,
    size,
    freeAfter: stats.freeBytes,
    cachedAfter: stats.cachedBlocks,
    allocatedAfter: stats.allocatedBytes,
    attachedAfter: shared.attachedCount,
    counters: shared.counters(),
    lock: shared.lockStats(),
    check: checkVerdict(() => shared.check()),
  };
}
