import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { Measurement, Suite } from "../harness/types.js";

/** apps/bench, where `tsx` resolves from. */
const BENCH_DIR = fileURLToPath(new URL("../..", import.meta.url));
const CLI = fileURLToPath(new URL("../cli.ts", import.meta.url));

/**
 * Trace lengths of the scale run: the quick profile keeps it to seconds.
 *
 * @example
 * ```ts
 * scaleSizes(false); // [1000000, 10000000, 50000000]
 * ```
 */
export function scaleSizes(quick: boolean): number[] {
  return quick ? [100_000, 1_000_000] : [1_000_000, 10_000_000, 50_000_000];
}

/** Runs `pnpm bench --trace-synth <events> --system classic` in a fresh process and returns its JSON measurements. */
async function benchChild(events: number): Promise<{ measurements: Measurement[]; wallSeconds: number }> {
  const dir = mkdtempSync(join(tmpdir(), "mmkit-scale-"));
  try {
    const out = join(dir, "run.json");
    const started = performance.now();
    const code = await new Promise<number>((resolve) => {
      const child = spawn(process.execPath, ["--import", "tsx", CLI, "--trace-synth", String(events), "--system", "classic", "--quick", "--json", out], { cwd: BENCH_DIR, stdio: ["ignore", "ignore", "inherit"], env: { ...process.env, INIT_CWD: BENCH_DIR } });
      child.on("error", () => resolve(-1));
      child.on("exit", (c) => resolve(c ?? -1));
    });
    if (code !== 0) throw new Error(`the bench on a synthetic trace of ${events} events exited with code ${code}`);
    const report = JSON.parse(readFileSync(out, "utf8")) as { measurements: Measurement[] };
    return { measurements: report.measurements, wallSeconds: (performance.now() - started) / 1000 };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * Trace replay at real sizes: the whole bench (`--trace-synth <events> --system classic`) runs in a
 * fresh process per size, streaming a synthetic trace shaped like the Linux 6.1 fixture through the
 * parser to the system; its peak RSS (the process's maxRSS), parse lines/s and read+parse+replay
 * events/s are recorded per size. Memory must follow live allocations, never events.
 */
const suite: Suite = {
  name: "trace-scale",
  description: "Trace replay at real size: peak RSS, parse lines/s and replay events/s of the whole bench streaming synthetic traces of 1M, 10M and 50M events (--quick: 100k, 1M) on classic, one process per size",
  default: false,
  async run(ctx) {
    const sizes = scaleSizes(ctx.quick);
    for (let i = 0; i < sizes.length; i++) {
      const events = sizes[i]!;
      ctx.progress(`synthetic trace of ${events} events`, i, sizes.length);
      const { measurements, wallSeconds } = await benchChild(events);
      const pick = (system: string, metric: string): Measurement | undefined => measurements.find((m) => m.system === system && m.metric === metric && m.at === undefined);
      const workload = "synthetic trace, classic";
      const rss = pick("trace", "peak RSS");
      const lines = pick("trace", "parse lines/s");
      const e2e = pick("classic", "read+parse+replay events/s");
      const replay = pick("classic", "replay events/s");
      const peak = pick("trace", "peak live pages");
      if (rss === undefined || lines === undefined || e2e === undefined || replay === undefined || peak === undefined) throw new Error(`the run of ${events} events did not record its figures`);
      ctx.record({ system: "classic", workload, metric: "peak RSS", value: rss.value, unit: "MiB", at: events, note: `whole bench process; trace peak ${peak.value} live pages` });
      ctx.record({ system: "classic", workload, metric: "parse lines/s", value: lines.value, unit: "lines/s", at: events });
      ctx.record({ system: "classic", workload, metric: "read+parse+replay events/s", value: e2e.value, unit: "events/s", at: events });
      ctx.record({ system: "classic", workload, metric: "replay events/s", value: replay.value, unit: "events/s", at: events });
      ctx.record({ system: "classic", workload, metric: "bench seconds", value: wallSeconds, unit: "s", at: events, note: "the whole child run: generate twice, scan, replay, timing window" });
      ctx.log(`${events} events: peak RSS ${rss.value.toFixed(0)} MiB, parse ${(lines.value / 1e6).toFixed(2)}M lines/s, read+parse+replay ${(e2e.value / 1e6).toFixed(2)}M events/s (replay alone ${(replay.value / 1e6).toFixed(2)}M/s), ${wallSeconds.toFixed(0)} s`);
    }
    ctx.progress("done", sizes.length, sizes.length);
  },
};

export default suite;
