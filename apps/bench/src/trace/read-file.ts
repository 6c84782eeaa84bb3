import { closeSync, createReadStream, openSync, readFileSync, readSync } from "node:fs";
import { StringDecoder } from "node:string_decoder";
import { createGunzip, gunzipSync } from "node:zlib";
import type { TraceRecord } from "./events.js";
import type { PageAllocator } from "./page-allocator.js";
import { TraceParser, type TraceParseSummary, type TraceParserOptions } from "./parser.js";
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

function isTruncatedGzip(e: unknown): boolean {
  const err = e as { code?: string; message?: string } | null;
  return err?.code === "Z_BUF_ERROR" || /unexpected end of file/i.test(err?.message ?? "");
}

/**
 * Streams a trace file (plain or gzip) through a {@link TraceParser}, calling `onRecord` for each
 * record, and resolves to the parse summary. Lines are parsed synchronously chunk by chunk (no
 * promise per line). A last line without a newline, or a gzip stream cut short, is
 * `ERR_TRACE_TRUNCATED` naming the line (or, with `lenient`, counted in the summary).
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
  const parser = new TraceParser(options);
  const gzip = isGzipFile(path);
  const file = createReadStream(path, { highWaterMark: 1 << 16 });
  const stream = gzip ? file.pipe(createGunzip()) : file;
  if (gzip) file.on("error", (e) => stream.destroy(e));
  const decoder = new StringDecoder("utf8");
  let pending = "";
  const feed = (text: string): void => {
    let start = 0;
    for (let nl = text.indexOf("\n"); nl !== -1; nl = text.indexOf("\n", start)) {
      const r = parser.line(text.slice(start, nl));
      if (r !== null) onRecord(r);
      start = nl + 1;
    }
    pending = text.slice(start);
  };
  try {
    for await (const chunk of stream) feed(pending + decoder.write(chunk as Buffer));
  } catch (e) {
    if (!isTruncatedGzip(e)) throw e;
    if (pending !== "") {
      const r = parser.line(pending, false);
      if (r !== null) onRecord(r);
    }
    parser.streamTruncated("gzip data ends early");
    return parser.summary();
  } finally {
    if (!stream.destroyed) stream.destroy();
    if (gzip && !file.destroyed) file.destroy();
  }
  const rest = pending + decoder.end();
  if (rest !== "") {
    const r = parser.line(rest, false);
    if (r !== null) onRecord(r);
  }
  return parser.summary();
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
