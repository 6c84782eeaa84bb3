import type { Contender, TimeOptions, TimingResult } from "./types.js";

/** Sink for contenders' return values, so no timed work is dead code. */
export let blackhole = 0;

function quantile(sorted: number[], q: number): number {
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (pos - lo);
}

/**
 * Times contenders the way a noisy 2-core machine demands: every contender is set up, warmed up
 * and calibrated, then `rounds` rounds each run every contender once, in an order rotated per round,
 * so drift (thermal, GC, a neighbour's load) lands on all of them alike. Reports the median ns/op and
 * the p10..p90 spread, and each median as a ratio to the named floor's median from the same rounds.
 */
export function timeContenders(contenders: Contender[], quick: boolean, options: TimeOptions = {}): TimingResult[] {
  const rounds = Math.max(10, options.rounds ?? (quick ? 10 : 15));
  const targetMs = options.targetMs ?? (quick ? 4 : 12);
  const runs = contenders.map((c) => c.setup());
  // Calibrate one shared op count, so every contender does the same work per round.
  let ops = options.ops ?? 0;
  if (ops === 0) {
    ops = 256;
    for (;;) {
      let slowest = 0;
      for (const run of runs) {
        const t0 = performance.now();
        blackhole ^= run(ops);
        slowest = Math.max(slowest, performance.now() - t0);
      }
      if (slowest >= targetMs || ops >= 1 << 24) break;
      ops = Math.min(1 << 24, ops * Math.max(2, Math.min(16, Math.floor(targetMs / Math.max(slowest, 0.01)))));
    }
  }
  // Warm-up at the final size.
  for (let w = 0; w < 2; w++) for (const run of runs) blackhole ^= run(ops);
  const samples: number[][] = contenders.map(() => []);
  for (let r = 0; r < rounds; r++) {
    for (let k = 0; k < runs.length; k++) {
      const i = (k + r) % runs.length;
      const t0 = performance.now();
      blackhole ^= runs[i]!(ops);
      const t1 = performance.now();
      samples[i]!.push(((t1 - t0) * 1e6) / ops);
    }
  }
  const results: TimingResult[] = contenders.map((c, i) => {
    const s = samples[i]!.slice().sort((a, b) => a - b);
    const median = quantile(s, 0.5);
    const p10 = quantile(s, 0.1);
    const p90 = quantile(s, 0.9);
    return { name: c.name, nsPerOp: median, p10, p90, spread: median > 0 ? (p90 - p10) / median : 0, rounds, opsPerRound: ops };
  });
  if (options.floor !== undefined) {
    const floor = results.find((r) => r.name === options.floor);
    if (floor === undefined) throw new Error(`floor ${JSON.stringify(options.floor)} is not among the contenders`);
    for (const r of results) r.ratio = r.nsPerOp / floor.nsPerOp;
  }
  return results;
}
