import { MiB } from "@mmkit/physmem";
import type { Suite, SuiteContext } from "../harness/types.js";
import { systemNamed } from "../systems/definition.js";
import { highOrderOnFragmented, type FragmentShape } from "../workloads/contiguous.js";
import { proactiveChurn } from "../workloads/proactive-churn.js";

/** The compaction suite's sizes: the machine, the order-9 machine's shape, and the churn's steps and ticks. */
export function compactionProfile(quick: boolean): { bytes: number; shape: FragmentShape; steps: number; tickEvery: number; lowShare: number; highShare: number } {
  return { bytes: (quick ? 64 : 128) * MiB, shape: { keepShare: 1 / 4, unmovableShare: 1 / 8 }, steps: quick ? 20_000 : 40_000, tickEvery: 1_000, lowShare: 0.2, highShare: 0.95 };
}

/** `vm.compaction_proactiveness` values the churn runs at: off, the kernel's default, and eager. */
export const PROACTIVENESS = [0, 20, 50] as const;

/** Order-9 success with and without direct compaction on one fragmented machine. */
function recordHighOrder(ctx: SuiteContext, p: ReturnType<typeof compactionProfile>): void {
  const classic = systemNamed("classic")!;
  const workload = `order-9 on ${p.bytes / MiB} MiB, 1/4 kept (1 in 8 slab)`;
  for (const [system, contiguous] of [["buddy, no compaction", "block"], ["buddy, direct compaction", "compaction"]] as const) {
    const r = highOrderOnFragmented(classic, { bytes: p.bytes, contiguous }, ctx.seed, p.shape);
    const c = r.counters;
    const scanned = c.compactMigrateScanned + c.compactFreeScanned;
    ctx.record({ system, workload, metric: "success", value: r.attempts > 0 ? (100 * r.succeeded) / r.attempts : 0, unit: "%", note: `${r.succeeded}/${r.attempts} order-9 blocks` });
    if (r.succeeded > 0) {
      ctx.record({ system, workload, metric: "pages scanned/success", value: scanned / r.succeeded, unit: "pages", note: `migrate ${c.compactMigrateScanned}, free ${c.compactFreeScanned}` });
      ctx.record({ system, workload, metric: "pages migrated/success", value: c.pgmigrateSuccess / r.succeeded, unit: "pages", note: `pgmigrate_fail ${c.pgmigrateFail}` });
    }
    ctx.record({ system, workload, metric: "compact_stall", value: c.compactStall, unit: "count", note: `compact_success ${c.compactSuccess}, compact_fail ${c.compactFail}` });
    ctx.log(`${workload}, ${system}: ${r.succeeded}/${r.attempts}; compact_stall ${c.compactStall}, success ${c.compactSuccess}, fail ${c.compactFail}, migrate_scanned ${c.compactMigrateScanned}, free_scanned ${c.compactFreeScanned}, isolated ${c.compactIsolated}, pgmigrate_success ${c.pgmigrateSuccess}, pgmigrate_fail ${c.pgmigrateFail}`);
  }
}

/** The fragmentation score over time under a churn at each proactiveness (a series per proactiveness). */
function recordProactive(ctx: SuiteContext, p: ReturnType<typeof compactionProfile>): void {
  const workload = `churn on ${p.bytes / MiB} MiB, live ${100 * p.lowShare}%-${100 * p.highShare}%, kcompactd tick every ${p.tickEvery / 1000}k steps`;
  PROACTIVENESS.forEach((proactiveness, i) => {
    ctx.progress("proactive compaction", i, PROACTIVENESS.length);
    const r = proactiveChurn(systemNamed("classic")!, { bytes: p.bytes }, ctx.seed, { proactiveness, steps: p.steps, tickEvery: p.tickEvery, lowShare: p.lowShare, highShare: p.highShare });
    const system = `proactiveness ${proactiveness}`;
    r.at.forEach((at, k) => ctx.record({ system, workload, metric: "fragmentation score", value: r.score[k]!, unit: "%", at }));
    const mean = r.score.reduce((a, b) => a + b, 0) / r.score.length;
    ctx.record({ system, workload, metric: "mean fragmentation score", value: mean, unit: "%", note: `peak ${Math.max(...r.score)}%, ${r.score.length} samples` });
    ctx.record({ system, workload, metric: "proactive runs", value: r.runs, unit: "count" });
    ctx.record({ system, workload, metric: "pages migrated", value: r.migrated, unit: "pages", note: `${r.scanned} pages scanned` });
  });
  ctx.progress("proactive compaction", PROACTIVENESS.length, PROACTIVENESS.length);
}

/**
 * Compaction in a whole system (`classic`, its anon pages moved by the system's mover): order-9
 * success on a fragmented machine with and without direct compaction, with pages scanned and
 * migrated per success and the vmstat counters; and the fragmentation score over time under a
 * churn at `compaction_proactiveness` 0, 20 and 50 (kcompactd's proactive step every 1k steps),
 * a series per proactiveness that the HTML report draws as lines. Counts only, no timing: about
 * 3 s on the 2-core machine (quick: 64 MiB and half the steps).
 */
const suite: Suite = {
  name: "compaction",
  description: "Compaction in a whole system (classic, anon pages moved by its mover): order-9 success with and without direct compaction, pages scanned and migrated per success; fragmentation score over a churn at compaction_proactiveness 0, 20, 50",
  default: true,
  run(ctx) {
    const p = compactionProfile(ctx.quick);
    ctx.progress("order-9", 0, 1);
    recordHighOrder(ctx, p);
    recordProactive(ctx, p);
  },
};

export default suite;
