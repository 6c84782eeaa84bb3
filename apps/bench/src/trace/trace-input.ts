import { accessSync, closeSync, constants, openSync, readSync, statSync } from "node:fs";
import { Worker } from "node:worker_threads";
import { TraceError, TraceErrorCode } from "./errors.js";

/**
 * Where trace bytes come from: a file or standard input (`-`), plain or gzip (recognised by its
 * magic bytes 1f 8b, never by the name). Gzip is inflated in a worker thread so decompression
 * overlaps parsing; the worker sends 1 MiB chunks and stops when the reader holds
 * {@link MAX_CHUNKS_AHEAD} it has not consumed, so memory stays bounded for any length.
 */

/** Decompressed chunks the worker may send ahead of the reader. */
const MAX_CHUNKS_AHEAD = 4;
/** Compressed stdin chunks in flight to the worker before the reader waits. */
const MAX_RAW_AHEAD = 4;
const CHUNK_BYTES = 1 << 20;

/**
 * The name of standard input as a trace path.
 *
 * @example
 * ```ts
 * openTraceInput(STDIN_PATH).name; // "standard input"
 * ```
 */
export const STDIN_PATH = "-";

/** How an input ended, from {@link TraceInput.ending}. */
export interface TraceInputEnding {
  /** Bytes read from the file or stdin (compressed, for gzip). */
  bytesIn: number;
  /** Bytes of text produced (after inflating). */
  bytesOut: number;
  gzip: boolean;
  /** The gzip stream ended early (a cut file): the text produced is a prefix. */
  truncated: boolean;
  /** Seconds this thread spent making the text (a synthetic trace's generator); 0 for files and stdin. */
  sourceSeconds: number;
}

/** The trace text of one input, as chunks; see {@link openTraceInput}. */
export interface TraceInput {
  /** Name for messages: the path, or "standard input". */
  readonly name: string;
  /** The text in chunks; a chunk is valid until the next one is asked for (a file's chunks reuse one buffer). */
  chunks(): AsyncGenerator<Buffer, void, undefined>;
  /** Filled in once `chunks()` is done. */
  readonly ending: TraceInputEnding;
}

function inputError(name: string, reason: string): TraceError {
  const e = new TraceError(TraceErrorCode.Input, 0, reason, "");
  // The message names the input, not a line: "trace.txt: is a directory".
  Object.defineProperty(e, "message", { value: `${name}: ${reason}` });
  return e;
}

/** Checks a path before reading: it exists, is no directory, can be read, is not empty (regular files). */
function checkPath(path: string): boolean {
  let st;
  try {
    st = statSync(path);
  } catch (e) {
    const code = (e as { code?: string }).code;
    throw inputError(path, code === "ENOENT" ? "no such file" : `cannot be read (${code ?? String(e)})`);
  }
  if (st.isDirectory()) throw inputError(path, "is a directory, not a trace file");
  try {
    accessSync(path, constants.R_OK);
  } catch {
    throw inputError(path, "cannot be read (permission denied)");
  }
  if (st.isFile() && st.size === 0) throw inputError(path, "is empty");
  const fd = openSync(path, "r");
  try {
    const head = Buffer.alloc(2);
    return readSync(fd, head, 0, 2, 0) === 2 && head[0] === 0x1f && head[1] === 0x8b;
  } finally {
    closeSync(fd);
  }
}

/**
 * Checks that `path` (or `-`) can be read as a trace before anything runs: throws the
 * `ERR_TRACE_INPUT` error {@link openTraceInput} would (no such file, a directory, unreadable,
 * empty, standard input that is a terminal). Cost: a stat and a 2-byte read.
 *
 * @example
 * ```ts
 * checkTraceInput("/tmp"); // throws "/tmp: is a directory, not a trace file"
 * ```
 */
export function checkTraceInput(path: string, stdin: { isTTY?: boolean } = process.stdin): void {
  if (path === STDIN_PATH) {
    if (stdin.isTTY === true) throw inputError("standard input", STDIN_TTY);
    return;
  }
  checkPath(path);
}

const STDIN_TTY = "is a terminal; pipe a trace into it (trace-cmd report | pnpm bench --trace -)";

/**
 * Opens `path` (or `-` for standard input) as a {@link TraceInput}. Errors that need no reading
 * (no such file, a directory, unreadable, empty, stdin that is a terminal) throw here as
 * `TraceError` (`ERR_TRACE_INPUT`) naming the input; an empty stream throws from `chunks()`.
 *
 * @example
 * ```ts
 * const input = openTraceInput("trace.txt.gz");
 * for await (const chunk of input.chunks()) chunkParser.feed(chunk, batch);
 * input.ending.truncated; // true for a cut gzip file
 * ```
 */
export function openTraceInput(path: string, stdin: NodeJS.ReadStream = process.stdin): TraceInput {
  const ending: TraceInputEnding = { bytesIn: 0, bytesOut: 0, gzip: false, truncated: false, sourceSeconds: 0 };
  if (path === STDIN_PATH) {
    if (stdin.isTTY === true) throw inputError("standard input", STDIN_TTY);
    return { name: "standard input", ending, chunks: () => stdinChunks(stdin, ending) };
  }
  const gzip = checkPath(path);
  ending.gzip = gzip;
  return { name: path, ending, chunks: () => (gzip ? inflated({ path }, null, ending, path) : fileChunks(path, ending)) };
}

/**
 * A file in 1 MiB chunks, read synchronously into one reused buffer: on a parse thread a read
 * stream's round trip through libuv's thread pool and a fresh buffer per chunk (page faults on
 * every MiB) cost more than the read itself.
 */
async function* fileChunks(path: string, ending: TraceInputEnding): AsyncGenerator<Buffer, void, undefined> {
  const fd = openSync(path, "r");
  const buf = Buffer.allocUnsafeSlow(CHUNK_BYTES);
  try {
    for (;;) {
      const n = readSync(fd, buf, 0, buf.length, null);
      if (n === 0) return;
      ending.bytesIn += n;
      ending.bytesOut += n;
      yield buf.subarray(0, n);
    }
  } finally {
    closeSync(fd);
  }
}

async function* stdinChunks(stdin: NodeJS.ReadStream, ending: TraceInputEnding): AsyncGenerator<Buffer, void, undefined> {
  const it = stdin[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
  let first = await it.next();
  while (first.done !== true && first.value.length < 2) {
    const more = await it.next();
    if (more.done === true) break;
    first = { done: false, value: Buffer.concat([first.value, more.value]) };
  }
  if (first.done === true || first.value.length === 0) throw inputError("standard input", "is empty");
  const head = first.value;
  if (head[0] === 0x1f && head[1] === 0x8b) {
    ending.gzip = true;
    async function* raw(): AsyncGenerator<Buffer, void, undefined> {
      yield head;
      for (let n = await it.next(); n.done !== true; n = await it.next()) yield n.value;
    }
    yield* inflated({ path: null }, raw(), ending, "standard input");
    return;
  }
  ending.bytesIn += head.length;
  ending.bytesOut += head.length;
  yield head;
  for (let n = await it.next(); n.done !== true; n = await it.next()) {
    ending.bytesIn += n.value.length;
    ending.bytesOut += n.value.length;
    yield n.value;
  }
}

/** The worker: inflates a file it reads itself, or raw chunks sent to it, and sends 1 MiB chunks back on credit. */
const WORKER_SOURCE = `
const { parentPort, workerData } = require("node:worker_threads");
const fs = require("node:fs");
const zlib = require("node:zlib");
const gunzip = zlib.createGunzip({ chunkSize: ${CHUNK_BYTES} });
let credits = ${MAX_CHUNKS_AHEAD};
let paused = false;
let bytesIn = 0;
gunzip.on("data", (chunk) => {
  const copy = new Uint8Array(chunk.length);
  copy.set(chunk);
  parentPort.postMessage({ type: "data", chunk: copy.buffer }, [copy.buffer]);
  if (--credits <= 0 && !paused) { paused = true; gunzip.pause(); }
});
gunzip.on("end", () => parentPort.postMessage({ type: "end", bytesIn }));
gunzip.on("error", (e) => parentPort.postMessage({ type: "error", code: e.code ?? null, message: e.message, bytesIn }));
parentPort.on("message", (m) => {
  if (m.type === "ack") {
    credits++;
    if (paused && credits > 0) { paused = false; gunzip.resume(); }
  } else if (m.type === "raw") {
    const b = Buffer.from(m.chunk);
    bytesIn += b.length;
    gunzip.write(b, () => parentPort.postMessage({ type: "rawAck" }));
  } else if (m.type === "rawEnd") gunzip.end();
});
if (workerData.path !== null) {
  const file = fs.createReadStream(workerData.path, { highWaterMark: ${CHUNK_BYTES} });
  file.on("data", (b) => { bytesIn += b.length; });
  file.on("error", (e) => parentPort.postMessage({ type: "error", code: e.code ?? null, message: e.message, bytesIn }));
  file.pipe(gunzip);
}
`;

type WorkerMessage =
  | { type: "data"; chunk: ArrayBuffer }
  | { type: "end"; bytesIn: number }
  | { type: "error"; code: string | null; message: string; bytesIn: number }
  | { type: "rawAck" };

async function* inflated(source: { path: string | null }, raw: AsyncGenerator<Buffer> | null, ending: TraceInputEnding, name: string): AsyncGenerator<Buffer, void, undefined> {
  const worker = new Worker(WORKER_SOURCE, { eval: true, workerData: source });
  const queue: WorkerMessage[] = [];
  let wake: (() => void) | null = null;
  let rawInFlight = 0;
  let rawWake: (() => void) | null = null;
  let crashed: Error | null = null;
  worker.on("message", (m: WorkerMessage) => {
    if (m.type === "rawAck") {
      rawInFlight--;
      rawWake?.();
      return;
    }
    queue.push(m);
    wake?.();
  });
  worker.on("error", (e) => {
    crashed = e;
    wake?.();
  });
  const pump = async (): Promise<void> => {
    if (raw === null) return;
    for await (const chunk of raw) {
      const copy = new Uint8Array(chunk.length);
      copy.set(chunk);
      rawInFlight++;
      worker.postMessage({ type: "raw", chunk: copy.buffer }, [copy.buffer]);
      while (rawInFlight >= MAX_RAW_AHEAD) await new Promise<void>((r) => (rawWake = r));
    }
    worker.postMessage({ type: "rawEnd" });
  };
  const pumping = pump();
  try {
    for (;;) {
      while (queue.length === 0 && crashed === null) await new Promise<void>((r) => (wake = r));
      if (crashed !== null) throw crashed;
      const m = queue.shift()!;
      if (m.type === "data") {
        const chunk = Buffer.from(m.chunk);
        ending.bytesOut += chunk.length;
        yield chunk;
        worker.postMessage({ type: "ack" });
        continue;
      }
      if (m.type === "end") {
        ending.bytesIn = m.bytesIn;
        if (ending.bytesOut === 0) throw inputError(name, "is empty (a gzip stream of no text)");
        return;
      }
      if (m.type === "error") {
        ending.bytesIn = m.bytesIn;
        if (m.code === "Z_BUF_ERROR" || /unexpected end of file/i.test(m.message)) {
          ending.truncated = true;
          return;
        }
        throw inputError(name, `is not a readable gzip stream (${m.message})`);
      }
    }
  } finally {
    await worker.terminate();
    await pumping.catch(() => undefined);
  }
}

/** Trace text made in memory (a generator), streamed like a file: see `SyntheticTrace`. */
export interface TraceChunkSource {
  name: string;
  chunks(): Iterable<Buffer> | AsyncIterable<Buffer>;
  /** When set, the same text as a `SyntheticTrace` with these options: a parse thread can make it itself. */
  synth?: { events: number; cpus: number; seed: number };
}

/**
 * A {@link TraceChunkSource} as a {@link TraceInput}; time spent making the text is kept in
 * `ending.sourceSeconds`. O(1) per chunk.
 *
 * @example
 * ```ts
 * const input = chunkSourceInput({ name: "synth", chunks: () => new SyntheticTrace({ events: 1000 }).chunks() });
 * ```
 */
export function chunkSourceInput(source: TraceChunkSource): TraceInput {
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
