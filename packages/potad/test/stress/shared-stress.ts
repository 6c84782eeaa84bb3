/// <reference types="node" />
import { SharedMetadataArena } from "@mmkit/physmem";
import { runTsWorker } from "@mmkit/test-support";
import { ringInts } from "@mmkit/test-support/rings";
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
export interface StressResult {
  allocs: number;
  frees: number;
  sent: number;
  received: number;
  doubles: number;
  misplaced: number;
  failures: number;
  /** Bytes of the space. */
  size: number;
  /** After every worker drained its front and detached: free bytes, cached blocks, allocated bytes. */
  freeAfter: number;
  cachedAfter: number;
  allocatedAfter: number;
  /** Granules still marked owned in the shared owner array. */
  ownedAfter: number;
  attachedAfter: number;
  counters: SharedPotadCounters;
  lock: ReturnType<SharedPotad["lockStats"]>;
  /** `check()` after the run: "ok" or the error message. */
  check: string;
}

const GRANULE = 4096;

/**
 * The shared-POTAD stress run: `workers` worker threads over one shared POTAD (one space at 0),
 * random allocations and frees of orders 0..maxOrder through each worker's front, half the frees
 * sent through rings to the next worker; then the model check. Used by the test (small) and by
 * `pnpm --filter @mmkit/potad soak:shared` (>= 10M ops).
 */
export async function runSharedStress(o: StressOptions): Promise<StressResult> {
  const size = o.spaceBytes ?? 32 << 20;
  const maxOrder = o.maxOrder ?? 6;
  const shared = SharedPotad.create({ spaces: [{ base: 0, size, granule: GRANULE }], cpus: o.workers, frontHigh: 32, frontBatch: 8, ...o.potad });
  const ringCapacity = 512;
  const granules = size / GRANULE;
  const arena = new SharedMetadataArena({ capacity: o.workers * (ringInts(ringCapacity) * 4 + 64) + granules * 4 + 256, maxArrays: o.workers + 2 });
  const rings = Array.from({ length: o.workers }, (_, i) => arena.int32(ringInts(ringCapacity), `ring ${i}`));
  const owners = arena.int32(granules, "granule owners");
  const done = arena.int32(o.workers, "done");
  const results = (await Promise.all(
    Array.from({ length: o.workers }, (_, index) =>
      runTsWorker(new URL("./worker.ts", import.meta.url), {
        handle: shared.handle,
        index,
        workers: o.workers,
        ops: o.opsPerWorker,
        seed: (o.seed ?? 1) * 7919 + index,
        maxOrder,
        granule: GRANULE,
        ringCapacity,
        rings,
        owners,
        done,
      }),
    ),
  )) as Pick<StressResult, "allocs" | "frees" | "sent" | "received" | "doubles" | "misplaced" | "failures">[];
  const sum = (k: "allocs" | "frees" | "sent" | "received" | "doubles" | "misplaced" | "failures") => results.reduce((t, r) => t + r[k], 0);
  let check = "ok";
  try {
    shared.check();
  } catch (e) {
    check = (e as Error).message;
  }
  const stats = shared.stats(0);
  return {
    allocs: sum("allocs"),
    frees: sum("frees"),
    sent: sum("sent"),
    received: sum("received"),
    doubles: sum("doubles"),
    misplaced: sum("misplaced"),
    failures: sum("failures"),
    size,
    freeAfter: stats.freeBytes,
    cachedAfter: stats.cachedBlocks,
    allocatedAfter: stats.allocatedBytes,
    ownedAfter: owners.reduce((t, v) => t + (v !== 0 ? 1 : 0), 0),
    attachedAfter: shared.attachedCount,
    counters: shared.counters(),
    lock: shared.lockStats(),
    check,
  };
}
