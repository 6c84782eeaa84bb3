import { MmkitError } from "@mmkit/physmem";

/**
 * Error codes of trace parsing and replay, beside `@mmkit/physmem`'s `ErrorCode`s.
 *
 * @example
 * ```ts
 * try { parser.line("x-1 [000] 1.0: mm_page_free: page=0 order=0"); }
 * catch (e) { if (e instanceof TraceError && e.code === TraceErrorCode.Malformed) console.log(e.line); }
 * ```
 */
export const TraceErrorCode = {
  /** A line of a known event that cannot be read: a missing field, a bad number, an unknown mmkit op. */
  Malformed: "ERR_TRACE_MALFORMED",
  /** The input ends mid-line or mid-stream (a cut file, a truncated gzip member). */
  Truncated: "ERR_TRACE_TRUNCATED",
  /** The input cannot be read as a trace at all: no such file, a directory, unreadable, empty, a terminal. */
  Input: "ERR_TRACE_INPUT",
  /** A line holds bytes that are not text (NUL, invalid UTF-8): a corrupted capture. */
  NotText: "ERR_TRACE_NOT_TEXT",
  /** The allocator under test misbehaved during replay (threw, or returned something that is not a pfn or -1). */
  Replay: "ERR_TRACE_REPLAY",
} as const;

/** One of {@link TraceErrorCode}'s values. */
export type TraceErrorCode = (typeof TraceErrorCode)[keyof typeof TraceErrorCode];

/** Longest excerpt of a line an error message quotes. */
const MAX_QUOTED = 160;

/** Quotes a line for a message: JSON-escaped, cut to a readable length. */
export function quoteLine(content: string): string {
  return JSON.stringify(content.length > MAX_QUOTED ? `${content.slice(0, MAX_QUOTED)}...` : content);
}

/**
 * A trace that cannot be read (or replayed) as written. `line` is the 1-based line number,
 * `content` the offending line (or "" when the problem is not one line's), and the message names
 * both: `line 7: mm_page_alloc has no pfn= field: "  cat-155 [001] ..."`.
 *
 * @example
 * ```ts
 * try { for (const r of parseTraceText(text)) use(r); }
 * catch (e) { if (e instanceof TraceError) console.error(e.message); } // line 7: ...
 * ```
 */
export class TraceError extends MmkitError {
  readonly line: number;
  readonly content: string;
  constructor(code: TraceErrorCode, line: number, reason: string, content: string, options?: { cause?: unknown }) {
    super(code, `line ${line}: ${reason}${content === "" ? "" : `: ${quoteLine(content)}`}`, options);
    this.line = line;
    this.content = content;
  }
}
