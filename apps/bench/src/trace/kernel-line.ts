import { MAX_TRACE_ORDER, TraceEventKind, type TraceRecord } from "./events.js";
import { TraceError, TraceErrorCode } from "./errors.js";
import { NOT_A_NUMBER, TOO_LARGE, fieldValue, isAllOnesPfn, isNullPointer, parseTraceNumber } from "./fields.js";

/**
 * Reads one line of a kernel trace as ftrace (`trace`, `trace_pipe`), `trace-cmd report` and
 * `perf script` print it. The layouts differ only before the event name, so the line is split at
 * the event name (`mm_page_alloc:` or `kmem:mm_page_alloc:`), found after the timestamp when there
 * is one; the body after it is read as `key=value` fields by name, so column layouts (irq-info on
 * or off, TGID, CPU, perf's pid/tid), extra fields (`nr_free=`, `cold=`, `percpu_refill=`,
 * `cpu=`) and the era's number base (`pfn=7082` or `pfn=0x1baa`) do not matter.
 *
 * Layout of what it understands (one per line):
 * ```
 *   ftrace:        <comm>-<pid> [(<tgid>)] [<cpu>] [<irq-info>] <secs>: <event>: <fields>
 *   trace-cmd:     <comm>-<pid> [<cpu>] [<irq-info>] <secs>: <event>: <fields>
 *   perf script:   <comm> <pid>[/<tid>] [<cpu>] <secs>: [<period>] <subsys>:<event>: <fields>
 *   function graph: <cpu>) [<comm>-<pid>] <duration> |  /* <event>: <fields> *\/
 *   lost events:   CPU:<n> [LOST <k> EVENTS]
 * ```
 */

/** A timestamp column, `3.030646:` (or a raw counter, `123456:`), that ends a line's header. */
const TIMESTAMP = /(?:^|\s)\d+(?:\.\d+)?:(?=\s|$)/;
/** An event name token, with or without perf's `subsystem:` prefix, ending in `:` and a blank or line end. */
const EVENT_NAME = /(?:^|\s)((?:[A-Za-z_][\w-]*:)?[A-Za-z_]\w*):(?:\s+|$)/g;
/** `CPU:1 [LOST 123 EVENTS]`, printed by ftrace and trace-cmd where the ring buffer overflowed. */
const LOST = /CPU:?\s*(\d+)\s*\[LOST(?:\s+(\d+))?\s+EVENTS\]/;
/** Header lines of `trace-cmd report` and friends, which are not events. */
const HEADER = /^\s*(?:cpus=\d+|version = \S+|CPU\s*\d+ is empty|CPU\d+ data recorded at offset=.*|trace-cmd: .*)\s*$/;
/** Inside a function-graph comment: `<event>: <body>`. */
const COMMENT_EVENT = /^((?:[A-Za-z_][\w-]*:)?[A-Za-z_]\w*): ?(.*)$/s;
/** The events the parser knows (bare names, without `kmem:`). */
const KNOWN_EVENTS = new Set([
  "mm_page_alloc",
  "mm_page_free",
  "mm_page_free_direct",
  "mm_page_free_batched",
  "mm_pagevec_free",
  "mm_page_pcpu_drain",
  "mm_page_alloc_zone_locked",
  "mm_page_alloc_extfrag",
  "tracing_mark_write",
  "print",
]);

/** What a non-event line is, when {@link parseKernelLine} returns no record. */
export const KernelLineClass = {
  /** A known header (`cpus=2`, `version = 6`): nothing to count. */
  Header: 0,
  /** Not an event and not a known header (function-graph call lines, stray text): counted. */
  Unrecognized: 1,
} as const;

/** One of {@link KernelLineClass}'s values. */
export type KernelLineClass = (typeof KernelLineClass)[keyof typeof KernelLineClass];

function record(kind: TraceEventKind, line: number, pfn: number, order: number, count: number, text: string): TraceRecord {
  return { kind, line, pfn, id: -1, order, count, text };
}

function malformed(line: number, reason: string, content: string): TraceError {
  return new TraceError(TraceErrorCode.Malformed, line, reason, content);
}

function requiredNumber(event: string, body: string, key: string, line: number, content: string, max: number, known?: string): number {
  const text = known ?? fieldValue(body, key);
  if (text === undefined) throw malformed(line, `${event} has no ${key}= field`, content);
  const value = parseTraceNumber(text);
  if (value === NOT_A_NUMBER) throw malformed(line, `${event} ${key}=${JSON.stringify(text)} is not a number`, content);
  if (value === TOO_LARGE || value > max) throw malformed(line, `${event} ${key}=${text} is out of range (at most ${max})`, content);
  return value;
}

function requireField(event: string, body: string, key: string, line: number, content: string): void {
  // A field every era prints after the ones replay reads: its absence means the line was cut.
  if (fieldValue(body, key) === undefined) throw malformed(line, `${event} has no ${key}= field (cut line?)`, content);
}

/**
 * Turns one known or unknown event into a record. `name` is the bare event name, `body` what
 * follows `name:`. Throws {@link TraceError} for a known event whose fields cannot be read.
 */
function eventRecord(name: string, body: string, line: number, content: string): TraceRecord {
  const maxPfn = Number.MAX_SAFE_INTEGER;
  switch (name) {
    case "mm_page_alloc": {
      const page = fieldValue(body, "page");
      const pfnText = fieldValue(body, "pfn");
      const order = requiredNumber(name, body, "order", line, content, MAX_TRACE_ORDER);
      requireField(name, body, "gfp_flags", line, content);
      // A failed allocation prints page=(null) and pfn=0 (or -1UL in raw outputs).
      if ((page !== undefined && isNullPointer(page)) || (pfnText !== undefined && isAllOnesPfn(pfnText))) {
        return record(TraceEventKind.AllocFailed, line, -1, order, 1, "");
      }
      const pfn = requiredNumber(name, body, "pfn", line, content, maxPfn, pfnText);
      return record(TraceEventKind.Alloc, line, pfn, order, 1, "");
    }
    case "mm_page_free":
    case "mm_page_free_direct": {
      const pfn = requiredNumber(name, body, "pfn", line, content, maxPfn);
      const order = requiredNumber(name, body, "order", line, content, MAX_TRACE_ORDER);
      return record(TraceEventKind.Free, line, pfn, order, 1, "");
    }
    case "mm_page_free_batched":
    case "mm_pagevec_free": {
      const pfn = requiredNumber(name, body, "pfn", line, content, maxPfn);
      const order = fieldValue(body, "order") === undefined ? 0 : requiredNumber(name, body, "order", line, content, MAX_TRACE_ORDER);
      return record(TraceEventKind.FreeBatched, line, pfn, order, 1, "");
    }
    case "mm_page_pcpu_drain":
    case "mm_page_alloc_zone_locked": {
      const pfn = requiredNumber(name, body, "pfn", line, content, maxPfn);
      const order = requiredNumber(name, body, "order", line, content, MAX_TRACE_ORDER);
      requireField(name, body, "migratetype", line, content);
      return record(name === "mm_page_pcpu_drain" ? TraceEventKind.PcpuDrain : TraceEventKind.ZoneLocked, line, pfn, order, 1, "");
    }
    case "mm_page_alloc_extfrag": {
      const pfn = requiredNumber(name, body, "pfn", line, content, maxPfn);
      const order = requiredNumber(name, body, "alloc_order", line, content, MAX_TRACE_ORDER);
      requireField(name, body, "change_ownership", line, content);
      return record(TraceEventKind.ExtFrag, line, pfn, order, 1, "");
    }
    case "tracing_mark_write":
      return record(TraceEventKind.Marker, line, -1, -1, 1, body.trim());
    case "print": {
      // ftrace's print event is "%ps: %s": the caller (tracing_mark_write, or an address), then the text.
      const text = body.trim();
      const m = /^\S+: /.exec(text);
      return record(TraceEventKind.Marker, line, -1, -1, 1, m === null ? text : text.slice(m[0].length).trim());
    }
    default:
      return record(TraceEventKind.Unknown, line, -1, -1, 1, name);
  }
}

function bareName(token: string): string {
  const colon = token.lastIndexOf(":");
  return colon === -1 ? token : token.slice(colon + 1);
}

/** Reads a function-graph comment, `/* <event>: <fields> *\/` or `/* <marker text> *\/`. */
function commentRecord(text: string, open: number, line: number): TraceRecord {
  const close = text.lastIndexOf("*/");
  if (close < open + 2) {
    throw new TraceError(TraceErrorCode.Truncated, line, "function-graph comment is not closed (cut line?)", text);
  }
  const inner = text.slice(open + 2, close).trim();
  const m = COMMENT_EVENT.exec(inner);
  if (m !== null) {
    const name = bareName(m[1]!);
    const body = m[2]!;
    // A known event, or something shaped like an event (`name: key=value ...`); anything else is marker text.
    if (KNOWN_EVENTS.has(name) ? name !== "print" : /^[a-z_][a-z0-9_]*$/.test(name) && body.includes("=")) {
      return eventRecord(name, body, line, text);
    }
  }
  return record(TraceEventKind.Marker, line, -1, -1, 1, inner);
}

/**
 * Parses one line of a kernel trace (not a `#` comment: the caller skips those). Returns a
 * {@link TraceRecord} for an event line, or a {@link KernelLineClass} for a line that is not an
 * event. Throws {@link TraceError} (`ERR_TRACE_MALFORMED`, or `ERR_TRACE_TRUNCATED` for an
 * unclosed function-graph comment) for a known event it cannot read: a missing `pfn=`/`order=`,
 * a bad number, a cut line.
 *
 * Cost: one or two regex scans of the line head and one `indexOf` per field read; one small
 * record object per event.
 *
 * @example
 * ```ts
 * const r = parseKernelLine("  init-1  [000] .....  3.030646: mm_page_alloc: page=0000000027007a19 pfn=0x1baa order=1 migratetype=0 gfp_flags=GFP_KERNEL", 13);
 * // r is { kind: TraceEventKind.Alloc, line: 13, pfn: 7082, id: -1, order: 1, count: 1, text: "" }
 * ```
 */
export function parseKernelLine(text: string, line: number): TraceRecord | KernelLineClass {
  const open = text.indexOf("/*");
  if (open !== -1 && text.slice(0, open).trimEnd().endsWith("|")) return commentRecord(text, open, line);
  const m = eventName(text);
  if (m === null) {
    const lost = LOST.exec(text);
    if (lost !== null) return record(TraceEventKind.Lost, line, -1, -1, lost[2] === undefined ? 0 : Number(lost[2]), `cpu ${lost[1]}`);
    return HEADER.test(text) ? KernelLineClass.Header : KernelLineClass.Unrecognized;
  }
  const name = bareName(m[1]!);
  return eventRecord(name, text.slice(m.index + m[0].length), line, text);
}

/** The event name token after the timestamp (or anywhere, when there is none), or null. */
function eventName(text: string): RegExpExecArray | null {
  const ts = TIMESTAMP.exec(text);
  EVENT_NAME.lastIndex = ts === null ? 0 : ts.index + ts[0].length;
  return EVENT_NAME.exec(text);
}

/**
 * The `migratetype=` an allocation line prints, found in its body as {@link parseKernelLine}
 * reads the other fields (a function-graph comment's body too): 0..126, 127 for anything larger,
 * -1 when the body has none or it is not a number. For lines the byte-level fast path did not read.
 *
 * Cost: one or two regex scans of the line head and one `indexOf` in the body.
 *
 * @example
 * ```ts
 * kernelLineMigratetype("  init-1 [000] ..... 3.03: mm_page_alloc: page=0 pfn=0x1 order=0 migratetype=1 gfp_flags=X"); // 1
 * ```
 */
export function kernelLineMigratetype(text: string): number {
  let body: string | undefined;
  const open = text.indexOf("/*");
  if (open !== -1 && text.slice(0, open).trimEnd().endsWith("|")) {
    const close = text.lastIndexOf("*/");
    const m = close < open + 2 ? null : COMMENT_EVENT.exec(text.slice(open + 2, close).trim());
    body = m?.[2];
  } else {
    const m = eventName(text);
    body = m === null ? undefined : text.slice(m.index + m[0].length);
  }
  const value = body === undefined ? undefined : fieldValue(body, "migratetype");
  const n = value === undefined ? -1 : parseTraceNumber(value);
  return n < 0 ? -1 : Math.min(n, 127);
}

/** `[003]` (ftrace, trace-cmd, perf script): the CPU column, the last `[digits]` before the timestamp (a task name may hold brackets too). */
const CPU_COLUMN = /\[(\d+)\][^[]*$/;
/** ` 3)` at the start of a function-graph line. */
const GRAPH_CPU = /^\s*(\d+)\)/;

/**
 * The CPU and the timestamp (seconds) of a kernel trace line, for lines the byte-level fast path did
 * not read: the CPU from the last `[003]` before the timestamp (or a function-graph line's ` 3)`), -1 when
 * the line names none; the time NaN when it has none.
 *
 * Cost: two or three regex scans of the line head.
 *
 * @example
 * ```ts
 * kernelLineCpuTime("  cat-155 [001] ..... 3.031357: mm_page_free: page=0 pfn=0x1bac order=1"); // { cpu: 1, time: 3.031357 }
 * ```
 */
export function kernelLineCpuTime(text: string): { cpu: number; time: number } {
  const ts = TIMESTAMP.exec(text);
  const head = ts === null ? text : text.slice(0, ts.index);
  const cpu = CPU_COLUMN.exec(head) ?? GRAPH_CPU.exec(head);
  const time = ts === null ? Number.NaN : Number(ts[0].trim().slice(0, -1));
  return { cpu: cpu === null ? -1 : Number(cpu[1]), time };
}
