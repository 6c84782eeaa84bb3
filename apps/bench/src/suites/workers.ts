import { MigrateType, SharedBuddy, type SharedBuddyOptions } from "@mmkit/buddy";
import { MemoryMap, MiB } from "@mmkit/physmem";
import { SharedPotad, type SharedPotadOptions } from "@mmkit/potad";
import { crewControl, startWorkerCrew } from "../harness/worker-crew.js";
import type { Suite, SuiteContext } from "../harness/types.js";
import { randomIndices, SeededRandom } from "../workloads/random.js";
import { ringInts } from "../workers/rings.js";
import type { ChurnWorkerData, WorkerConfig } from "../workers/shared-churn.js";

const FLOOR = "Int32Array stacks (per worker)";
// The charts draw these over `at` = worker threads; the name says so, since their x axis is titled "at".
const WORKLOAD = "order-0 churn by 1-3 worker threads (at = workers), 512 live each, 1/4 of frees on the next worker";
const RAM = 64 * MiB;
const LIVE = 512;
const RING = 256;
const SEQUENCE = 1 << 14;

/** What the suite reads from a shared allocator between rounds (the others quiescent). */
interface SharedFigures {
  lockStats(): { acquisitions: number; contended: number; waits: number };
  resetCounters(): void;
  check(): void;
  /** Pages held on per-CPU lists (the buddy) or fronts (POTAD), every CPU. */
  heldPages(): number;
  /** One line on refills, drains and failures over the run. */
  summary(): string;
}

/** One contender: a shared allocator configuration (or the floor). */
interface Config {
  name: string;
  kind: WorkerConfig["kind"];
  shared?: SharedFigures;
  options?: SharedBuddyOptions;
  potadOptions?: Omit<SharedPotadOptions, "spaces" | "cpus">;
}

function buddyFigures(buddy: SharedBuddy): SharedFigures {
  return {
    lockStats: () => buddy.lockStats(),
    resetCounters: () => buddy.resetCounters(),
    check: () => buddy.check(),
    heldPages: () => buddy.perCpuPageCount(),
    summary: () => {
      const c = buddy.counters();
      return `${c.pcpRefills} refills, ${c.pcpDrains} drains, ${c.allocFailures} failed allocations over the run`;
    },
  };
}

function potadFigures(potad: SharedPotad): SharedFigures {
  return {
    lockStats: () => potad.lockStats(),
    resetCounters: () => potad.resetCounters(),
    check: () => potad.check(),
    heldPages: () => potad.stats(0).cachedBytes / 4096,
    summary: () => {
      const c = potad.counters();
      return `${c.refills} refills, ${c.flushes} front merges, ${c.failures} failed allocations over the run`;
    },
  };
}

function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  return s[s.length >> 1]!;
}

/**
 * The `workers` suite: allocators shared by worker threads. For 1, 2 and 3 workers (the cores of
 * the machine it was written on, and one beyond) it runs the same churn on the shared buddy with
 * per-CPU lists (two batch/high settings), the shared buddy with the zone lock only (futex-style
 * mutex, and spinlock), the shared POTAD with its per-CPU fronts (the same two batch/high
 * settings: one front per order, so for this order-0 churn `high` bounds the same pages) and with
 * the zone lock only, and the floor
 * (a private Int32Array stack per worker, pages still moving between workers through the rings),
 * and, for what sharing costs, a private single-threaded BuddyAllocator per worker (its cpu(0) front;
 * its frees cannot cross workers, so it does the same churn with every free local).
 * Every configuration and worker count runs in the same rounds, interleaved, against the same
 * long-lived workers; the figure is the median over rounds of wall-clock ns per operation summed
 * over the workers (so perfect scaling halves it from 1 to 2 workers). Recorded per worker count
 * (`at`), so the HTML report draws lines: ns/op with the ratio to the floor, zone-lock
 * acquisitions, contended acquisitions and sleeps per 1k operations, and pages on per-CPU lists.
 */
const suite: Suite = {
  name: "workers",
  description: "Shared buddy and shared POTAD across worker threads (1-3 workers): per-CPU lists/fronts (two batch/high) vs zone lock only vs per-worker Int32Array stacks and private buddies; ns/op, lock acquisitions/contention per 1k ops, pages on per-CPU lists/fronts",
  default: false,
  run: (ctx: SuiteContext) => measureWorkers(ctx, { rounds: ctx.quick ? 10 : 15, ops: ctx.quick ? 20_000 : 100_000 }),
};

/** Runs the suite's measurements with `rounds` rounds of `ops` operations per worker (the test runs a small one). */
export async function measureWorkers(ctx: SuiteContext, { rounds, ops }: { rounds: number; ops: number }): Promise<void> {
  const maxWorkers = 3;
  const counts = [1, 2, 3];
  const map = MemoryMap.uniform(RAM);
  // Movable, as the buddy suite allocates (user pages): no migratetype fallback in the way.
  const base = { cpus: maxWorkers, minFreeKbytes: 0, defaultMigratetype: MigrateType.Movable };
  const configs: Config[] = [
    { name: FLOOR, kind: "floor" },
    { name: "buddy per-CPU (batch 4, high 16)", kind: "per-cpu", options: { ...base, pcpBatch: 4, pcpHigh: 16 } },
    { name: "buddy per-CPU (batch 31, high 186)", kind: "per-cpu", options: { ...base, pcpBatch: 31, pcpHigh: 186 } },
    { name: "buddy zone lock only", kind: "zone-lock", options: { ...base } },
    { name: "buddy zone lock only (spinlock)", kind: "zone-lock", options: { ...base, lock: "spin" } },
    { name: "private BuddyAllocator per worker (batch 31, high 186; no crossing frees)", kind: "private" },
    { name: "POTAD fronts (batch 4, high 16)", kind: "potad-front", potadOptions: { frontBatch: 4, frontHigh: 16 } },
    { name: "POTAD fronts (batch 31, high 186)", kind: "potad-front", potadOptions: { frontBatch: 31, frontHigh: 186 } },
    { name: "POTAD zone lock only", kind: "potad-lock", potadOptions: { frontHigh: 0, frontBatch: 1 } },
  ];
  const pagesTotal = map.presentPages;
  const workerConfigs: WorkerConfig[] = configs.map((c) => {
    const rings = Array.from({ length: maxWorkers }, () => new Int32Array(new SharedArrayBuffer(ringInts(RING) * 4)));
    if (c.kind === "floor") {
      const share = Math.floor(pagesTotal / maxWorkers);
      const stacks = Array.from({ length: maxWorkers }, (_, w) => {
        const stack = new Int32Array(new SharedArrayBuffer((pagesTotal + 1) * 4));
        for (let i = 0; i < share; i++) stack[i + 1] = w * share + i;
        stack[0] = share;
        return stack;
      });
      return { kind: c.kind, stacks, rings };
    }
    if (c.kind === "private") return { kind: c.kind, rings, privateBuddy: { ramBytes: RAM, pcpBatch: 31, pcpHigh: 186 } };
    if (c.kind === "potad-front" || c.kind === "potad-lock") {
      const potad = SharedPotad.create({ spaces: [{ base: 0, size: RAM, granule: 4096 }], cpus: maxWorkers, ...c.potadOptions });
      c.shared = potadFigures(potad);
      return { kind: c.kind, potadHandle: potad.handle, rings };
    }
    const buddy = SharedBuddy.create(map, c.options);
    c.shared = buddyFigures(buddy);
    return { kind: c.kind, handle: buddy.handle, rings };
  });
  const random = new SeededRandom(ctx.seed, "workers/remote");
  const remote = new Uint8Array(SEQUENCE);
  for (let i = 0; i < SEQUENCE; i++) remote[i] = random.float() < 0.25 ? 1 : 0;
  const control = crewControl();
  const data: ChurnWorkerData[] = Array.from({ length: maxWorkers }, (_, index) => ({ index, control, configs: workerConfigs, live: LIVE, ringCapacity: RING, slots: randomIndices(ctx.seed, `workers/slots/${index}`, SEQUENCE, LIVE), remote }));
  const crew = startWorkerCrew("workers suite", new URL("../workers/shared-churn.ts", import.meta.url), data, control);
  // Configuration `config` on the first `n` workers, `perWorker` operations each.
  const command = (config: number, n: number, perWorker: number): number => crew.run(config, [n, perWorker], n);
  try {
    // Warm-up: every configuration and count once (workers start, attach, compile, fill their slots).
    for (let c = 0; c < configs.length; c++) for (const n of counts) command(c, n, ops);
    for (const cfg of configs) cfg.shared?.resetCounters();
    const samples = configs.map(() => counts.map(() => [] as number[]));
    const lockDelta = configs.map(() => counts.map(() => ({ acquisitions: 0, contended: 0, waits: 0 })));
    const pcpPages = configs.map(() => counts.map(() => [] as number[]));
    const total = rounds * configs.length * counts.length;
    for (let r = 0; r < rounds; r++) {
      for (let k = 0; k < configs.length * counts.length; k++) {
        // Rotate the order every round, so no configuration always runs right after another.
        const slot = (k + r) % (configs.length * counts.length);
        const c = slot % configs.length;
        const ni = Math.floor(slot / configs.length);
        const n = counts[ni]!;
        const cfg = configs[c]!;
        const before = cfg.shared?.lockStats();
        const ms = command(c, n, ops);
        samples[c]![ni]!.push((ms * 1e6) / (ops * n));
        if (cfg.shared !== undefined && before !== undefined) {
          const after = cfg.shared.lockStats();
          const d = lockDelta[c]![ni]!;
          d.acquisitions += after.acquisitions - before.acquisitions;
          d.contended += after.contended - before.contended;
          d.waits += after.waits - before.waits;
          pcpPages[c]![ni]!.push(cfg.shared.heldPages());
        }
        ctx.progress("workers", r * configs.length * counts.length + k + 1, total);
      }
    }
    for (let ni = 0; ni < counts.length; ni++) {
      const n = counts[ni]!;
      const floorNs = median(samples[0]![ni]!);
      for (let c = 0; c < configs.length; c++) {
        const cfg = configs[c]!;
        const s = samples[c]![ni]!;
        const ns = median(s);
        const sorted = [...s].sort((a, b) => a - b);
        const spread = (sorted[Math.floor(sorted.length * 0.9)]! - sorted[Math.floor(sorted.length * 0.1)]!) / ns;
        ctx.record({ system: cfg.name, workload: WORKLOAD, metric: "ns/op (all workers)", value: ns, unit: "ns", spread, ratio: ns / floorNs, ratioTo: FLOOR, at: n, note: `${n} worker${n > 1 ? "s" : ""}` });
        if (cfg.shared === undefined) continue;
        const opsDone = rounds * ops * n;
        const d = lockDelta[c]![ni]!;
        ctx.record({ system: cfg.name, workload: WORKLOAD, metric: "lock acquisitions/1k ops", value: (d.acquisitions * 1000) / opsDone, unit: "count", at: n });
        ctx.record({ system: cfg.name, workload: WORKLOAD, metric: "contended acquisitions/1k ops", value: (d.contended * 1000) / opsDone, unit: "count", at: n });
        ctx.record({ system: cfg.name, workload: WORKLOAD, metric: "lock sleeps/1k ops", value: (d.waits * 1000) / opsDone, unit: "count", at: n });
        ctx.record({ system: cfg.name, workload: WORKLOAD, metric: "pages on per-CPU lists", value: median(pcpPages[c]![ni]!), unit: "pages", at: n, note: cfg.kind.startsWith("potad") ? "POTAD: on the fronts of all 3 CPUs, after a round" : "all 3 CPUs, after a round" });
      }
    }
    for (let ni = 0; ni < counts.length; ni++) {
      const row = configs.map((cfg, c) => `${cfg.name} ${median(samples[c]![ni]!).toFixed(1)} ns`).join(", ");
      ctx.log(`${counts[ni]} worker(s): ${row}`);
    }
    for (const cfg of configs) if (cfg.shared !== undefined) ctx.log(`${cfg.name}: ${cfg.shared.summary()}`);
  } finally {
    await crew.close();
  }
  // After the workers have exited (quiescent): the shared state is whole.
  for (const cfg of configs) cfg.shared?.check();
}

export default suite;
