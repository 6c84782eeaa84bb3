/// <reference types="node" />
import { MemoryMap, SharedMetadataArena } from "@mmkit/physmem";
import { runTsWorker } from "@mmkit/test-support";
import { SharedBuddy, type SharedBuddyOptions } from "../../src/index.ts";
import { ringInts } from "@mmkit/test-support/rings";

/** Options of {@link runSharedStress}. */
export interface StressOptions {
  workers: number;
  opsPerWorker: number;
  /** Bytes of RAM (default 16 MiB: 4096 pages, so the workers run it low at times). */
  ramBytes?: number;
  seed?: number;
  buddy?: SharedBuddyOptions;
}

/** What the run found; a correct allocator has doubles 0 and every page back. */
export interface StressResult {
  allocs: number;
  frees: number;
  sent: number;
  received: number;
  doubles: number;
  failures: number;
  managed: number;
  /** Free pages after every worker drained its CPU and detached. */
  freeAfter: number;
  perCpuAfter: number;
  /** Pages still marked owned in the shared owner array. */
  ownedAfter: number;
  attachedAfter: number;
  counters: ReturnType<SharedBuddy["counters"]>;
  lock: ReturnType<SharedBuddy["lockStats"]>;
  /** `check()` after the run: "ok" or the error message. */
  check: string;
}

/**
 * The shared-buddy stress run: `workers` worker threads over one shared allocator, random
 * allocations and frees of orders 0..maxOrder, half the frees sent through rings to the next
 * worker; then the model check. Used by the test (small) and by `pnpm --filter @mmkit/buddy soak:shared` (>= 10M ops).
 */
export async function runSharedStress(o: StressOptions): Promise<StressResult> {
  const map = MemoryMap.uniform(o.ramBytes ?? 16 << 20);
  const maxOrder = o.buddy?.maxOrder ?? 6;
  const shared = SharedBuddy.create(map, { maxOrder, pageblockOrder: Math.min(4, maxOrder), cpus: o.workers, pcpBatch: 15, pcpHigh: 63, minFreeKbytes: 0, ...o.buddy });
  const ringCapacity = 512;
  const arena = new SharedMetadataArena({ capacity: o.workers * (ringInts(ringCapacity) * 4 + 64) + map.spannedPages * 4 + 256, maxArrays: o.workers + 2 });
  const rings = Array.from({ length: o.workers }, (_, i) => arena.int32(ringInts(ringCapacity), `ring ${i}`));
  const owners = arena.int32(map.spannedPages, "page owners");
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
        ringCapacity,
        rings,
        owners,
        done,
        base: map.startPfn,
      }),
    ),
  )) as Omit<StressResult, "managed" | "freeAfter" | "perCpuAfter" | "ownedAfter" | "attachedAfter" | "counters" | "lock" | "check">[];
  const sum = (k: "allocs" | "frees" | "sent" | "received" | "doubles" | "failures") => results.reduce((t, r) => t + r[k], 0);
  let check = "ok";
  try {
    shared.check();
  } catch (e) {
    check = (e as Error).message;
  }
  return {
    allocs: sum("allocs"),
    frees: sum("frees"),
    sent: sum("sent"),
    received: sum("received"),
    doubles: sum("doubles"),
    failures: sum("failures"),
    managed: shared.managedPages(),
    freeAfter: shared.freePageCount(),
    perCpuAfter: shared.perCpuPageCount(),
    ownedAfter: owners.reduce((t, v) => t + (v !== 0 ? 1 : 0), 0),
    attachedAfter: shared.attachedCount,
    counters: shared.counters(),
    lock: shared.lockStats(),
    check,
  };
}
