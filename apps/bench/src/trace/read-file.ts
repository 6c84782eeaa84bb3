import { closeSync, openSync, readFileSync, readSync } from "node:fs";
import { gunzipSync } from "node:zlib";
import { ChunkParser } from "./chunk-parser.js";
import { TraceEventBatch } from "./event-batch.js";
import { openTraceInput, type TraceInput, type TraceInputEnding } from "./trace-input.js";
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

/** Trace text made in memory (a generator), streamed like a file: see `SyntheticTrace`. */
export interface TraceChunkSource {
  name: string;
  chunks(): Iterable<Buffer> | AsyncIterable<Buffer>;
}

function sourceInput(source: TraceChunkSource): TraceInput {
  const ending: TraceInputEnding = { bytesIn: 0, bytesOut: 0, gzip: false, truncated: false, sourceSeconds: 0 };
  return {
    name: source.name,
    ending,
    async *chunks() {
      // Time spent making the text (a generator runs in this thread) is kept apart from parsing.
      const it = source.chunks();
      const iterator = Symbol.asyncIterator in it ? it[Symbol.asyncIterator]() : it[Symbol.iterator]();
      for (;;) {
        const t0 = performance.now();
        const next = await iterator.next();
        ending.sourceSeconds += (performance.now() - t0) / 1000;
        if (next.done === true) return;
        const chunk = next.value as Buffer;
        ending.bytesIn += chunk.length;
        ending.bytesOut += chunk.length;
        yield chunk;
      }
    },
  };
}

/** What {@link streamTraceBatches} read: the parse summary and how the input ended. */
export interface TraceStreamResult {
  parse: TraceParseSummary;
  input: TraceInputEnding;
  /** Wall-clock seconds from the first byte to the last event handed on (read, inflate, parse and `onBatch`). */
  seconds: number;
}

/**
 * Streams a trace (a path, or `-` for standard input; plain or gzip by magic bytes, gzip inflated in a
 * worker thread) through a {@link ChunkParser}, handing each batch of events to `onBatch` (the
 * batch is reused: read it, do not keep it). Nothing holds the trace: memory is O(chunk + batch).
 * A cut gzip stream is `ERR_TRACE_TRUNCATED` ("gzip data ends after line N"), or, with `lenient`,
 * `summary.truncated`.
 *
 * Cost: O(input bytes); ~30 bytes per event in the batch between calls.
 *
 * @example
 * ```ts
 * const { parse } = await streamTraceBatches("trace.txt.gz", (batch) => { for (let i = 0; i < batch.length; i++) count[batch.kind[i]]++; });
 * ```
 */
export async function streamTraceBatches(
  path: string | TraceChunkSource,
  onBatch: (batch: TraceEventBatch) => void,
  options: TraceParserOptions & { onProgress?: (bytesIn: number, lines: number, events: number) => void; onChunk?: (text: Buffer) => void; stdin?: NodeJS.ReadStream } = {},
): Promise<TraceStreamResult> {
  const { onProgress, onChunk, stdin, ...parserOptions } = options;
  const input: TraceInput = typeof path === "string" ? openTraceInput(path, stdin) : sourceInput(path);
  const chunks = new ChunkParser(parserOptions);
  const batch = new TraceEventBatch(BATCH_EVENTS);
  const started = performance.now();
  const flush = (): void => {
    if (batch.length === 0) return;
    onBatch(batch);
    batch.clear();
  };
  for await (const chunk of input.chunks()) {
    onChunk?.(chunk);
    chunks.feed(chunk, batch);
    flush();
    onProgress?.(input.ending.bytesOut, chunks.parser.lineNumber, chunks.parser.recordCount);
  }
  if (input.ending.truncated) chunks.parser.streamTruncated("gzip data ends");
  else chunks.end(batch);
  flush();
  return { parse: chunks.summary(), input: input.ending, seconds: (performance.now() - started) / 1000 };
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
