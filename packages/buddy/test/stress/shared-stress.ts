/// <reference types="node" />
import { MemoryMap } from "@mmkit/physmem";
import { checkVerdict, runStressWorkers, type StressRunTotals } from "@mmkit/test-support/shared-stress";
import { SharedBuddy, type SharedBuddyOptions } from "../../src/index.ts";

/** Options of {@link runSharedStress}. */
export interface StressOptions {
  workers: number;
  opsPerWorker: number;
  /** Bytes of RAM (default 16 MiB: 4096 pages, so the workers run it low at times). */
  ramBytes?: number;
  seed?: number;
  buddy?: SharedBuddyOptions;
}

/** What the run found; a correct allocator has doubles 0, misplaced 0 and every page back. */
export interface StressResult extends StressRunTotals {
  managed: number;
  /** Free pages after every worker drained its CPU and detached. */
  freeAfter: number;
  perCpuAfter: number;
  attachedAfter: number;
  counters: ReturnType<SharedBuddy["counters"]>;
  lock: ReturnType<SharedBuddy["lockStats"]>;
  /** `check()` after the run: "ok" or the error message. */
  check: string;
}

/**
 * The shared-buddy stress run: `workers` worker threads over one shared allocator, random
 * allocations and frees of orders 0..maxOrder (mostly order 0, as the kernel's traffic is), half
 * the frees sent through rings to the next worker; then the model check. Used by the test (small)
 * and by `pnpm --filter @mmkit/buddy soak:shared` (>= 10M ops).
 */
export async function runSharedStress(o: StressOptions): Promise<StressResult> {
  const map = MemoryMap.uniform(o.ramBytes ?? 16 << 20);
  const maxOrder = o.buddy?.maxOrder ?? 6;
  const shared = SharedBuddy.create(map, { maxOrder, pageblockOrder: Math.min(4, maxOrder), cpus: o.workers, pcpBatch: 15, pcpHigh: 63, minFreeKbytes: 0, ...o.buddy });
  const totals = await runStressWorkers({
    worker: new URL("./worker.ts", import.meta.url),
    handle: shared.handle,
    workers: o.workers,
    opsPerWorker: o.opsPerWorker,
    seed: o.seed,
    maxOrder,
    smallOrders: 1,
    units: map.spannedPages,
    base: map.startPfn,
  });
  return {
    ...totals,
    managed: shared.managedPages(),
    freeAfter: shared.freePageCount(),
    perCpuAfter: shared.perCpuPageCount(),
    attachedAfter: shared.attachedCount,
    counters: shared.counters(),
    lock: shared.lockStats(),
    check: checkVerdict(() => shared.check()),
  };
}
