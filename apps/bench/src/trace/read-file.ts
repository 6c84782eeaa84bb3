import { closeSync, openSync, readFileSync, readSync, statSync } from "node:fs";
import { gunzipSync } from "node:zlib";
import { ChunkParser } from "./chunk-parser.js";
import { TraceEventBatch } from "./event-batch.js";
import { parseOnThread } from "./parse-thread.js";
import { STDIN_PATH, checkTraceInput, chunkSourceInput, openTraceInput, type TraceChunkSource, type TraceInput, type TraceInputEnding } from "./trace-input.js";
import type { TraceRecord } from "./events.js";
import type { PageAllocator } from "./page-allocator.js";
import { type TraceParseSummary, type TraceParserOptions } from "./parser.js";
import { TraceReplayer, type ReplayOptions, type ReplayReport } from "./replay.js";

/**
 * Reading trace files from disk (Node only; the parser itself is I/O-free). Gzip is recognised by
 * its magic bytes (1f 8b), not by the file name, and decompressed as a stream.
 */

/**
 * True when the file starts with the gzip magic bytes. Cost: one 2-byte read.
 *
 * @example
 * ```ts
 * isGzipFile("fixtures/traces/linux-6.1-small/trace.txt.gz"); // true
 * ```
 */
export function isGzipFile(path: string): boolean {
  const fd = openSync(path, "r");
  try {
    const head = Buffer.alloc(2);
    return readSync(fd, head, 0, 2, 0) === 2 && head[0] === 0x1f && head[1] === 0x8b;
  } finally {
    closeSync(fd);
  }
}

/**
 * The whole text of a trace file, gunzipped when it is gzip. For small files and tests; use
 * {@link parseTraceFile} to stream large ones.
 *
 * @example
 * ```ts
 * const text = readTraceText("trace.txt.gz");
 * for (const r of parseTraceText(text)) use(r);
 * ```
 */
export function readTraceText(path: string): string {
  const bytes = readFileSync(path);
  const plain = bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b ? gunzipSync(bytes) : bytes;
  return plain.toString("utf8");
}

/** Events per batch handed on while streaming: bounds the memory between parser and replay. */
const BATCH_EVENTS = 1 << 15;

export type { TraceChunkSource } from "./trace-input.js";

/** What {@link streamTraceBatches} read: the parse summary and how the input ended. */
export interface TraceStreamResult {
  parse: TraceParseSummary;
  input: TraceInputEnding;
  /** Wall-clock seconds from the first byte to the last event handed on (read, inflate, parse and `onBatch`). */
  seconds: number;
  /**
   * Seconds of reading and parsing alone: on a parse thread, the time it was busy (not waiting for
   * `onBatch`); in this thread, `seconds` less the time in `onBatch` and in a generator.
   */
  parseSeconds: number;
  /** True when a parse thread did the reading and parsing, overlapping `onBatch`. */
  threaded: boolean;
  /** CPU seconds the parse thread spent reading and parsing (10 ms ticks; NaN in this thread, and off Linux). */
  parseCpuSeconds: number;
  /** The first `keepText` bytes of the text (empty unless asked for). */
  text: Buffer;
}

/** Where the parsing runs: `auto` (a parse thread for large files), `thread`, or `inline` (this thread). */
export type TraceParseThreading = "auto" | "thread" | "inline";

/** Inputs at least this large (text, or gzip that inflates to about this much) are parsed on a parse thread under `auto`. */
export const THREAD_MIN_BYTES = 16 << 20;

/** Options of {@link streamTraceBatches}. */
export interface TraceStreamOptions extends TraceParserOptions {
  /** Called after every chunk (or batch on a parse thread): bytes of text read so far, lines parsed, events parsed. */
  onProgress?: (bytesIn: number, lines: number, events: number) => void;
  /** Keep the first this many bytes of text in the result's `text` (default 0). */
  keepText?: number;
  stdin?: NodeJS.ReadStream;
  /** Default `auto`: a parse thread for a file of {@link THREAD_MIN_BYTES} or more (gzip: an eighth of it); `thread` also takes a synthetic trace that has `synth`. */
  threading?: TraceParseThreading;
}

function threadWorthy(path: string | TraceChunkSource, threading: TraceParseThreading): boolean {
  if (threading === "inline") return false;
  // A synthetic trace stays here under auto: its generator is slower than the parser, so on the parse thread it would set the pace.
  if (typeof path !== "string") return path.synth !== undefined && threading === "thread";
  if (path === STDIN_PATH) return false;
  if (threading === "thread") return true;
  const size = statSync(path).size;
  return isGzipFile(path) ? size * 8 >= THREAD_MIN_BYTES : size >= THREAD_MIN_BYTES;
}

/**
 * Streams a trace (a path, or `-` for standard input; plain or gzip by magic bytes, gzip inflated in a
 * worker thread) through a {@link ChunkParser}, handing each batch of events to `onBatch` (the
 * batch is reused: read it, do not keep it). Nothing holds the trace: memory is O(chunk + batch).
 * A cut gzip stream is `ERR_TRACE_TRUNCATED` ("gzip data ends after line N"), or, with `lenient`,
 * `summary.truncated`.
 *
 * A large file is read and parsed on a parse thread while `onBatch` runs
 * here (see {@link TraceStreamOptions.threading}): for a gzip file the chain is inflate worker ->
 * parse thread -> this thread. The events, counts and errors are the same either way.
 *
 * Cost: O(input bytes); ~30 bytes per event in the batch between calls (four batches in flight
 * with a parse thread).
 *
 * @example
 * ```ts
 * const { parse } = await streamTraceBatches("trace.txt.gz", (batch) => { for (let i = 0; i < batch.length; i++) count[batch.kind[i]]++; });
 * ```
 */
export async function streamTraceBatches(path: string | TraceChunkSource, onBatch: (batch: TraceEventBatch) => void, options: TraceStreamOptions = {}): Promise<TraceStreamResult> {
  const { onProgress, keepText = 0, stdin, threading = "auto", ...parserOptions } = options;
  const kept: Buffer[] = [];
  let keptBytes = 0;
  const keep = (chunk: Buffer): void => {
    if (keptBytes >= keepText) return;
    const part = Buffer.from(chunk.subarray(0, keepText - keptBytes));
    kept.push(part);
    keptBytes += part.length;
  };
  const started = performance.now();
  if (typeof path === "string" && path !== STDIN_PATH) checkTraceInput(path);
  if (threadWorthy(path, threading)) {
    const source = typeof path === "string" ? { path } : { synth: { name: path.name, ...path.synth! } };
    const done = await parseOnThread({ source, parser: parserOptions, keepText }, onBatch, keep, onProgress);
    return { parse: done.summary, input: done.ending, seconds: (performance.now() - started) / 1000, parseSeconds: done.busySeconds, parseCpuSeconds: done.cpuSeconds, threaded: true, text: Buffer.concat(kept) };
  }
  const input: TraceInput = typeof path === "string" ? openTraceInput(path, stdin) : chunkSourceInput(path);
  const chunks = new ChunkParser(parserOptions);
  const batch = new TraceEventBatch(BATCH_EVENTS);
  let consuming = 0;
  const flush = (): void => {
    if (batch.length === 0) return;
    const t0 = performance.now();
    onBatch(batch);
    consuming += performance.now() - t0;
    batch.clear();
  };
  for await (const chunk of input.chunks()) {
    if (keepText > 0) keep(chunk);
    chunks.feed(chunk, batch);
    flush();
    onProgress?.(input.ending.bytesOut, chunks.parser.lineNumber, chunks.parser.recordCount);
  }
  if (input.ending.truncated) chunks.parser.streamTruncated("gzip data ends");
  else chunks.end(batch);
  flush();
  const seconds = (performance.now() - started) / 1000;
  return { parse: chunks.summary(), input: input.ending, seconds, parseSeconds: seconds - consuming / 1000 - input.ending.sourceSeconds, parseCpuSeconds: Number.NaN, threaded: false, text: Buffer.concat(kept) };
}

/**
 * Streams a trace file (plain or gzip) through a {@link TraceParser}, calling `onRecord` for each
 * record, and resolves to the parse summary. A last line without a newline, or a gzip stream cut
 * short, is `ERR_TRACE_TRUNCATED` naming the line (or, with `lenient`, counted in the summary).
 * Records are made for the callback only; {@link streamTraceBatches} is the object-free way.
 *
 * Cost: O(file size); memory O(chunk + longest line).
 *
 * @example
 * ```ts
 * const counts = new Array(11).fill(0);
 * const summary = await parseTraceFile("trace.txt.gz", (r) => { if (r.kind === TraceEventKind.Alloc) counts[r.order]++; });
 * ```
 */
export async function parseTraceFile(path: string, onRecord: (record: TraceRecord) => void, options: TraceParserOptions = {}): Promise<TraceParseSummary> {
  const { parse } = await streamTraceBatches(path, (batch) => {
    for (let i = 0; i < batch.length; i++) onRecord(batch.record(i));
  }, options);
  return parse;
}

/**
 * Streams a trace file straight into a {@link TraceReplayer} on `allocator`, and resolves to the
 * parse summary and the replay report.
 *
 * @example
 * ```ts
 * const { replay } = await replayTraceFile("trace.txt.gz", buddy, { replay: { sampleEvery: 500, onSample } });
 * replay.peakLivePages;
 * ```
 */
export async function replayTraceFile(
  path: string,
  allocator: PageAllocator,
  options: { parse?: TraceParserOptions; replay?: ReplayOptions } = {},
): Promise<{ parse: TraceParseSummary; replay: ReplayReport }> {
  const replayer = new TraceReplayer(allocator, options.replay);
  const parse = await parseTraceFile(path, (r) => replayer.apply(r), options.parse);
  return { parse, replay: replayer.report() };
}
