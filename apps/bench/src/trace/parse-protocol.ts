import type { TraceInputEnding } from "./trace-input.js";
import type { TraceParseSummary, TraceParserOptions } from "./parser.js";

/**
 * The messages between the main thread and a trace parse thread (`parse-worker.ts`), and how an
 * error crosses between them. The parse thread reads (and, for gzip, has its own worker inflate)
 * the input, parses it into event batches and posts their columns; the main thread replays them
 * and gives the columns back for reuse. At most {@link BATCHES_AHEAD} batches are in flight, so
 * memory stays bounded for any length.
 */

/** Batches the parse thread may post before the main thread has given one back. */
export const BATCHES_AHEAD = 4;

/** What a parse thread reads: a file (plain or gzip), or a synthetic trace it makes itself. */
export type ParseJobSource = { path: string } | { synth: { name: string; events: number; cpus: number; seed: number } };

/** A job for a parse thread. */
export interface ParseJob {
  source: ParseJobSource;
  parser: TraceParserOptions;
  /** Bytes of text, from the start, to send back as they are (whole chunks cut at this length). */
  keepText: number;
}

/** Main thread to parse thread. */
export type ToParseThread = { type: "job"; job: ParseJob } | { type: "ack"; columns: ArrayBuffer[] };

/** An error as it crosses threads: enough to make the same `TraceError`/`MmkitError` again. */
export interface SentError {
  kind: "trace" | "mmkit" | "error";
  code: string;
  message: string;
  line: number;
  content: string;
  stack: string;
}

/** Parse thread to main thread. */
export type FromParseThread =
  | { type: "batch"; columns: ArrayBuffer[]; length: number; texts: string[]; bytes: number; lines: number; events: number }
  | { type: "text"; chunk: ArrayBuffer }
  | { type: "end"; summary: TraceParseSummary; ending: TraceInputEnding; busySeconds: number; cpuSeconds: number }
  | { type: "error"; error: SentError };
