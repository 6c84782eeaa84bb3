import { statSync } from "node:fs";
import { MiB, MmkitError } from "@mmkit/physmem";
import type { SuiteContext } from "../harness/types.js";
import { MARKER_METRIC } from "../report/charts.js";
import { buildSystem } from "../systems/build.js";
import type { SystemDefinition } from "../systems/definition.js";
import { metadataFigures } from "../systems/metrics.js";
import { selectedSynthTraces, selectedTraces, systemSelection } from "../systems/selection.js";
import { ChunkParser } from "../trace/chunk-parser.js";
import { TraceEventBatch } from "../trace/event-batch.js";
import { TRACE_EVENT_KIND_NAMES } from "../trace/events.js";
import { openTraceInput } from "../trace/trace-input.js";
import type { ReplayReport } from "../trace/replay.js";
import {
  SAMPLED_ORDERS,
  SAMPLE_METRICS,
  parseContender,
  parseReplayContender,
  replayContender,
  replayMachineBytes,
  replayOnSystems,
  rereadable,
  scanTrace,
  synthSpec,
  traceSpec,
  type ReplayHooks,
  type TraceScan,
  type TraceSpec,
} from "../workloads/trace-replay.js";

/** Units of the sampled metrics, by {@link SAMPLE_METRICS} index. */
const SAMPLE_UNITS = ["pages", "pages", "%", "x1000", "pages", "bytes"];
/** The system name under which a trace's own accounting (the same on every system) is recorded. */
export const TRACE_SYSTEM = "trace";
/** RAM of the systems when a trace is read once (standard input) and its peak is not known ahead. */
const DEFAULT_STDIN_MEMORY = 1024 * MiB;

/** How a replay run is sized: the timing window and the samples per system. */
export interface ReplayProfile {
  /** Events of the trace kept (typed arrays) for timing rounds. */
  windowEvents: number;
  /** Samples per system over trace time. */
  samples: number;
  rounds?: number;
}

/**
 * The replay profile of a quick or a full run.
 *
 * @example
 * ```ts
 * replayProfile(true).samples; // 40
 * ```
 */
export function replayProfile(quick: boolean): ReplayProfile {
  return quick ? { windowEvents: 50_000, samples: 40, rounds: 10 } : { windowEvents: 200_000, samples: 60 };
}

/** Hooks every replay runs with (`setReplayHooks`): where a snapshot pre-populates systems and the end state is compared. */
let hooks: ReplayHooks = {};

/**
 * Sets the hooks the replay suites call around each system's replay (see {@link ReplayHooks}).
 *
 * @example
 * ```ts
 * setReplayHooks({ prepare: (system) => populateFromSnapshot(system, before), finish: (system) => compare(system, after) });
 * ```
 */
export function setReplayHooks(next: ReplayHooks): void {
  hooks = next;
}

/**
 * Every trace the command line selected: files (and `-`), then synthetic ones. O(traces).
 *
 * @example
 * ```ts
 * selectedTraceSpecs().map((t) => t.name); // ["trace.txt.gz"] by default
 * ```
 */
export function selectedTraceSpecs(): TraceSpec[] {
  return [...selectedTraces().map(traceSpec), ...selectedSynthTraces().map((n) => synthSpec(n))];
}

function rate(n: number, seconds: number): number {
  return seconds > 0 ? n / seconds : 0;
}

function millions(n: number): string {
  return `${(n / 1e6).toFixed(2)}M`;
}

/** A trace error as one line naming the input: `trace.txt: line 7: mm_page_free has no pfn= field: "..."`. */
function namedError(spec: TraceSpec, e: unknown): unknown {
  if (!(e instanceof MmkitError) || e.message.startsWith(spec.path === "" ? spec.name : spec.path) || e.message.startsWith("standard input")) return e;
  const where = spec.path === "-" ? "standard input" : spec.path === "" ? spec.name : spec.path;
  const named = new MmkitError(e.code, `${where}: ${e.message}`, { cause: e });
  return Object.assign(named, { line: (e as { line?: number }).line });
}

/** A progress reporter for one pass: done and total in lines (total estimated until known), events/s in the label. */
function passProgress(ctx: SuiteContext, label: string, spec: TraceSpec, knownLines: number | undefined): (bytes: number, lines: number, events: number) => void {
  const started = performance.now();
  let fileBytes = 0;
  if (knownLines === undefined && spec.path !== "" && spec.path !== "-") {
    try {
      fileBytes = statSync(spec.path).size;
    } catch {
      fileBytes = 0;
    }
  }
  return (bytes, lines, events) => {
    const seconds = (performance.now() - started) / 1000;
    const speed = `${millions(rate(events, seconds))} events/s`;
    if (knownLines !== undefined) ctx.progress(`${label} ${speed}`, Math.min(lines, knownLines), knownLines);
    else if (spec.synthEvents !== undefined) ctx.progress(`${label} ${speed}`, Math.min(lines, spec.synthEvents), spec.synthEvents);
    else if (fileBytes > 0 && bytes <= fileBytes) ctx.progress(`${label} ${speed}`, bytes, fileBytes);
    else ctx.progress(`${label} ${speed}`, lines, Math.max(lines * 2, 1));
  };
}

/** Records the trace's whole accounting under {@link TRACE_SYSTEM}. */
function recordAccounting(ctx: SuiteContext, workload: string, a: ReplayReport, parse: TraceScan["parse"]): void {
  const rec = (metric: string, value: number, unit: string, note?: string): void => ctx.record({ system: TRACE_SYSTEM, workload, metric, value, unit, ...(note !== undefined ? { note } : {}) });
  rec("lines", parse.lines, "count", `${parse.unrecognizedLines} unrecognized, ${parse.malformedLines} malformed, ${parse.nonTextLines} not text${parse.truncated ? ", input cut short" : ""}`);
  TRACE_EVENT_KIND_NAMES.forEach((name) => rec(`events: ${name}`, a.events[name], "count", name === "unknown" && Object.keys(a.unknownEvents).length > 0 ? JSON.stringify(a.unknownEvents) : undefined));
  a.allocsByOrder.forEach((n, order) => {
    if (n > 0) rec(`allocations order ${order}`, n, "count");
  });
  rec("allocated pages", a.allocPages, "pages");
  rec("failed allocations (traced)", a.events.allocFailed, "count");
  rec("frees matched", a.freesMatched, "count", `${a.freesPartial} partial, ${a.freesOrderMismatch} of another order`);
  rec("frees of pages from before the capture", a.freesUnmatched, "count");
  rec("pages freed from before the capture", a.freesUnmatchedPages, "pages");
  rec("allocations of a still-live pfn", a.allocsOverLive, "count", "its free was not traced: the old allocation was freed first");
  rec("live allocations at end", a.liveAllocationsAtEnd, "count");
  rec("live pages at end", a.livePagesAtEnd, "pages");
  rec("peak live pages", a.peakLivePages, "pages", `${a.peakLiveAllocations} allocations at most`);
  rec("malformed lines", parse.malformedLines, "count");
  rec("lines not text", parse.nonTextLines, "count");
  rec("lost events", a.lostEvents, "count", parse.overwrittenEvents > 0 ? `${parse.overwrittenEvents} overwritten before the capture was read` : undefined);
  for (const m of a.markers) ctx.record({ system: TRACE_SYSTEM, workload, metric: MARKER_METRIC, value: m.time === m.time ? m.time : m.line, unit: m.time === m.time ? "s" : "line", note: m.text });
}

/**
 * Replays every selected trace (`--trace`, `--trace-synth`; default the Linux 6.1 fixture) on
 * `defs`, streaming: a scan for the trace's accounting, peak, CPUs and time span (re-readable
 * inputs), then every system in lockstep through its per-CPU fronts, sampled over trace time,
 * then the timing window interleaved against the replay floor. Records the whole accounting,
 * per-system failures and per-CPU counts, lines/s and events/s of each pass, peak RSS, and the
 * time series (measurements with `at` = trace seconds).
 *
 * @example
 * ```ts
 * await recordTraceReplay(ctx, selectedSystems(), replayProfile(ctx.quick));
 * ```
 */
export async function recordTraceReplay(ctx: SuiteContext, defs: readonly SystemDefinition[], p: ReplayProfile): Promise<void> {
  const selection = systemSelection();
  const parse = { format: selection.traceFormat, lenient: selection.traceLenient };
  const failures: string[] = [];
  for (const spec of selectedTraceSpecs()) {
    const workload = `replay ${spec.name}`;
    let scan: TraceScan | undefined;
    try {
      // --trace-memory sizes the machine, so a file too is read once (no scan: no timing window, samples by page events).
      if (rereadable(spec) && selection.traceMemory === undefined) scan = await scanTrace(spec, p.windowEvents, { parse, onProgress: passProgress(ctx, `scan ${spec.name}`, spec, undefined) });
    } catch (e) {
      throw namedError(spec, e);
    }
    const bytes = scan !== undefined ? replayMachineBytes(scan) : (selection.traceMemory ?? DEFAULT_STDIN_MEMORY);
    let cpusUsed = 1;
    let lockstep;
    try {
      lockstep = await replayOnSystems(
        spec,
        (cpus) => {
          // The buddy allocator takes at most 1024 CPUs; events of others go to CPU (n % 1024)'s front.
          cpusUsed = Math.min(cpus, 1024);
          return defs.map((d) => buildSystem(d, { bytes, cpus: cpusUsed }));
        },
        { parse, samples: p.samples, hooks, onProgress: passProgress(ctx, `replay ${spec.name}`, spec, scan?.parse.lines), ...(scan !== undefined ? { scan } : {}) },
      );
    } catch (e) {
      throw namedError(spec, e);
    }
    const { replays } = lockstep;
    let gunzipAlone = 0;
    const accounting = scan?.accounting ?? replays.find((r) => r.report !== null)?.report ?? null;
    const parseSummary = scan?.parse ?? lockstep.parse;
    if (accounting !== null) recordAccounting(ctx, workload, accounting, parseSummary);
    const e = parseSummary.events;
    ctx.log(
      `${spec.name}: ${parseSummary.lines} lines, ${parseSummary.records} events (alloc ${e.alloc}, free ${e.free}, batched ${e.freeBatched}), ${parseSummary.malformedLines} malformed, ${cpusUsed} CPU(s); replayed on ${bytes / MiB} MiB${scan === undefined ? " (read once: --trace-memory)" : ""}${lockstep.fromWindow ? " (read once: the timing window held the whole trace)" : ""}${lockstep.threaded ? "; parsed on a parse thread" : ""}`,
    );
    const skipped = parseSummary.malformedLines + parseSummary.nonTextLines;
    if (skipped > 0 || parseSummary.truncated) {
      const first = parseSummary.problems.find((x) => x.code !== "unrecognized");
      ctx.log(
        `${spec.name}: skipped with --trace-lenient: ${parseSummary.malformedLines} malformed line(s), ${parseSummary.nonTextLines} line(s) not text${parseSummary.truncated ? ", and the input ends early" : ""}${first !== undefined ? ` (first: ${first.message.slice(0, 160)})` : ""}`,
      );
    }
    // Speeds: the scan (read + parse + accounting) and the lockstep pass (read + parse, then each system's share).
    // Parse speed: the scan's, or, read once, the lockstep pass's (on a parse thread: its busy time).
    const parsePass = scan ?? { parse: lockstep.parse, input: lockstep.input, parseSeconds: lockstep.parseSeconds, parseCpuSeconds: lockstep.parseCpuSeconds, threaded: lockstep.threaded };
    const where = parsePass.threaded ? `on the parse thread, overlapping the ${scan !== undefined ? "accounting" : "replays"}` : "in the main thread";
    if (rereadable(spec)) {
      ctx.record({ system: TRACE_SYSTEM, workload, metric: "parse lines/s", value: rate(parsePass.parse.lines, parsePass.parseSeconds), unit: "lines/s", note: `the whole trace: ${spec.synthEvents !== undefined ? "generate" : "read"}${parsePass.input.gzip ? " + gunzip (worker)" : ""} + parse ${where}, ${parsePass.parse.lines} lines in ${parsePass.parseSeconds.toFixed(2)} s` });
    }
    // The parse thread's CPU time (10 ms ticks: only over a tenth of a second of it): the parser's pace whatever else the machine runs.
    if (rereadable(spec) && parsePass.parseCpuSeconds >= 0.1) {
      ctx.record({ system: TRACE_SYSTEM, workload, metric: "parse lines/s (parse thread CPU)", value: rate(parsePass.parse.lines, parsePass.parseCpuSeconds), unit: "lines/s", note: `the whole trace: ${parsePass.input.gzip ? "taking the inflate worker's text" : "read"} + parse, over the parse thread's CPU time (${parsePass.parseCpuSeconds.toFixed(2)} s; wall-clock busy ${parsePass.parseSeconds.toFixed(2)} s)` });
    }
    if (scan !== undefined) ctx.record({ system: TRACE_SYSTEM, workload, metric: "scan events/s", value: rate(scan.events, scan.seconds), unit: "events/s", note: `read + parse + accounting replay on per-order stacks${scan.threaded ? " (parsing on its own thread)" : ""}` });
    if (parsePass.input.gzip && rereadable(spec)) {
      // Decompression alone (the same worker, nothing parsed): how much of the scan and the replay is waiting for zlib.
      const t0 = performance.now();
      for await (const chunk of openTraceInput(spec.path).chunks()) void chunk;
      const gunzipSeconds = (performance.now() - t0) / 1000;
      ctx.record({ system: TRACE_SYSTEM, workload, metric: "gunzip alone lines/s", value: rate(parsePass.parse.lines, gunzipSeconds), unit: "lines/s", note: `the worker inflating the whole file, nothing parsed (${gunzipSeconds.toFixed(2)} s)` });
      if (scan !== undefined) ctx.record({ system: TRACE_SYSTEM, workload, metric: "scan / gunzip alone", value: scan.seconds / gunzipSeconds, unit: "ratio", note: "read + gunzip + parse + accounting over gunzip alone (1 = parsing hidden behind decompression)" });
      gunzipAlone = gunzipSeconds;
    }
    for (const r of replays) {
      const name = r.system.name;
      if (r.error !== null || r.report === null) {
        failures.push(`${name} on ${spec.name}: ${r.error}`);
        ctx.record({ system: name, workload, metric: "replay stopped", value: 1, unit: "count", note: r.error ?? "" });
        continue;
      }
      const rep = r.report;
      ctx.record({ system: name, workload, metric: "sut failures", value: rep.sutFailures, unit: "count", note: `by order ${rep.sutFailuresByOrder.join("/") || "-"}; ${rep.sutOrderTooLarge} above its largest order` });
      ctx.record({ system: name, workload, metric: "frees of failed allocations", value: rep.freesOfFailedAllocs, unit: "count" });
      ctx.record({ system: name, workload, metric: "replay events/s", value: rate(lockstep.events, r.seconds), unit: "events/s", note: `this system's share of the lockstep pass (${r.seconds.toFixed(2)} s)` });
      ctx.record({ system: name, workload, metric: "read+parse+replay events/s", value: rate(lockstep.events, lockstep.readParseSeconds + r.seconds), unit: "events/s", note: `${lockstep.fromWindow ? "the scan's read + parse (the trace was read once; the systems replayed its window)" : lockstep.threaded ? "parse thread feeding this thread; waited for it" : "read + parse"} (${lockstep.readParseSeconds.toFixed(2)} s) + this system's replay` });
      if (gunzipAlone > 0) ctx.record({ system: name, workload, metric: "gzip replay / gunzip alone", value: (lockstep.readParseSeconds + r.seconds) / gunzipAlone, unit: "ratio", note: "read + gunzip + parse + this system's replay, over gunzip alone" });
      ctx.record({ system: name, workload, metric: "metadata/page", value: metadataFigures(r.system).perPage, unit: "bytes" });
      for (const [metric, value] of Object.entries(r.system.custom?.stats?.() ?? {})) {
        if (Number.isFinite(value)) ctx.record({ system: name, workload, metric: `${r.system.definition.name}: ${metric}`, value, unit: "count", note: "the allocator's own stats()" });
      }
      rep.perCpu.allocs.forEach((n, cpu) => {
        if (cpu < 64) ctx.record({ system: name, workload, metric: `cpu ${cpu} allocs`, value: n, unit: "count", note: `${rep.perCpu.frees[cpu]} frees` });
      });
      r.system.check();
      for (let i = 0; i < r.samples.length; i++) {
        const at = r.samples.x[i]!;
        const buddyinfo: number[] = [];
        for (let o = 0; o < SAMPLED_ORDERS; o++) buddyinfo.push(r.samples.value(i, SAMPLE_METRICS.length + o));
        SAMPLE_METRICS.forEach((metric, j) => {
          // Free pages carry the whole buddyinfo line (free blocks per order 0..10) in their note, kept in the JSON.
          const note = metric === "free pages" ? `buddyinfo ${buddyinfo.join(" ")}` : undefined;
          ctx.record({ system: name, workload, metric, value: r.samples.value(i, j), unit: SAMPLE_UNITS[j]!, at, ...(note !== undefined ? { note } : {}) });
        });
        let highOrder = 0;
        for (let o = 9; o < SAMPLED_ORDERS; o++) highOrder += buddyinfo[o]! * 2 ** o;
        ctx.record({ system: name, workload, metric: "free pages in order 9+ blocks", value: highOrder, unit: "pages", at });
      }
    }
    if (scan !== undefined && scan.text.length > 0) {
      // The parser alone and a whole replay from text, on the text window, timed in interleaved rounds.
      const probe = new ChunkParser(parse);
      const counted = new TraceEventBatch(1 << 15);
      let textEvents = 0;
      probe.feed(scan.text, counted);
      textEvents += counted.length;
      const textLines = probe.parser.lineNumber;
      const rounds = p.rounds !== undefined ? { rounds: p.rounds } : {};
      const [floor, parser] = ctx.time(`${workload}: parse`, [parseContender(scan.text, textLines, false, parse), parseContender(scan.text, textLines, true, parse)], {
        floor: "newline scan",
        ops: textLines,
        note: `ns per line (the first ${textLines} lines, ${(scan.text.length / MiB).toFixed(1)} MiB of text)`,
        ...rounds,
      });
      if (parser !== undefined && floor !== undefined) {
        ctx.record({ system: TRACE_SYSTEM, workload, metric: "parse lines/s (median of rounds)", value: 1e9 / parser.nsPerOp, unit: "lines/s", note: `newline scan alone: ${millions(1e9 / floor.nsPerOp)} lines/s` });
      }
      const whole = ctx.time(`${workload}: parse + replay`, [parseReplayContender(scan.text, textEvents, null, {}, parse), ...defs.map((d) => parseReplayContender(scan.text, textEvents, d, { bytes, cpus: cpusUsed }, parse))], {
        floor: "parse + replay on per-order stacks",
        ops: textEvents,
        note: `ns per event, parsing the text window and replaying it (${textEvents} events)`,
        ...rounds,
      });
      for (const t of whole) {
        const name = t.name.replace(/^parse \+ replay on /, "");
        if (defs.some((d) => d.name === name)) ctx.record({ system: name, workload, metric: "parse+replay events/s (median of rounds)", value: 1e9 / t.nsPerOp, unit: "events/s", note: "text window, in memory: parse and replay, no I/O" });
      }
    }
    if (scan !== undefined && scan.window.length > 0) {
      const window = scan.window;
      ctx.time(workload, [replayContender(window, null, {}), ...defs.map((d) => replayContender(window, d, { bytes, cpus: cpusUsed }))], {
        floor: "replay on per-order stacks",
        ops: window.length,
        note: `ns per trace event (the first ${window.length} events)`,
        ...(p.rounds !== undefined ? { rounds: p.rounds } : {}),
      });
    }
    ctx.record({ system: TRACE_SYSTEM, workload, metric: "peak RSS", value: process.resourceUsage().maxRSS / 1024, unit: "MiB", note: "of the whole bench process so far (maxRSS)" });
  }
  if (failures.length > 0) throw new Error(`the replay stopped on ${failures.length} system(s), the others went on: ${failures.join("; ")}`);
}
