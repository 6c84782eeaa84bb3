import { basename } from "node:path";
import { fragmentationIndex, unusableFreeIndex } from "@mmkit/buddy";
import { ErrorCode, MiB, MmkitError } from "@mmkit/physmem";
import type { Contender } from "../harness/types.js";
import { ChunkParser } from "../trace/chunk-parser.js";
import { TraceEventBatch } from "../trace/event-batch.js";
import { TraceEventKind } from "../trace/events.js";
import type { TraceParseSummary, TraceParserOptions } from "../trace/parser.js";
import { streamTraceBatches, type TraceChunkSource, type TraceParseThreading } from "../trace/read-file.js";
import { TraceReplayer, type ReplayOptions, type ReplayReport } from "../trace/replay.js";
import type { PageAllocator } from "../trace/page-allocator.js";
import { SyntheticTrace } from "../trace/synth.js";
import { STDIN_PATH, type TraceInputEnding } from "../trace/trace-input.js";
import { buildSystem, type BuildOptions, type MemorySystem } from "../systems/build.js";
import type { SystemDefinition } from "../systems/definition.js";
import { freeBlocksPerOrder } from "../systems/metrics.js";

/**
 * Trace replay through whole systems, streamed: events flow from the input through the parser to
 * every system in lockstep, a batch at a time; nothing holds the trace. A re-readable trace (a file,
 * a synthetic trace) is read twice: a scan for the trace's own accounting, its peak (which sizes
 * the machine), its CPUs, its time span (which spaces the samples) and a bounded timing window
 * kept in typed arrays; then the replay on the systems, from the window when it holds the whole
 * trace (read once), else from the input again. Standard input is read once.
 */

/** A trace to replay: a file, standard input (`-`), or a synthetic trace. */
export interface TraceSpec {
  /** For reports: the file's base name, "stdin" or `synth-<events>`. */
  name: string;
  /** The file, `-`, or "" for a synthetic trace. */
  path: string;
  /** Events of a synthetic trace (with `path` ""). */
  synthEvents?: number;
  /** Seed of a synthetic trace. */
  seed?: number;
}

/**
 * The spec of a trace file, or of standard input for `-`.
 *
 * @example
 * ```ts
 * traceSpec("/tmp/trace.txt.gz").name; // "trace.txt.gz"
 * ```
 */
export function traceSpec(path: string): TraceSpec {
  return { name: path === STDIN_PATH ? "stdin" : basename(path), path };
}

/**
 * The spec of a synthetic trace of `events` events (see `SyntheticTrace`).
 *
 * @example
 * ```ts
 * synthSpec(1_000_000).name; // "synth-1000000"
 * ```
 */
export function synthSpec(events: number, seed = 1): TraceSpec {
  return { name: `synth-${events}`, path: "", synthEvents: events, seed };
}

/** CPUs a synthetic trace spreads its events over. */
const SYNTH_CPUS = 4;

function sourceOf(spec: TraceSpec): string | TraceChunkSource {
  if (spec.synthEvents === undefined) return spec.path;
  const events = spec.synthEvents;
  const synth = { events, cpus: SYNTH_CPUS, seed: spec.seed ?? 1 };
  return { name: spec.name, synth, chunks: () => new SyntheticTrace(synth).chunks() };
}

/**
 * True when the trace can be read twice (not standard input). O(1).
 *
 * @example
 * ```ts
 * rereadable(traceSpec("-")); // false
 * ```
 */
export function rereadable(spec: TraceSpec): boolean {
  return spec.path !== STDIN_PATH;
}

/**
 * An allocator that never fails: per-order free stacks over an endless bump pointer (the replay
 * floor, and what a scan keeps the trace's own accounting on). O(1) per call.
 *
 * @example
 * ```ts
 * const floor = stackAllocator();
 * floor.allocPages(1); // 0
 * ```
 */
export function stackAllocator(): PageAllocator {
  const free: number[][] = Array.from({ length: 31 }, () => []);
  let top = 0;
  return {
    allocPages(order) {
      const reused = free[order]!.pop();
      if (reused !== undefined) return reused;
      const pfn = Math.ceil(top / 2 ** order) * 2 ** order;
      top = pfn + 2 ** order;
      return pfn;
    },
    freePages(pfn, order) {
      free[order]!.push(pfn);
    },
  };
}

/** What the scan of a trace found: its own accounting and what sizes and paces the replay. */
export interface TraceScan {
  spec: TraceSpec;
  parse: TraceParseSummary;
  input: TraceInputEnding;
  /** The trace's accounting, replayed on per-order stacks that never fail (the same on every system but for `sut*`). */
  accounting: ReplayReport;
  /** Allocations, failed allocations and frees: the events a replay drives. */
  pageEvents: number;
  /** Events handed on by the parser (every record). */
  events: number;
  peakLivePages: number;
  /** CPUs of the traced machine: the header's count, else the highest CPU an event names + 1, else 1. */
  cpus: number;
  /** First and last timestamps in seconds (NaN when the trace has none). */
  firstTime: number;
  lastTime: number;
  /** The first events (up to the window's capacity), for timing rounds. */
  window: TraceEventBatch;
  /** The first bytes of the trace's text (whole lines, header included), for timing the parser. */
  text: Buffer;
  /** Wall seconds of the scan (read, inflate, parse, account; a synthetic trace's generation left out). */
  seconds: number;
  /** Of `seconds`: in the accounting replay (in this thread). */
  accountingSeconds: number;
  /** Seconds of reading and parsing alone (on the parse thread when `threaded`, overlapping the accounting). */
  parseSeconds: number;
  /** CPU seconds of the parse thread's reading and parsing (NaN when parsed in this thread, or off Linux). */
  parseCpuSeconds: number;
  /** True when a parse thread read and parsed the trace while this thread kept the accounting. */
  threaded: boolean;
}

/** Options of {@link scanTrace} and {@link replayOnSystems}. */
export interface TraceReadOptions {
  parse?: TraceParserOptions;
  /** Called after every chunk: bytes of text read so far, lines parsed, events parsed. */
  onProgress?: (bytes: number, lines: number, events: number) => void;
  stdin?: NodeJS.ReadStream;
  /** Where parsing runs (default `auto`: a parse thread for large files; see `streamTraceBatches`). */
  threading?: TraceParseThreading;
}

/**
 * Reads a trace once without any system: the trace's accounting, peak, CPUs, time span, and a
 * window of its first `windowEvents` events in typed arrays (~30 bytes each).
 *
 * Cost: one pass over the input; memory O(window + live allocations).
 *
 * @example
 * ```ts
 * const scan = await scanTrace(traceSpec(DEFAULT_TRACE), 200_000);
 * scan.accounting.allocsByOrder; // [12267, 341, 7, 1, 0, 0, 0, 0, 0, 1]
 * ```
 */
export async function scanTrace(spec: TraceSpec, windowEvents: number, options: TraceReadOptions & { textBytes?: number } = {}): Promise<TraceScan> {
  const window = new TraceEventBatch(Math.max(1, windowEvents), false);
  const textBytes = options.textBytes ?? 4 * MiB;
  const replayer = new TraceReplayer(stackAllocator());
  let accountingSeconds = 0;
  let events = 0;
  let maxCpu = -1;
  let firstTime = Number.NaN;
  let lastTime = Number.NaN;
  const result = await streamTraceBatches(
    sourceOf(spec),
    (batch) => {
      const t0 = performance.now();
      replayer.applyBatch(batch);
      accountingSeconds += (performance.now() - t0) / 1000;
      const { cpu, time } = batch;
      for (let i = 0; i < batch.length; i++) {
        if (cpu[i]! > maxCpu) maxCpu = cpu[i]!;
        const t = time[i]!;
        if (t === t) {
          if (firstTime !== firstTime) firstTime = t;
          lastTime = t;
        }
      }
      for (let i = 0; i < batch.length && window.length < window.capacity; i++) window.push(batch.kind[i]! as TraceEventKind, batch.line[i]!, batch.key[i]!, batch.order[i]!, batch.cpu[i]!, batch.time[i]!, batch.kind[i] === TraceEventKind.Marker || batch.kind[i] === TraceEventKind.Unknown ? batch.texts[batch.key[i]!]! : "", batch.migratetype[i]!);
      events += batch.length;
    },
    { ...options.parse, keepText: textBytes, ...(options.onProgress !== undefined ? { onProgress: options.onProgress } : {}), ...(options.stdin !== undefined ? { stdin: options.stdin } : {}), ...(options.threading !== undefined ? { threading: options.threading } : {}) },
  );
  const accounting = replayer.report();
  const joined = result.text;
  const e = accounting.events;
  // A file of something else (or an empty capture) is the user's mistake: say so, not "ops must be positive" later.
  if (e.alloc + e.allocFailed + e.free === 0) {
    throw new MmkitError(ErrorCode.InvalidArgument, `${spec.path === "" ? spec.name : spec.path} has no page-allocator events (mm_page_alloc, mm_page_free or mmkit lines): nothing to replay`);
  }
  return {
    spec,
    parse: result.parse,
    input: result.input,
    accounting,
    pageEvents: e.alloc + e.allocFailed + e.free,
    events,
    peakLivePages: accounting.peakLivePages,
    cpus: result.parse.cpus ?? Math.max(1, maxCpu + 1),
    firstTime,
    lastTime,
    window,
    text: joined.subarray(0, joined.lastIndexOf(10) + 1),
    seconds: result.threaded ? result.seconds : result.seconds - result.input.sourceSeconds,
    parseSeconds: result.parseSeconds,
    parseCpuSeconds: result.parseCpuSeconds,
    threaded: result.threaded,
    accountingSeconds,
  };
}

/**
 * RAM for replaying a trace: four times its peak of live pages, a power of two, at least 32 MiB.
 *
 * @example
 * ```ts
 * replayMachineBytes({ peakLivePages: 2153 }); // 64 MiB
 * ```
 */
export function replayMachineBytes(trace: { peakLivePages: number }, pageSize = 4096): number {
  return Math.max(32 * MiB, 2 ** Math.ceil(Math.log2(Math.max(1, trace.peakLivePages) * pageSize * 4)));
}

/**
 * Hooks around each system's replay: the explicit points where a system is pre-populated before
 * the first event (e.g. from the kernel's /proc snapshot taken before the capture) and inspected
 * after the last one (e.g. compared with the "after" snapshot).
 */
export interface ReplayHooks {
  /** Called once per system, before the first event; `trace` says which trace (its path finds files beside it). */
  prepare?(system: MemorySystem, replayer: TraceReplayer, trace: TraceSpec): void;
  /** Called once per system, after the last event (not for a system whose replay failed). */
  finish?(system: MemorySystem, replayer: TraceReplayer, report: ReplayReport, trace: TraceSpec): void;
}

/** Metrics of one time-series sample of a system, in this order (then free blocks per order 0..{@link SAMPLED_ORDERS}-1). */
export const SAMPLE_METRICS = ["live pages", "free pages", "unusable free (order 9)", "extfrag (order 9)", "per-CPU list pages", "descriptor metadata"] as const;
/** Orders whose free blocks a sample records (buddyinfo's columns). */
export const SAMPLED_ORDERS = 11;
const SAMPLE_WIDTH = SAMPLE_METRICS.length + SAMPLED_ORDERS;

/**
 * Samples of one system over trace time, held compactly: x (seconds, or page events for a trace
 * without timestamps) and one value per {@link SAMPLE_METRICS} entry and sampled order per sample,
 * in one growing Float64Array. `add` is O(values) amortised.
 *
 * @example
 * ```ts
 * series.value(series.length - 1, SAMPLE_METRICS.indexOf("live pages")); // live pages at the end
 * ```
 */
export class SampleSeries {
  x = new Float64Array(64);
  values = new Float64Array(64 * SAMPLE_WIDTH);
  length = 0;

  add(x: number, values: ArrayLike<number>): void {
    if (this.length === this.x.length) {
      const nx = new Float64Array(this.x.length * 2);
      nx.set(this.x);
      this.x = nx;
      const nv = new Float64Array(this.values.length * 2);
      nv.set(this.values);
      this.values = nv;
    }
    this.x[this.length] = x;
    for (let j = 0; j < SAMPLE_WIDTH; j++) this.values[this.length * SAMPLE_WIDTH + j] = values[j]!;
    this.length++;
  }

  /** Value `j` (an index into {@link SAMPLE_METRICS}, then the orders) of sample `i`. */
  value(i: number, j: number): number {
    return this.values[i * SAMPLE_WIDTH + j]!;
  }
}

/**
 * Reads one sample of `system` into `out` (non-draining: the replay's per-CPU lists are left as they
 * are). Cost: one buddyinfo (O(orders x nodes)) or POTAD stats read.
 *
 * @example
 * ```ts
 * const out = new Float64Array(SAMPLE_METRICS.length + SAMPLED_ORDERS);
 * sampleSystem(system, replayer, out); // out[0]: live pages, out[1]: free pages, ...
 * ```
 */
export function sampleSystem(system: MemorySystem, replayer: TraceReplayer, out: Float64Array): void {
  // Without draining any front: a sample must not disturb the replay (pages on fronts are not free blocks, as in /proc/buddyinfo).
  const blocks = freeBlocksPerOrder(system, false);
  let freePages = 0;
  for (let o = 0; o < blocks.length; o++) freePages += blocks[o]! * 2 ** o;
  out[0] = replayer.livePages;
  out[1] = freePages;
  out[2] = unusableFreeIndex(9, blocks) / 10;
  out[3] = fragmentationIndex(9, blocks);
  out[4] = system.buddy?.perCpuPageCount() ?? 0;
  out[5] = (system.arenas.descriptors as { bytes?: number }).bytes ?? 0;
  for (let o = 0; o < SAMPLED_ORDERS; o++) out[SAMPLE_METRICS.length + o] = blocks[o] ?? 0;
}

/** One system's replay, from {@link replayOnSystems}. */
export interface SystemReplay {
  system: MemorySystem;
  replayer: TraceReplayer;
  report: ReplayReport | null;
  /** Seconds spent in this system's replay (its share of the lockstep pass). */
  seconds: number;
  samples: SampleSeries;
  /** Why its replay stopped (the others went on), or null. */
  error: string | null;
}

/** What {@link replayOnSystems} returns. */
export interface LockstepResult {
  replays: SystemReplay[];
  parse: TraceParseSummary;
  input: TraceInputEnding;
  /** Wall seconds of the pass (a synthetic trace's generation left out). */
  seconds: number;
  /** Of `seconds`: reading and parsing that the replays waited for (the pass minus replays and sampling; with a parse thread, only the waits). */
  readParseSeconds: number;
  /** True when a parse thread read and parsed the trace while the systems replayed it. */
  threaded: boolean;
  /** True when the systems replayed the scan's window, which held the whole trace: the input was read once, by the scan. */
  fromWindow: boolean;
  /** Seconds of reading and parsing alone (the parse thread's busy time, or this thread's share). */
  parseSeconds: number;
  /** CPU seconds of the parse thread's reading and parsing (NaN when parsed in this thread, or off Linux). */
  parseCpuSeconds: number;
  /** Page events of the trace (from this pass). */
  pageEvents: number;
  events: number;
}

/**
 * Replays a trace on several systems in lockstep, each batch of events on every system in turn,
 * each event through the front of the CPU it names (`system.pages.cpuSources`), sampling every
 * system `samples` times over trace time. An allocation a system cannot serve is counted for it;
 * a system whose replay throws is dropped with its error and the others go on.
 *
 * `systems` is built lazily once the trace's header is read: `build(cpus)` gets the trace's CPU
 * count (the scan's, or the header's for standard input). When the scan's window holds every event
 * of the trace, the systems replay it and the input is not read again; reading and parsing then
 * count as the scan's (`parseSeconds`).
 *
 * Cost: one pass over the input; memory O(batch + live allocations + samples).
 *
 * @example
 * ```ts
 * const { replays } = await replayOnSystems(spec, (cpus) => defs.map((d) => buildSystem(d, { bytes, cpus })), { scan, samples: 60 });
 * replays[0].report.sutFailures;
 * ```
 */
export async function replayOnSystems(
  spec: TraceSpec,
  build: (cpus: number) => MemorySystem[],
  options: TraceReadOptions & { scan?: TraceScan; samples?: number; hooks?: ReplayHooks; replay?: ReplayOptions } = {},
): Promise<LockstepResult> {
  const { scan, samples = 60, hooks } = options;
  let replays: SystemReplay[] | null = null;
  let active: SystemReplay[] = [];
  const sample = new Float64Array(SAMPLE_WIDTH);
  // Sample spacing: the scan's time span / samples; without a scan (stdin), by page events, doubling as the trace goes on.
  const byTime = scan !== undefined && scan.lastTime === scan.lastTime && scan.lastTime > scan.firstTime;
  let step = byTime ? (scan.lastTime - scan.firstTime) / samples : Math.max(1, Math.floor((scan?.pageEvents ?? 4096 * samples) / samples));
  let nextAt = byTime ? scan.firstTime : 0;
  let eventIndex = 0;
  let replaySeconds = 0;
  const started = performance.now();

  const start = (cpus: number): SystemReplay[] => {
    const built = build(cpus).map((system) => {
      const replayer = new TraceReplayer(system.pages.source(3), { ...options.replay, fronts: system.pages.cpuSources(3) });
      return { system, replayer, report: null, seconds: 0, samples: new SampleSeries(), error: null } as SystemReplay;
    });
    for (const r of built) hooks?.prepare?.(r.system, r.replayer, spec);
    return built;
  };
  const run = (batch: TraceEventBatch, from: number, to: number): void => {
    if (from === to) return;
    for (const r of active) {
      const t0 = performance.now();
      try {
        r.replayer.applyBatch(batch, from, to);
      } catch (e) {
        r.error = e instanceof Error ? e.message : String(e);
      }
      const dt = (performance.now() - t0) / 1000;
      r.seconds += dt;
      replaySeconds += dt;
    }
    if (active.some((r) => r.error !== null)) active = active.filter((r) => r.error === null);
  };
  const takeSample = (x: number): void => {
    const t0 = performance.now();
    for (const r of active) {
      sampleSystem(r.system, r.replayer, sample);
      r.samples.add(x, sample);
    }
    replaySeconds += (performance.now() - t0) / 1000;
  };

  const consume = (batch: TraceEventBatch): void => {
    if (replays === null) {
      replays = start(scan?.cpus ?? batch.cpu.subarray(0, batch.length).reduce((m, c) => Math.max(m, c + 1), 1));
      active = replays.slice();
    }
    let from = 0;
    const { kind, time } = batch;
    for (let i = 0; i < batch.length; i++) {
      let x: number;
      if (byTime) x = time[i]!;
      else {
        const k = kind[i]!;
        if (k !== TraceEventKind.Alloc && k !== TraceEventKind.Free && k !== TraceEventKind.AllocFailed) continue;
        x = eventIndex++;
      }
      if (x >= nextAt) {
        run(batch, from, i);
        from = i;
        takeSample(nextAt);
        while (nextAt <= x) nextAt += step;
        if (!byTime && replays![0]!.samples.length >= 2 * samples) step *= 2;
      }
    }
    run(batch, from, batch.length);
  };
  const whole = scan !== undefined && scan.events > 0 && scan.window.length === scan.events;
  let result: { parse: TraceParseSummary; input: TraceInputEnding; threaded: boolean; parseSeconds: number; parseCpuSeconds: number };
  if (whole) {
    // The scan held every event: replay its window instead of reading and parsing the input again.
    consume(scan.window);
    options.onProgress?.(scan.input.bytesOut, scan.parse.lines, scan.events);
    result = { parse: scan.parse, input: scan.input, threaded: scan.threaded, parseSeconds: scan.parseSeconds, parseCpuSeconds: scan.parseCpuSeconds };
  } else {
    result = await streamTraceBatches(sourceOf(spec), consume, { ...options.parse, ...(options.onProgress !== undefined ? { onProgress: options.onProgress } : {}), ...(options.stdin !== undefined ? { stdin: options.stdin } : {}), ...(options.threading !== undefined ? { threading: options.threading } : {}) });
  }
  const all: SystemReplay[] = replays ?? start(scan?.cpus ?? 1);
  takeSample(byTime ? scan!.lastTime : eventIndex);
  for (const r of all) {
    if (r.error !== null) continue;
    r.report = r.replayer.report();
    hooks?.finish?.(r.system, r.replayer, r.report, spec);
  }
  // Read from the window, the pass read nothing: its reading and parsing are the scan's.
  const seconds = whole ? scan!.parseSeconds + replaySeconds : (performance.now() - started) / 1000 - (result.threaded ? 0 : result.input.sourceSeconds);
  const e = result.parse.events;
  return { replays: all, parse: result.parse, input: result.input, seconds, readParseSeconds: whole ? scan!.parseSeconds : Math.max(0, seconds - replaySeconds), threaded: result.threaded, fromWindow: whole, parseSeconds: result.parseSeconds, parseCpuSeconds: result.parseCpuSeconds, pageEvents: e.alloc + e.allocFailed + e.free, events: result.parse.records };
}

/** Records what a timed replay allocated, over the face and its CPU fronts, so it can give it all back. */
class Tracking {
  readonly live = new Map<number, number>();
  readonly face: PageAllocator;
  readonly fronts: PageAllocator[];
  constructor(readonly inner: PageAllocator, fronts: readonly PageAllocator[]) {
    this.face = this.#wrap(inner);
    this.fronts = fronts.map((f) => this.#wrap(f));
  }
  #wrap(a: PageAllocator): PageAllocator {
    const live = this.live;
    return {
      allocPages(order) {
        const pfn = a.allocPages(order);
        if (pfn >= 0) live.set(pfn, order);
        return pfn;
      },
      freePages(pfn, order) {
        live.delete(pfn);
        a.freePages(pfn, order);
      },
    };
  }
  releaseAll(): void {
    for (const [pfn, order] of this.live) this.inner.freePages(pfn, order);
    this.live.clear();
  }
}

function replayWindowLoop(window: TraceEventBatch, sut: Tracking, ops: number): number {
  let sum = 0;
  for (let done = 0; done < ops; done += window.length) {
    const replayer = new TraceReplayer(sut.face, { fronts: sut.fronts });
    replayer.applyBatch(window);
    sum = (sum + replayer.livePages) | 0;
    sut.releaseAll();
  }
  return sum;
}

/**
 * The timing window replayed per `run` (time it with `ops: window.length`), on a system's face and
 * CPU fronts; what it left live is freed after each replay. `def` null gives the replay floor: the
 * same replayer over per-order stacks that never fail.
 *
 * @example
 * ```ts
 * ctx.time("replay", [replayContender(scan.window, null, {}), replayContender(scan.window, classic, { bytes, cpus })], { floor: "replay on per-order stacks", ops: scan.window.length });
 * ```
 */
export function replayContender(window: TraceEventBatch, def: SystemDefinition | null, build: BuildOptions): Contender {
  return {
    name: def === null ? "replay on per-order stacks" : def.name,
    setup() {
      let sut: Tracking;
      if (def === null) sut = new Tracking(stackAllocator(), []);
      else {
        const system = buildSystem(def, build);
        sut = new Tracking(system.pages.source(3), system.pages.cpuSources(3));
      }
      replayWindowLoop(window, sut, 1);
      return (ops) => replayWindowLoop(window, sut, ops);
    },
  };
}

/** 1 MiB slices of `text`, as a stream delivers it. */
function slices(text: Buffer): Buffer[] {
  const out: Buffer[] = [];
  for (let i = 0; i < text.length; i += MiB) out.push(text.subarray(i, i + MiB));
  return out;
}

function newlineLoop(parts: readonly Buffer[], lines: number, ops: number): number {
  let sum = 0;
  for (let done = 0; done < ops; done += lines) {
    for (const part of parts) {
      const u8 = new Uint8Array(part.buffer, part.byteOffset, part.length);
      for (let at = u8.indexOf(10); at !== -1; at = u8.indexOf(10, at + 1)) sum++;
    }
  }
  return sum;
}

function parseLoop(parts: readonly Buffer[], lines: number, batch: TraceEventBatch, options: TraceParserOptions, ops: number): number {
  let sum = 0;
  for (let done = 0; done < ops; done += lines) {
    const parser = new ChunkParser(options);
    for (const part of parts) {
      parser.feed(part, batch);
      sum += batch.length;
      batch.clear();
    }
    parser.end(batch);
    batch.clear();
  }
  return sum;
}

function parseReplayLoop(parts: readonly Buffer[], events: number, batch: TraceEventBatch, options: TraceParserOptions, sut: Tracking, ops: number): number {
  let sum = 0;
  for (let done = 0; done < ops; done += events) {
    const parser = new ChunkParser(options);
    const replayer = new TraceReplayer(sut.face, { fronts: sut.fronts });
    for (const part of parts) {
      parser.feed(part, batch);
      replayer.applyBatch(batch);
      batch.clear();
    }
    parser.end(batch);
    replayer.applyBatch(batch);
    batch.clear();
    sum = (sum + replayer.livePages) | 0;
    sut.releaseAll();
  }
  return sum;
}

/**
 * Timing the parser on a text window: the newline scan (the floor: finding the lines and nothing
 * else) or the byte-level parser (`parse: true`). Time with `ops` = the window's lines.
 *
 * @example
 * ```ts
 * ctx.time("parse", [parseContender(scan.text, lines, false, {}), parseContender(scan.text, lines, true, {})], { floor: "newline scan", ops: lines });
 * ```
 */
export function parseContender(text: Buffer, lines: number, parse: boolean, options: TraceParserOptions): Contender {
  return {
    name: parse ? "byte parser" : "newline scan",
    setup() {
      const parts = slices(text);
      if (!parse) return (ops) => newlineLoop(parts, lines, ops);
      const batch = new TraceEventBatch(1 << 15);
      parseLoop(parts, lines, batch, options, 1);
      return (ops) => parseLoop(parts, lines, batch, options, ops);
    },
  };
}

/**
 * Timing a whole replay from text: parse the text window and replay it on a system (or, `def`
 * null, on the per-order stacks). Time with `ops` = the window's events.
 *
 * @example
 * ```ts
 * ctx.time("parse+replay", [parseReplayContender(scan.text, events, null, {}, {}), parseReplayContender(scan.text, events, classic, { bytes, cpus }, {})], { ops: events });
 * ```
 */
export function parseReplayContender(text: Buffer, events: number, def: SystemDefinition | null, build: BuildOptions, options: TraceParserOptions): Contender {
  return {
    name: def === null ? "parse + replay on per-order stacks" : `parse + replay on ${def.name}`,
    setup() {
      const parts = slices(text);
      const batch = new TraceEventBatch(1 << 15);
      let sut: Tracking;
      if (def === null) sut = new Tracking(stackAllocator(), []);
      else {
        const system = buildSystem(def, build);
        sut = new Tracking(system.pages.source(3), system.pages.cpuSources(3));
      }
      parseReplayLoop(parts, events, batch, options, sut, 1);
      return (ops) => parseReplayLoop(parts, events, batch, options, sut, ops);
    },
  };
}
