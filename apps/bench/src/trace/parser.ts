import { ErrorCode, MmkitError, describeValue, isPowerOfTwo } from "@mmkit/physmem";
import { TRACE_EVENT_KIND_NAMES, TraceEventKind, type TraceEventKindName, type TraceRecord } from "./events.js";
import { TraceError, TraceErrorCode } from "./errors.js";
import { KernelLineClass, parseKernelLine } from "./kernel-line.js";
import { IdTable, parseMmkitLine } from "./mmkit-line.js";

/** The two families of trace text: what the kernel's tracers print, and mmkit's own line format. */
export type TraceFormat = "kernel" | "mmkit";

/** Options of {@link TraceParser}. */
export interface TraceParserOptions {
  /**
   * `"auto"` (default): the first line that is neither blank nor a `#` comment decides: a line
   * starting with `alloc`, `free`, `phase` or `mark` and a blank means mmkit's format, anything
   * else a kernel trace.
   */
  format?: "auto" | TraceFormat;
  /** Count and skip malformed or cut lines instead of throwing (default false: the first one throws). */
  lenient?: boolean;
  /** Page size for mmkit `alloc <id> size=<bytes>` (default 4096; a power of two). */
  pageSize?: number;
  /** How many problems (malformed lines, first unrecognized lines) the summary keeps (default 20). */
  maxProblems?: number;
}

/** A line the parser could not use, as kept in {@link TraceParseSummary.problems}. */
export interface TraceProblem {
  line: number;
  /** `ERR_TRACE_MALFORMED`, `ERR_TRACE_TRUNCATED`, or `"unrecognized"` for a line that is no event. */
  code: string;
  message: string;
}

/** What a parser saw, from {@link TraceParser.summary}. */
export interface TraceParseSummary {
  /** The format in use, or null when no line decided it yet. */
  format: TraceFormat | null;
  /** Lines read (the line number of the last one). */
  lines: number;
  /** Records produced (event lines). */
  records: number;
  /** Event records by kind (a `Lost` record counts once here; {@link lostEvents} counts what it stands for). */
  events: Record<TraceEventKindName, number>;
  /** Events the parser does not know, by name (`sched_switch`: 3). */
  unknownEvents: Record<string, number>;
  /** Non-comment lines that are no event and no known header (function-graph call lines, stray text). */
  unrecognizedLines: number;
  /** Malformed or cut lines skipped (lenient mode only; strict mode throws on the first). */
  malformedLines: number;
  /** The first `maxProblems` malformed and unrecognized lines. */
  problems: TraceProblem[];
  /** Events the ring buffer reported lost (`CPU:n [LOST k EVENTS]`). */
  lostEvents: number;
  /** Events overwritten before the capture was read (ftrace header `entries-in-buffer/entries-written: a/b` gives b - a). */
  overwrittenEvents: number;
  /** True when the input ended mid-line (or mid-stream) and lenient mode skipped the rest. */
  truncated: boolean;
  /** Lines holding bytes that are not text (NUL, invalid UTF-8), skipped (lenient mode only; strict mode throws). */
  nonTextLines: number;
  /** CPUs of the traced machine as the header states them (ftrace `#P:2`, trace-cmd `cpus=2`), or null. */
  cpus: number | null;
}

const MMKIT_FIRST_LINE = /^(?:alloc|free|phase|mark)\s/;
const ENTRIES_HEADER = /entries-in-buffer\/entries-written:\s*(\d+)\/(\d+)/;
/** ftrace's header names the CPU count as `#P:2`; trace-cmd report prints `cpus=2` on a line of its own. */
const FTRACE_CPUS = /#P:(\d+)/;
const TRACE_CMD_CPUS = /^\s*cpus=(\d+)\s*$/;

/**
 * A streaming parser of page-allocator traces: feed it lines, get {@link TraceRecord}s back. It
 * is a pure function of the lines (no I/O), so it streams (a file reader feeds it chunk by chunk)
 * and tests feed it strings. See `parseKernelLine` for the kernel layouts it reads and
 * `parseMmkitLine` for mmkit's format; TRACES.md has the support matrix.
 *
 * Strict by default: a malformed or cut line of a known event throws {@link TraceError} naming
 * the line number and content. With `lenient: true` such lines are counted, the first few kept
 * in `summary().problems`, and skipped. Unknown events are never errors: they become `Unknown`
 * records and are counted by name.
 *
 * Cost: O(line length) per line; one small record per event; O(live ids) memory for mmkit
 * traces, O(distinct unknown event names) otherwise.
 *
 * @example
 * ```ts
 * const parser = new TraceParser();
 * parser.line("# tracer: nop");                                          // null
 * parser.line("cat-155 [001] ..... 3.031357: mm_page_free: page=00000000c8ea8e30 pfn=0x1bac order=1");
 * // { kind: TraceEventKind.Free, line: 2, pfn: 7084, id: -1, order: 1, count: 1, text: "" }
 * parser.summary().events.free;                                          // 1
 * ```
 */
export class TraceParser {
  readonly #lenient: boolean;
  readonly #pageSize: number;
  readonly #maxProblems: number;
  readonly #ids = new IdTable();
  #format: TraceFormat | null;
  #line = 0;
  #records = 0;
  readonly #events: number[] = TRACE_EVENT_KIND_NAMES.map(() => 0);
  readonly #unknown = new Map<string, number>();
  #unrecognized = 0;
  #malformed = 0;
  readonly #problems: TraceProblem[] = [];
  #lost = 0;
  #overwritten = 0;
  #truncated = false;
  #nonText = 0;
  #cpus: number | null = null;

  constructor(options: TraceParserOptions = {}) {
    const { format = "auto", lenient = false, pageSize = 4096, maxProblems = 20 } = options;
    if (format !== "auto" && format !== "kernel" && format !== "mmkit") {
      throw new MmkitError(ErrorCode.InvalidArgument, `format must be "auto", "kernel" or "mmkit", got ${describeValue(format)}`);
    }
    if (typeof lenient !== "boolean") throw new MmkitError(ErrorCode.InvalidArgument, `lenient must be a boolean, got ${describeValue(lenient)}`);
    if (!isPowerOfTwo(pageSize)) throw new MmkitError(ErrorCode.InvalidArgument, `pageSize must be a power of two, got ${describeValue(pageSize)}`);
    if (!Number.isSafeInteger(maxProblems) || maxProblems < 0) {
      throw new MmkitError(ErrorCode.InvalidArgument, `maxProblems must be a non-negative integer, got ${describeValue(maxProblems)}`);
    }
    this.#format = format === "auto" ? null : format;
    this.#lenient = lenient;
    this.#pageSize = pageSize;
    this.#maxProblems = maxProblems;
  }

  /** The format in use, or null until a line decides it. */
  get format(): TraceFormat | null {
    return this.#format;
  }

  /** Records produced so far (event lines). */
  get recordCount(): number {
    return this.#records;
  }

  /** Number of the last line read (1-based; 0 before the first). */
  get lineNumber(): number {
    return this.#line;
  }

  /**
   * Reads the next line (without its `\n`; a trailing `\r` is ignored). Returns its record, or
   * null for a line that is no event. Pass `complete = false` for a last line that had no
   * newline: in a kernel trace that means the file was cut, so a non-blank one is an error
   * (`ERR_TRACE_TRUNCATED`) or, when lenient, skipped and counted.
   *
   * Cost: O(line length).
   *
   * @example
   * ```ts
   * parser.line("alloc a order=0"); // { kind: TraceEventKind.Alloc, ..., id: 0, order: 0 }
   * ```
   */
  line(text: string, complete = true): TraceRecord | null {
    const lineNo = ++this.#line;
    if (text.length > 0 && text.charCodeAt(text.length - 1) === 13) text = text.slice(0, -1);
    const first = firstNonBlank(text);
    if (first === -1) return null;
    if (text.charCodeAt(first) === 35 /* # */) {
      const entries = ENTRIES_HEADER.exec(text);
      if (entries !== null) this.#overwritten += Math.max(0, Number(entries[2]) - Number(entries[1]));
      const cpus = FTRACE_CPUS.exec(text);
      if (cpus !== null) this.#cpus = Number(cpus[1]);
      return null;
    }
    if (this.#cpus === null && this.#line < 64) {
      const cpus = TRACE_CMD_CPUS.exec(text);
      if (cpus !== null) this.#cpus = Number(cpus[1]);
    }
    if (this.#format === null) this.#format = MMKIT_FIRST_LINE.test(text.slice(first)) ? "mmkit" : "kernel";
    try {
      if (this.#format === "mmkit") {
        const r = parseMmkitLine(text, lineNo, this.#ids, this.#pageSize);
        if (r !== null) this.#count(r);
        return r;
      }
      if (!complete) throw new TraceError(TraceErrorCode.Truncated, lineNo, "the input ends mid-line (cut file?)", text);
      const r = parseKernelLine(text, lineNo);
      if (typeof r === "number") {
        if (r === KernelLineClass.Unrecognized) {
          this.#unrecognized++;
          this.#problem({ line: lineNo, code: "unrecognized", message: `line ${lineNo}: not an event line` });
        }
        return null;
      }
      this.#count(r);
      return r;
    } catch (e) {
      if (!this.#lenient || !(e instanceof TraceError)) throw e;
      this.#malformed++;
      if (e.code === TraceErrorCode.Truncated && !complete) this.#truncated = true;
      this.#problem({ line: lineNo, code: e.code, message: e.message });
      return null;
    }
  }

  /**
   * Counts one event line read by a faster reader (the byte-level fast path of `ChunkParser`) that
   * produced a record of `kind` without calling {@link line}; returns its line number. O(1).
   *
   * @example
   * ```ts
   * const lineNo = parser.countFastEvent(TraceEventKind.Free);
   * ```
   */
  countFastEvent(kind: TraceEventKind): number {
    this.#records++;
    this.#events[kind]!++;
    return ++this.#line;
  }

  /**
   * Notes a line holding bytes that are not text: strict parsers throw `ERR_TRACE_NOT_TEXT` naming
   * it, lenient ones count and skip it. `column` is the 1-based byte column of the first bad byte.
   *
   * @example
   * ```ts
   * parser.nonTextLine("cat-155 [001] 1.0: mm_page_free: page=\u0000", 39);
   * ```
   */
  nonTextLine(text: string, column: number, reason = `bytes that are not text (column ${column})`): void {
    const lineNo = ++this.#line;
    const e = new TraceError(TraceErrorCode.NotText, lineNo, reason, text);
    if (!this.#lenient) throw e;
    this.#nonText++;
    this.#problem({ line: lineNo, code: e.code, message: e.message });
  }

  /**
   * Notes that the input stream itself was cut (a truncated gzip member): lenient parsers record
   * it in the summary; strict ones throw `ERR_TRACE_TRUNCATED` naming the last line read.
   *
   * @example
   * ```ts
   * gunzip.on("error", () => parser.streamTruncated("gzip data ends")); // "line 9: gzip data ends after line 9"
   * ```
   */
  streamTruncated(reason: string): void {
    const e = new TraceError(TraceErrorCode.Truncated, this.#line, `${reason} after line ${this.#line}`, "");
    if (!this.#lenient) throw e;
    this.#truncated = true;
    this.#problem({ line: this.#line, code: e.code, message: e.message });
  }

  /**
   * What the parser has seen so far (a fresh object each call).
   *
   * @example
   * ```ts
   * const { events, unknownEvents } = parser.summary(); // events.alloc, unknownEvents.sched_switch
   * ```
   */
  summary(): TraceParseSummary {
    const events = {} as Record<TraceEventKindName, number>;
    TRACE_EVENT_KIND_NAMES.forEach((name, kind) => (events[name] = this.#events[kind]!));
    return {
      format: this.#format,
      lines: this.#line,
      records: this.#records,
      events,
      unknownEvents: Object.fromEntries(this.#unknown),
      unrecognizedLines: this.#unrecognized,
      malformedLines: this.#malformed,
      problems: this.#problems.slice(),
      lostEvents: this.#lost,
      overwrittenEvents: this.#overwritten,
      truncated: this.#truncated,
      nonTextLines: this.#nonText,
      cpus: this.#cpus,
    };
  }

  #count(r: TraceRecord): void {
    this.#records++;
    this.#events[r.kind]!++;
    if (r.kind === TraceEventKind.Unknown) this.#unknown.set(r.text, (this.#unknown.get(r.text) ?? 0) + 1);
    else if (r.kind === TraceEventKind.Lost) this.#lost += r.count;
  }

  #problem(p: TraceProblem): void {
    if (this.#problems.length < this.#maxProblems) this.#problems.push(p);
  }
}

function firstNonBlank(text: string): number {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c !== 32 && c !== 9) return i;
  }
  return -1;
}

/**
 * Parses lines (an array, a generator, anything iterable) into records, lazily. The generator's
 * return value is the parser's summary. Every line is taken as complete (newline-terminated);
 * use {@link parseTraceText} for text that may end mid-line.
 *
 * Cost: that of {@link TraceParser.line} per line.
 *
 * @example
 * ```ts
 * for (const r of parseTraceLines(["alloc a order=1", "free a"])) console.log(r.kind); // 0, then 2
 * ```
 */
export function* parseTraceLines(lines: Iterable<string>, options: TraceParserOptions = {}): Generator<TraceRecord, TraceParseSummary, undefined> {
  const parser = new TraceParser(options);
  for (const text of lines) {
    const r = parser.line(text);
    if (r !== null) yield r;
  }
  return parser.summary();
}

/**
 * Parses a whole trace held in a string, lazily, without splitting it into an array first. A last
 * line without a newline is passed as incomplete (see {@link TraceParser.line}). The generator's
 * return value is the summary.
 *
 * Cost: O(text length); one record per event.
 *
 * @example
 * ```ts
 * const records = [...parseTraceText("phase a\nalloc x order=0\nfree x\n")]; // 3 records
 * ```
 */
export function* parseTraceText(text: string, options: TraceParserOptions = {}): Generator<TraceRecord, TraceParseSummary, undefined> {
  const parser = new TraceParser(options);
  let start = 0;
  while (start < text.length) {
    const nl = text.indexOf("\n", start);
    const end = nl === -1 ? text.length : nl;
    const r = parser.line(text.slice(start, end), nl !== -1);
    if (r !== null) yield r;
    start = end + 1;
  }
  return parser.summary();
}
