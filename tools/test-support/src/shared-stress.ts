/// <reference types="node" />
// The shared allocators' threaded stress run (SharedBuddy, SharedPotad), written once: the host
// half starts the workers over rings and an owner array in shared memory and sums what they found;
// the worker half is the random alloc/free loop with ring hand-off and owner claims. Each package
// keeps only a worker entry file (attach, claim a CPU, call runStressWorker) and the after-run
// reading of its own statistics.
import { ringInts, ringPop, ringPush } from "./rings.js";
import { runTsWorker } from "./ts-worker.js";

/**
 * What a stress worker needs of its CPU front: blocks of `2^order` units (page frames, granules),
 * named by their first unit.
 */
export interface StressFront {
  /** The first unit of a new block of `2^order` units, or -1 when out of memory. */
  alloc(order: number): number;
  /** Frees the block at `unit` of `2^order` units. */
  free(unit: number, order: number): void;
  /** Gives the front's cached blocks back to the shared pool. */
  drain(): void;
}

/** What the host hands each worker (beside the allocator's own handle). */
export interface StressWorkerData {
  index: number;
  workers: number;
  ops: number;
  seed: number;
  /** Largest order asked for (one allocation in 8); the rest are orders below `smallOrders`. */
  maxOrder: number;
  smallOrders: number;
  ringCapacity: number;
  rings: Int32Array[];
  /** One int32 per unit: the worker (index + 1) holding it, 0 for none. */
  owners: Int32Array;
  /** The unit that `owners[0]` stands for. */
  base: number;
  done: Int32Array;
}

/** What one worker (or all of them, summed) found; a correct allocator has doubles 0 and misplaced 0. */
export interface StressCounts {
  allocs: number;
  frees: number;
  sent: number;
  received: number;
  /** Units handed out while another worker's claim on them stood. */
  doubles: number;
  /** Blocks not aligned to their order. */
  misplaced: number;
  /** Allocations that found no memory. */
  failures: number;
}

const COUNT_KEYS = ["allocs", "frees", "sent", "received", "doubles", "misplaced", "failures"] as const;

/**
 * The worker's loop: `d.ops` random allocations and frees through `front`; a share of its blocks
 * goes through a ring to the next worker, which frees them (cross-worker frees land on the freeing
 * CPU's front). Every unit handed out is claimed in the shared owner array with compareExchange, so
 * a unit handed out twice is counted, not missed. Ends with everything freed, the incoming ring
 * empty once the previous worker is done, and the front drained. O(ops * 2^maxOrder).
 *
 * @example
 * ```ts
 * const d = workerData as StressWorkerData & { handle: SharedBuddyHandle };
 * const buddy = SharedBuddy.attach(d.handle);
 * const cpu = buddy.claimCpu(d.index);
 * parentPort!.postMessage(runStressWorker(d, { alloc: (o) => cpu.allocPages(o), free: (p, o) => cpu.freePages(p, o), drain: () => cpu.drain() }));
 * ```
 */
export function runStressWorker(d: StressWorkerData, front: StressFront): StressCounts {
  const me = d.index + 1;
  let x = d.seed >>> 0 || 1;
  const rand = (n: number): number => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) % n;
  };
  // Blocks are passed around as first units (int32) and orders.
  const liveUnit: number[] = [];
  const liveOrder: number[] = [];
  const c: StressCounts = { allocs: 0, frees: 0, sent: 0, received: 0, doubles: 0, misplaced: 0, failures: 0 };
  const out: [number, number] = [0, 0];
  const inRing = d.rings[(d.index + d.workers - 1) % d.workers]!;
  const outRing = d.rings[d.index]!;

  const claim = (u: number, order: number): void => {
    for (let p = u; p < u + (1 << order); p++) if (Atomics.compareExchange(d.owners, p - d.base, 0, me) !== 0) c.doubles++;
  };
  const free = (u: number, order: number): void => {
    for (let p = u; p < u + (1 << order); p++) Atomics.store(d.owners, p - d.base, 0);
    front.free(u, order);
    c.frees++;
  };
  const drainIncoming = (): void => {
    while (ringPop(inRing, d.ringCapacity, out)) {
      c.received++;
      free(out[0], out[1]);
    }
  };

  for (let i = 0; i < d.ops; i++) {
    const r = rand(100);
    // Alloc-heavy below a live set of 100 blocks, free-heavy above: a working set that hovers
    // below the size of the memory, with runs into failure, instead of a random walk. The ring is
    // drained first, whatever the live set, and again on a failed allocation: a worker with nothing
    // live whose allocations fail must still give back what the previous worker sent it, or the
    // rings could end up holding everything.
    if (r >= 85) {
      drainIncoming();
    } else if (r < (liveUnit.length < 100 ? 60 : 30) || liveUnit.length === 0) {
      // Mostly the small orders the fronts cache; up to maxOrder (the locked path above them).
      const order = rand(8) === 0 ? rand(d.maxOrder + 1) : d.smallOrders > 1 ? rand(d.smallOrders) : 0;
      const u = front.alloc(order);
      if (u < 0) {
        c.failures++;
        drainIncoming();
        continue;
      }
      if (u % (1 << order) !== 0) c.misplaced++;
      c.allocs++;
      claim(u, order);
      liveUnit.push(u);
      liveOrder.push(order);
    } else {
      const k = rand(liveUnit.length);
      const u = liveUnit[k]!;
      const order = liveOrder[k]!;
      liveUnit[k] = liveUnit[liveUnit.length - 1]!;
      liveOrder[k] = liveOrder[liveOrder.length - 1]!;
      liveUnit.pop();
      liveOrder.pop();
      if (rand(2) === 0 && ringPush(outRing, d.ringCapacity, u, order)) c.sent++;
      else free(u, order);
    }
  }
  // Give back everything: our own blocks, then whatever the previous worker still sends us.
  for (let k = 0; k < liveUnit.length; k++) free(liveUnit[k]!, liveOrder[k]!);
  Atomics.store(d.done, d.index, 1);
  while (Atomics.load(d.done, (d.index + d.workers - 1) % d.workers) === 0) drainIncoming();
  drainIncoming();
  front.drain();
  return c;
}

/** Options of {@link runStressWorkers}. */
export interface StressRunOptions {
  /** The worker entry file (it calls {@link runStressWorker}). */
  worker: URL;
  /** The allocator's handle, passed to each worker as `handle`. */
  handle: unknown;
  workers: number;
  opsPerWorker: number;
  seed?: number;
  maxOrder: number;
  smallOrders: number;
  /** Units the owner array covers, from `base`. */
  units: number;
  base: number;
}

/** The workers' summed counts and the units still marked owned after them. */
export interface StressRunTotals extends StressCounts {
  ownedAfter: number;
}

/**
 * Starts `workers` worker threads over one shared allocator (each one's seed `seed * 7919 +
 * index`), with rings of 512 blocks between neighbours and an owner array in shared memory, and
 * sums what they found once all have exited. O(workers * opsPerWorker) in the workers.
 *
 * @example
 * ```ts
 * const t = await runStressWorkers({ worker: new URL("./worker.ts", import.meta.url), handle: shared.handle, workers: 4, opsPerWorker: 20_000, maxOrder: 6, smallOrders: 1, units: map.spannedPages, base: map.startPfn });
 * t.doubles; // 0
 * ```
 */
export async function runStressWorkers(o: StressRunOptions): Promise<StressRunTotals> {
  const ringCapacity = 512;
  const shared = (ints: number): Int32Array => new Int32Array(new SharedArrayBuffer(ints * 4));
  const rings = Array.from({ length: o.workers }, () => shared(ringInts(ringCapacity)));
  const owners = shared(o.units);
  const done = shared(o.workers);
  const results = (await Promise.all(
    Array.from({ length: o.workers }, (_, index) => {
      const data: StressWorkerData & { handle: unknown } = {
        handle: o.handle,
        index,
        workers: o.workers,
        ops: o.opsPerWorker,
        seed: (o.seed ?? 1) * 7919 + index,
        maxOrder: o.maxOrder,
        smallOrders: o.smallOrders,
        ringCapacity,
        rings,
        owners,
        base: o.base,
        done,
      };
      return runTsWorker(o.worker, data);
    }),
  )) as StressCounts[];
  const totals = { ownedAfter: owners.reduce((t, v) => t + (v !== 0 ? 1 : 0), 0) } as StressRunTotals;
  for (const k of COUNT_KEYS) totals[k] = results.reduce((t, r) => t + r[k], 0);
  return totals;
}

/**
 * `check()`'s verdict as data: "ok", or the message it threw.
 *
 * @example
 * ```ts
 * checkVerdict(() => shared.check()); // "ok"
 * ```
 */
export function checkVerdict(check: () => void): string {
  try {
    check();
    return "ok";
  } catch (e) {
    return (e as Error).message;
  }
}

/** A finished stress run as {@link stressFaults} reads it: the totals, `check()`'s verdict and the allocator's own counters. */
export interface StressOutcome extends StressRunTotals {
  check: string;
  counters: { readonly allocs: number; readonly frees: number };
}

/**
 * What a finished stress run got wrong, one line each (empty for a correct allocator): units
 * handed out twice or misaligned, a failed `check()`, blocks lost in the rings, allocations not
 * freed, the allocator's counters disagreeing with the workers', units still claimed. The
 * allocator's own after-run figures (every page or byte back) are the caller's to add. O(1).
 *
 * @example
 * ```ts
 * expect(stressFaults(await runSharedStress({ workers: 4, opsPerWorker: 20_000 }))).toEqual([]);
 * ```
 */
export function stressFaults(r: StressOutcome): string[] {
  const faults: string[] = [];
  const want = (ok: boolean, what: string): void => {
    if (!ok) faults.push(what);
  };
  want(r.doubles === 0, `${r.doubles} units handed out twice`);
  want(r.misplaced === 0, `${r.misplaced} blocks not aligned to their order`);
  want(r.check === "ok", `check(): ${r.check}`);
  want(r.received === r.sent, `${r.sent} blocks sent through the rings, ${r.received} received`);
  want(r.frees === r.allocs, `${r.allocs} allocations, ${r.frees} frees`);
  want(r.counters.allocs === r.allocs, `the allocator counted ${r.counters.allocs} allocations, the workers ${r.allocs}`);
  want(r.counters.frees === r.frees, `the allocator counted ${r.counters.frees} frees, the workers ${r.frees}`);
  want(r.ownedAfter === 0, `${r.ownedAfter} units still claimed after the run`);
  return faults;
}

/** The arguments of a `soak:shared` script. */
export interface SharedSoakArgs {
  total: number;
  workers: number;
  opsPerWorker: number;
  lock: "mutex" | "spin";
  seed: number;
}

/**
 * A package's long `soak:shared` run: parses `[totalOps=10000000] [workers=4] [mutex|spin]` (the
 * seed from `seedText`, MMKIT_SOAK_SEED, else a new one, printed so it can be given back), runs
 * `run`, prints its result and "soak: ok" or "soak: FAILED" as `passed` says. Resolves to the exit
 * code: 0, 1 on a failed run, 2 on bad arguments.
 *
 * @example
 * ```ts
 * process.exit(await runSharedSoak(process.argv.slice(2), process.env.MMKIT_SOAK_SEED, (a) => runSharedStress({ workers: a.workers, opsPerWorker: a.opsPerWorker, seed: a.seed, buddy: { lock: a.lock } }), (r) => r.doubles === 0));
 * ```
 */
export async function runSharedSoak<R extends object>(args: readonly string[], seedText: string | undefined, run: (a: SharedSoakArgs) => Promise<R>, passed: (r: R) => boolean): Promise<number> {
  const total = Number(args[0] ?? 10_000_000);
  const workers = Number(args[1] ?? 4);
  const lock = args[2] ?? "mutex";
  if (!Number.isSafeInteger(total) || total < workers || !Number.isSafeInteger(workers) || workers < 1 || (lock !== "mutex" && lock !== "spin")) {
    console.error(`usage: soak-shared.ts [totalOps >= workers] [workers >= 1] [mutex|spin], got ${args.join(" ")}`);
    return 2;
  }
  // A new seed each run (printed, and taken back as MMKIT_SOAK_SEED to replay one).
  const seed = Number(seedText ?? Date.now() % 100_000);
  const opsPerWorker = Math.ceil(total / workers);
  const started = performance.now();
  const r = await run({ total, workers, opsPerWorker, lock, seed });
  const seconds = (performance.now() - started) / 1000;
  const ok = passed(r);
  console.log(JSON.stringify({ workers, lockKind: lock, seed, ops: opsPerWorker * workers, seconds: Number(seconds.toFixed(1)), ...r }, null, 1));
  console.log(ok ? "soak: ok" : "soak: FAILED");
  return ok ? 0 : 1;
}
