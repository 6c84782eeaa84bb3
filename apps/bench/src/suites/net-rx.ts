import v8 from "node:v8";
import vm from "node:vm";
import { compareReceivePaths, type ReceivePath } from "@mmkit/net-rx";
import type { Suite, SuiteContext } from "../harness/types.js";
import { startSenderProcess } from "../net-rx/sender.js";
import { SLOW_PATHS, receiveSlowlyInProcess, type SlowFigures } from "../net-rx/slow-consumer.js";

/** The path the CPU figures are compared with: one static 64 KiB buffer, the least a Node receive can cost. */
export const NET_RX_FLOOR: ReceivePath = "static onread buffer";
const MiB = 1 << 20;

/** Sizes of one run of the suite. */
export interface NetRxPlan {
  /** Bytes per receive in the throughput part, and its rounds per path. */
  bytes: number;
  rounds: number;
  /** Bytes of the slow-consumer part, the consumer's pace (bytes per ms) and the memory budget of the bounded paths. */
  slowBytes: number;
  bytesPerMs: number;
  budget: number;
}

/** Whether the data of a throughput path outlives the read callback, and how. */
const OUTLIVES: Record<ReceivePath, string> = {
  "data events": "outlives the callback: a fresh Buffer per read",
  "data events + copy kept": "outlives the callback: a copy of every read",
  "static onread buffer": "does not outlive the callback (the next read overwrites it)",
  "static onread + copy kept": "outlives the callback: a copy of every read",
  "net-rx fragments": "outlives the callback without a copy, in a bounded arena",
  "net-rx fragments, adaptive": "outlives the callback without a copy, in a bounded arena",
};

/** A `gc()` for this process (V8's --expose-gc, switched on at run time). */
function collector(): () => void {
  v8.setFlagsFromString("--expose-gc");
  return vm.runInNewContext("gc") as () => void;
}

/**
 * The `net-rx` suite: `apps/net-rx`'s receive path beside Node's own, over TCP on 127.0.0.1, with
 * the sender in a child process so every CPU and GC figure is the receiver's.
 *
 * 1. Throughput: the same stream received along each path (`'data'` events, a static `onread`
 *    buffer, each with and without a kept copy, net-rx with 2 KiB and with adaptive fragments),
 *    interleaved over rounds with garbage collected before each receive: MB/s and CPU ms per GiB
 *    (medians; CPU with the ratio to the static buffer), reads, GC count and pause over the rounds.
 * 2. A slow consumer (it gets through `bytesPerMs` and verifies every byte long after the read
 *    callback returned), each path in a fresh process: `'data'` events queued as they come, `'data'`
 *    paused at a byte budget, a static buffer's views kept without a copy, and net-rx with an arena
 *    of the budget's size that pauses the socket when it is nearly full. Peak bytes queued, peak
 *    array-buffer memory and RSS above the start, chunks whose bytes were wrong when consumed,
 *    bytes copied, GCs: net-rx's two selling points, bounded memory and data that outlives the
 *    callback intact without a copy.
 */
const suite: Suite = {
  name: "net-rx",
  description: "apps/net-rx vs Node's 'data' events and a static onread buffer (with/without copy) over loopback, sender in another process: MB/s, CPU/GiB, GC; slow consumer: peak memory, bytes intact without a copy",
  default: false,
  run: (ctx: SuiteContext) => measureNetRx(ctx, ctx.quick ? { bytes: 16 * MiB, rounds: 3, slowBytes: 16 * MiB, bytesPerMs: 32_000, budget: 4 * MiB } : { bytes: 128 * MiB, rounds: 5, slowBytes: 128 * MiB, bytesPerMs: 64_000, budget: 8 * MiB }),
};

/** Runs the suite's two parts at the sizes of `plan` (the test runs a small one). */
export async function measureNetRx(ctx: SuiteContext, plan: NetRxPlan): Promise<void> {
  const gc = collector();
  const sender = await startSenderProcess(plan.bytes);
  const workload = `${plan.bytes / MiB} MiB over 127.0.0.1, sender in another process, ${plan.rounds} rounds per path`;
  let rows;
  try {
    rows = await compareReceivePaths({ bytes: plan.bytes, rounds: plan.rounds, sender, settle: gc });
  } finally {
    await sender.close();
  }
  const floorCpu = rows.find((r) => r.path === NET_RX_FLOOR)!.cpuMsPerGiB;
  for (const r of rows) {
    ctx.record({ system: r.path, workload, metric: "MB/s", value: r.megabytesPerSecond, unit: "MB/s", note: "median over rounds" });
    ctx.record({ system: r.path, workload, metric: "CPU ms/GiB", value: r.cpuMsPerGiB, unit: "ms", ratio: r.cpuMsPerGiB / floorCpu, ratioTo: NET_RX_FLOOR, note: "receiver process, user + system, median" });
    ctx.record({ system: r.path, workload, metric: "reads", value: r.reads, unit: "count", note: "per receive, median" });
    ctx.record({ system: r.path, workload, metric: "GCs", value: r.gcCount, unit: "count", note: `over ${plan.rounds} rounds, receiver only` });
    ctx.record({ system: r.path, workload, metric: "GC pause", value: r.gcPauseMs, unit: "ms", note: OUTLIVES[r.path] });
  }

  const slowSender = await startSenderProcess(plan.slowBytes);
  const slow: SlowFigures[] = [];
  try {
    for (let i = 0; i < SLOW_PATHS.length; i++) {
      slow.push(await receiveSlowlyInProcess(SLOW_PATHS[i]!, slowSender.port, { bytes: plan.slowBytes, bytesPerMs: plan.bytesPerMs, budget: plan.budget }));
      ctx.progress("net-rx slow consumer", i + 1, SLOW_PATHS.length);
    }
  } finally {
    await slowSender.close();
  }
  const slowWorkload = `slow consumer (${plan.bytesPerMs / 1000} MB/s, every byte verified later), ${plan.slowBytes / MiB} MiB, budget ${plan.budget / MiB} MiB, a fresh process per path`;
  for (const f of slow) {
    ctx.record({ system: f.path, workload: slowWorkload, metric: "peak bytes queued", value: f.peakQueuedBytes, unit: "bytes", note: "received, not yet consumed" });
    ctx.record({ system: f.path, workload: slowWorkload, metric: "peak array-buffer memory", value: f.peakArrayBufferBytes - f.startArrayBufferBytes, unit: "bytes", note: f.arenaBytes > 0 ? `above the start; the ${f.arenaBytes / MiB} MiB arena included` : "above the start" });
    ctx.record({ system: f.path, workload: slowWorkload, metric: "peak RSS", value: f.peakRssBytes - f.startRssBytes, unit: "bytes", note: "above the start, sampled every 2 ms" });
    ctx.record({ system: f.path, workload: slowWorkload, metric: "chunks wrong when consumed", value: f.corruptChunks, unit: "count", note: f.corruptChunks > 0 ? `first wrong byte at stream position ${f.firstWrongByte}` : "every byte intact" });
    ctx.record({ system: f.path, workload: slowWorkload, metric: "bytes copied", value: f.bytesCopied, unit: "bytes", note: f.emergencyReads > 0 ? `${f.emergencyReads} emergency reads` : "to keep the data" });
    ctx.record({ system: f.path, workload: slowWorkload, metric: "GCs", value: f.gcCount, unit: "count", note: `${f.gcPauseMs.toFixed(1)} ms of pauses` });
    ctx.record({ system: f.path, workload: slowWorkload, metric: "MB/s", value: f.bytes / 1e6 / (f.elapsedMs / 1000), unit: "MB/s", note: "paced by the consumer" });
  }
  ctx.log("Figures taken on a shared machine under load: read the paths against each other, not as absolutes.");
}

export default suite;
