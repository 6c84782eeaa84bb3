import { basename } from "node:path";
import { MiB, ErrorCode, MmkitError } from "@mmkit/physmem";
import type { Contender } from "../harness/types.js";
import { TraceEventKind, type TraceRecord } from "../trace/events.js";
import type { TraceParseSummary, TraceParserOptions } from "../trace/parser.js";
import { parseTraceFile } from "../trace/read-file.js";
import { TraceReplayer, replayTrace, type ReplayOptions, type ReplayReport } from "../trace/replay.js";
import type { PageAllocator } from "../trace/page-allocator.js";
import { buildSystem, type BuildOptions, type MemorySystem } from "../systems/build.js";
import type { SystemDefinition } from "../systems/definition.js";

/** A trace read into memory once, replayed on every system. */
export interface LoadedTrace {
  /** The file's base name, for reports. */
  name: string;
  path: string;
  records: TraceRecord[];
  parse: TraceParseSummary;
  /** Allocations, failed allocations and frees: the events a replay drives. */
  pageEvents: number;
  /** The trace's own peak of live pages (from a replay on an allocator that never fails). */
  peakLivePages: number;
}

/** An allocator that never fails: per-order free stacks over an endless bump pointer (the replay floor). */
function stackAllocator(): PageAllocator {
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

/**
 * Reads a trace file (ftrace, trace-cmd, perf script or mmkit format; plain or gzip) into memory.
 * A malformed line is a `TraceError` naming it, unless `lenient`.
 *
 * @example
 * ```ts
 * const trace = await loadTrace(DEFAULT_TRACE);
 * trace.parse.events.alloc; // 12617
 * ```
 */
export async function loadTrace(path: string, options: TraceParserOptions = {}): Promise<LoadedTrace> {
  const records: TraceRecord[] = [];
  const parse = await parseTraceFile(path, (r) => void records.push(r), options);
  let pageEvents = 0;
  for (const r of records) if (r.kind === TraceEventKind.Alloc || r.kind === TraceEventKind.AllocFailed || r.kind === TraceEventKind.Free) pageEvents++;
  // A file of something else (or an empty capture) is the user's mistake: say so, not "ops must be positive" later.
  if (pageEvents === 0) throw new MmkitError(ErrorCode.InvalidArgument, `${path} has no page-allocator events (mm_page_alloc, mm_page_free or mmkit lines): nothing to replay`);
  const peakLivePages = replayTrace(records, stackAllocator()).peakLivePages;
  return { name: basename(path), path, records, parse, pageEvents, peakLivePages };
}

/** RAM for replaying `trace`: four times its peak of live pages, a power of two, at least 32 MiB. */
export function replayMachineBytes(trace: LoadedTrace, pageSize = 4096): number {
  return Math.max(32 * MiB, 2 ** Math.ceil(Math.log2(trace.peakLivePages * pageSize * 4)));
}

/**
 * Replays `trace` on a system's page face (anon-tagged, so every traced allocation is in the
 * descriptor table), calling `onSample` every `sampleEvery` page events.
 */
export function replayOnSystem(trace: LoadedTrace, system: MemorySystem, options: ReplayOptions = {}): ReplayReport {
  const replayer = new TraceReplayer(system.pages.source(3), options);
  for (const r of trace.records) replayer.apply(r);
  return replayer.report();
}

/** Remembers live allocations so a timed replay can give them all back and leave the system as it was. */
class Tracking implements PageAllocator {
  readonly live = new Map<number, number>();
  constructor(readonly inner: PageAllocator) {}
  allocPages(order: number): number {
    const pfn = this.inner.allocPages(order);
    if (pfn >= 0) this.live.set(pfn, order);
    return pfn;
  }
  freePages(pfn: number, order: number): void {
    this.live.delete(pfn);
    this.inner.freePages(pfn, order);
  }
  releaseAll(): void {
    for (const [pfn, order] of this.live) this.inner.freePages(pfn, order);
    this.live.clear();
  }
}

function replayLoop(records: TraceRecord[], sut: Tracking, ops: number): number {
  let sum = 0;
  for (let done = 0; done < ops; done += records.length) {
    const replayer = new TraceReplayer(sut);
    for (let i = 0; i < records.length; i++) replayer.apply(records[i]!);
    sum = (sum + replayer.report().livePagesAtEnd) | 0;
    sut.releaseAll();
  }
  return sum;
}

/**
 * The whole trace replayed per `run` (time it with `ops: trace.records.length`), on a system's
 * face; what it left live is freed after each replay. `def` null gives the replay floor: the same
 * replayer over per-order stacks that never fail.
 */
export function replayContender(trace: LoadedTrace, def: SystemDefinition | null, build: BuildOptions): Contender {
  return {
    name: def === null ? "replay on per-order stacks" : def.name,
    setup() {
      const sut = new Tracking(def === null ? stackAllocator() : buildSystem(def, build).pages.source(3));
      replayLoop(trace.records, sut, 1);
      return (ops) => replayLoop(trace.records, sut, ops);
    },
  };
}
