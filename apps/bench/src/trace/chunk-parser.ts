import { isUtf8 } from "node:buffer";
import { MAX_TRACE_ORDER, TraceEventKind } from "./events.js";
import type { TraceEventBatch } from "./event-batch.js";
import { kernelLineCpuTime, kernelLineMigratetype } from "./kernel-line.js";
import { TraceParser, type TraceParseSummary, type TraceParserOptions } from "./parser.js";

/**
 * Parses trace bytes chunk by chunk into a {@link TraceEventBatch}, without a string per line for the
 * lines that make up almost all of a real capture. Lines of the common ftrace / trace-cmd / perf
 * script layout (`<comm>-<pid> [<cpu>] <flags> <secs>: mm_page_<event>: page=.. pfn=.. order=..`,
 * perf's `kmem:mm_page_<event>:` too) are read straight from the bytes (the fast path: fixed words
 * compared four bytes at a time, each other byte read about once); every other line (headers, markers, other layouts, older
 * kernels, anything unusual or malformed) is decoded and handed to {@link TraceParser.line}, so
 * both paths give the same events and the same errors. The fast path takes a line only when it
 * matches the layout exactly; anything else falls back.
 *
 * Bytes that are not text (NUL, invalid UTF-8) are found per chunk by two native scans; a chunk
 * that has some is then read line by line, and a line holding them is an error naming it
 * (`ERR_TRACE_NOT_TEXT`), or, lenient, counted and skipped.
 *
 * Cost: O(bytes); no allocation per fast-path line; memory O(chunk + the batch).
 *
 * @example
 * ```ts
 * const chunks = new ChunkParser();
 * const batch = new TraceEventBatch(1 << 16);
 * chunks.feed(Buffer.from("  cat-155 [001] ..... 3.031357: mm_page_free: page=0 pfn=0x1bac order=1\n"), batch);
 * chunks.end(batch);
 * batch.key[0]; // 7084 (0x1bac)
 * ```
 */
export class ChunkParser {
  readonly parser: TraceParser;
  #pending: Buffer | null = null;
  /** Dropping the rest of an overlong line (lenient mode) until its newline. */
  #skipping = false;
  /** Offsets of the CPU column's `[` and `]` in the last fast-path line. */
  #cpuOpen = 0;
  #cpuClose = 0;

  constructor(options: TraceParserOptions = {}) {
    this.parser = new TraceParser(options);
  }

  /** Parses every complete line of `chunk` (with what was left of the previous one) into `out`. */
  feed(chunk: Buffer, out: TraceEventBatch): void {
    let buf = chunk;
    if (this.#skipping) {
      // The rest of an overlong line (lenient): drop bytes up to its newline.
      const nl = buf.indexOf(10);
      if (nl === -1) return;
      this.#skipping = false;
      buf = buf.subarray(nl + 1);
    }
    if (this.#pending !== null) {
      // Join only the cut line with its rest (not the whole chunk: that would copy every byte once more).
      const nl = buf.indexOf(10);
      if (nl === -1) {
        buf = Buffer.concat([this.#pending, buf]);
        this.#pending = null;
      } else {
        const head = Buffer.concat([this.#pending, buf.subarray(0, nl + 1)]);
        this.#pending = null;
        this.#lines(head, out);
        buf = buf.subarray(nl + 1);
      }
    }
    this.#lines(buf, out);
  }

  /** Parses the complete lines of `buf`, keeping what follows its last newline for the next chunk. */
  #lines(buf: Buffer, out: TraceEventBatch): void {
    if (buf.length === 0) return;
    const last = buf.lastIndexOf(10);
    if (last === -1) {
      if (buf.length > MAX_LINE_BYTES) {
        // No newline in a MiB: not a text trace (or a corrupted one); memory must not follow it.
        this.parser.nonTextLine(buf.toString("latin1", 0, 160), 1, `a line longer than ${MAX_LINE_BYTES} bytes (not a text trace?)`);
        this.#skipping = true;
        return;
      }
      this.#pending = Buffer.from(buf);
      return;
    }
    const whole = buf.subarray(0, last + 1);
    const careful = whole.indexOf(0) !== -1 || !isUtf8(whole);
    const u8 = new Uint8Array(buf.buffer, buf.byteOffset, last + 1);
    const words = new DataView(buf.buffer, buf.byteOffset, last + 1);
    let s = 0;
    let kernel = false;
    while (s <= last) {
      if (!careful) {
        if (!kernel) kernel = this.parser.format === "kernel";
        if (kernel) {
          // The fast path finds the line's end itself (no separate newline scan for most lines).
          const end = this.#fast(u8, words, s, out);
          if (end !== -1) {
            s = end + 1;
            continue;
          }
        }
      }
      const nl = u8.indexOf(10, s);
      if (careful) {
        const e = nl > s && u8[nl - 1] === 13 ? nl - 1 : nl;
        const bad = firstNonText(buf, s, e);
        if (bad !== -1) {
          this.parser.nonTextLine(buf.toString("utf8", s, e), bad - s + 1);
          s = nl + 1;
          continue;
        }
      }
      this.#slow(buf.toString("utf8", s, nl), true, out);
      s = nl + 1;
    }
    if (last + 1 < buf.length) this.#pending = Buffer.from(buf.subarray(last + 1));
  }

  /** Parses what is left (a last line without a newline: a cut file in a kernel trace). */
  end(out: TraceEventBatch): void {
    const rest = this.#pending;
    this.#pending = null;
    if (rest === null || rest.length === 0) return;
    const bad = firstNonText(rest, 0, rest.length);
    if (bad !== -1) this.parser.nonTextLine(rest.toString("utf8"), bad + 1);
    else this.#slow(rest.toString("utf8"), false, out);
  }

  /** What the parser has seen (see {@link TraceParser.summary}). */
  summary(): TraceParseSummary {
    return this.parser.summary();
  }

  #slow(text: string, complete: boolean, out: TraceEventBatch): void {
    const r = this.parser.line(text, complete);
    if (r === null) return;
    if (this.parser.format !== "kernel") {
      out.pushRecord(r, -1, Number.NaN);
      return;
    }
    if (r.kind === TraceEventKind.Lost) {
      out.pushRecord(r, Number(r.text.slice(4)), Number.NaN);
      return;
    }
    const { cpu, time } = kernelLineCpuTime(text);
    out.pushRecord(r, cpu, time, r.kind === TraceEventKind.Alloc ? kernelLineMigratetype(text) : -1);
  }

  /**
   * The byte-level reading of one ftrace-layout page event line starting at `s`: returns the index
   * of its newline, or -1 to fall back to the slow path (which then reads the whole line). Every
   * scan stops at a byte it does not expect, so a newline ends it; `u8` ends with a newline, so no
   * scan runs past its end.
   */
  #fast(u8: Uint8Array, words: DataView, s: number, out: TraceEventBatch): number {
    // The timestamp's colon: the first one followed by a blank (a tab: the slow path decides).
    let i = s;
    const lastWord = u8.length - 4;
    // The last `[` before the colon (the CPU column's, on an ftrace line), or -1.
    let lastOpen = -1;
    for (;;) {
      // Four bytes at a time up to the first colon, newline or `[` (the line's padded task, CPU and flags columns).
      while (i <= lastWord) {
        const found = colonNewlineOrBracket(words.getUint32(i, true));
        if (found !== 0) {
          i += firstFlaggedByte(found);
          break;
        }
        i += 4;
      }
      const c = u8[i];
      if (c === 10) return -1;
      if (c === 58) {
        const next = u8[i + 1];
        if (next === 32) break;
        if (next === 9) return -1;
      } else if (c === 91) lastOpen = i;
      i++;
    }
    // <blank><digits>.<digits> before it.
    // Read in one backward pass (each digit touched once). Up to 15 digits every sum is an exact
    // integer; a longer timestamp (a nanosecond clock on a long uptime) is read as text by Number().
    let k = i - 1;
    let frac = 0;
    let scale = 1;
    for (let c = u8[k]!; k >= s && c >= 48 && c <= 57; c = u8[--k]!) {
      frac += (c - 48) * scale;
      scale *= 10;
    }
    if (k === i - 1 || k <= s || u8[k] !== 46) return -1;
    const dot = k;
    k--;
    let whole = 0;
    let unit = 1;
    for (let c = u8[k]!; k >= s && c >= 48 && c <= 57; c = u8[--k]!) {
      whole += (c - 48) * unit;
      unit *= 10;
    }
    if (k === dot - 1 || k < s || u8[k] !== 32) return -1;
    const digits = i - k - 2;
    if (digits > 64) return -1;
    // (integer / power of ten) is the correctly rounded value, as Number("3.030646") gives.
    const time = digits <= 15 ? (whole * scale + frac) / scale : Number(String.fromCharCode(...u8.subarray(k + 1, i)));
    // The CPU column: where it was on the previous line (ftrace pads `<comm>-<pid>` to a fixed width), else found.
    let cpu = 0;
    const open = s + this.#cpuOpen;
    const close = s + this.#cpuClose;
    // It is the last [digits] group before the timestamp (as the slow path reads it): no `[` after it.
    const cached = close < k && lastOpen === open && u8[close] === 93 && close - open > 1;
    if (cached) {
      for (let d = open + 1; d < close; d++) {
        const c = u8[d]!;
        if (c < 48 || c > 57) return -1;
        cpu = cpu * 10 + (c - 48);
      }
    } else {
      cpu = cpuColumn(u8, s, k);
      if (cpu < 0) return -1;
      this.#cpuOpen = cpuColumnOpen - s;
      this.#cpuClose = cpuColumnClose - s;
    }
    // "mm_page_<name>: ", compared four bytes at a time (a constant's bytes as little-endian words).
    // A compare that would reach past the buffer cannot match (the buffer ends with a newline).
    // perf script pads the event column and names the subsystem: "1045.334900:       kmem:mm_page_alloc:".
    const end = u8.length;
    let p = i + 2;
    while (u8[p] === 32) p++;
    if (p + 5 <= end && words.getUint32(p, true) === W_KMEM && u8[p + 4] === 58) p += 5;
    if (p + 8 > end || words.getUint32(p, true) !== W_MM_P || words.getUint32(p + 4, true) !== W_AGE_) return -1;
    p += 8;
    const found = eventKind(u8, words, p, end);
    if (found < 0) return -1;
    const kind = found as TraceEventKind;
    p += FAST_NAME_LENGTH[kind]!;
    if (u8[p + 1] !== 32) return -1;
    // trace-cmd pads event names with blanks.
    p += 2;
    while (u8[p] === 32) p++;
    // page=<value>
    if (p + 5 > end || words.getUint32(p, true) !== W_PAGE || u8[p + 4] !== 61) return -1;
    p += 5;
    const pageStart = p;
    // A pointer's bytes are all above the blank; a control byte sends the line to the slow path.
    // Four at a time while all four are printable ASCII, then one at a time (a byte above 0x7f stays in the value).
    while (p <= lastWord && (((words.getUint32(p, true) - 0x21212121) | words.getUint32(p, true)) & 0x80808080) === 0) p += 4;
    while (u8[p]! > 32) p++;
    if (u8[p] !== 32) return -1;
    if (kind === ALLOC && isNullPage(u8, pageStart, p)) return -1;
    // pfn=<number>
    if (p + 5 > end || words.getUint32(p, true) !== W_PFN || u8[p + 4] !== 61) return -1;
    p += 5;
    let pfn = 0;
    const numStart = p;
    if (u8[p] === 48 && u8[p + 1] === 120) {
      p += 2;
      const hexStart = p;
      for (;;) {
        const c = u8[p]! | 32;
        if (c >= 48 && c <= 57) pfn = pfn * 16 + (c - 48);
        else if (c >= 97 && c <= 102) pfn = pfn * 16 + (c - 87);
        else break;
        p++;
      }
      if (p === hexStart) return -1;
    } else {
      for (;;) {
        const c = u8[p]!;
        if (c < 48 || c > 57) break;
        pfn = pfn * 10 + (c - 48);
        p++;
      }
      if (p === numStart) return -1;
    }
    if (pfn > Number.MAX_SAFE_INTEGER) return -1;
    // order=<decimal>
    if (p + 7 > end || words.getUint32(p, true) !== W_ORD || words.getUint32(p + 3, true) !== W_DER) return -1;
    p += 7;
    const orderStart = p;
    let order = 0;
    for (;;) {
      const c = u8[p]!;
      if (c < 48 || c > 57) break;
      order = order * 10 + (c - 48);
      p++;
    }
    if (p === orderStart || p - orderStart > 2 || order > MAX_ORDER) return -1;
    // What each event must still have (a line cut before it goes to the slow path, which says so).
    let migratetype = -1;
    if (kind === ALLOC) {
      if (!isMigratetype(words, p, end)) return -1;
      p += 13;
      const typeStart = p;
      let type = 0;
      for (let c = u8[p]!; isDigit(c); c = u8[++p]!) type = type * 10 + (c - 48);
      // As the slow path's number reading: none is -1, past 2^53 - 1 too, a large one 127.
      if (p > typeStart && type <= Number.MAX_SAFE_INTEGER) migratetype = type > 127 ? 127 : type;
      if (p + 11 > end || words.getUint32(p, true) !== W_GFP || words.getUint32(p + 4, true) !== W_FLA || words.getUint32(p + 7, true) !== W_AGS) return -1;
      p += 11;
    } else if (kind === PCPU_DRAIN || kind === ZONE_LOCKED) {
      if (!isMigratetype(words, p, end)) return -1;
      p += 13;
    }
    // The value just read must end at a blank or the line's end.
    const next = u8[p];
    let nl: number;
    if (next === 10) nl = p;
    else if (next === 13 && u8[p + 1] === 10) nl = p + 1;
    else if (next === 32 || kind === ALLOC || kind === PCPU_DRAIN || kind === ZONE_LOCKED) {
      // The rest of the line (gfp flags, refill): four bytes at a time (a native search costs more for ~40 bytes); u8 ends with a newline.
      nl = p;
      while (nl <= lastWord) {
        const found = newlineIn(words.getUint32(nl, true));
        if (found !== 0) {
          nl += firstFlaggedByte(found);
          break;
        }
        nl += 4;
      }
      while (u8[nl] !== 10) nl++;
    } else return -1;
    const line = this.parser.countFastEvent(kind);
    out.push(kind, line, pfn, order, cpu, time, "", migratetype);
    return nl;
  }
}

/** The longest line kept whole while waiting for its newline; a longer one is not text. */
const MAX_LINE_BYTES = 1 << 20;

/** The little-endian 32-bit word of the four bytes of `text` at `at` (compared with a `DataView.getUint32(p, true)`). */
const word = (text: string, at = 0): number => Buffer.from(text, "latin1").readUint32LE(at);
const W_KMEM = word("kmem");
const W_MM_P = word("mm_p");
const W_AGE_ = word("age_");
const W_PAGE = word("page");
const W_PFN = word(" pfn");
// " order=" as two overlapping words (bytes 0-3 and 3-6), " migratetype=" as four, " gfp_flags=" as three.
const W_ORD = word(" ord");
const W_DER = word("der=");
const W_MIG = word(" mig");
const W_RATE = word("rate");
const W_TYPE = word("type");
const W_YPE = word("ype=");
const W_GFP = word(" gfp");
const W_FLA = word("_fla");
const W_AGS = word("ags=");
const W_ALLO = word("allo");
const W_ZON = word("_zon");
const W_E_LO = word("e_lo");
const W_CKED = word("cked");
const W_FREE = word("free");
const W_BAT = word("_bat");
const W_CHED = word("ched");
const W_PCPU = word("pcpu");
const W_DRA = word("_dra");
const W_RAIN = word("rain");
// Module-level copies: an imported object's property is a getter call per use under some loaders (tsx).
const ALLOC: TraceEventKind = TraceEventKind.Alloc;
const FREE: TraceEventKind = TraceEventKind.Free;
const FREE_BATCHED: TraceEventKind = TraceEventKind.FreeBatched;
const MAX_ORDER: number = MAX_TRACE_ORDER;
const PCPU_DRAIN: TraceEventKind = TraceEventKind.PcpuDrain;
const ZONE_LOCKED: TraceEventKind = TraceEventKind.ZoneLocked;
/** Length of the fast-path event names (without `mm_page_`) by kind. */
const FAST_NAME_LENGTH = new Int32Array(256);
FAST_NAME_LENGTH[ALLOC] = "alloc".length;
FAST_NAME_LENGTH[FREE] = "free".length;
FAST_NAME_LENGTH[FREE_BATCHED] = "free_batched".length;
FAST_NAME_LENGTH[PCPU_DRAIN] = "pcpu_drain".length;
FAST_NAME_LENGTH[ZONE_LOCKED] = "alloc_zone_locked".length;

/**
 * The bytes of little-endian word `w` that are a colon, a newline or a `[`, as their top bits (0 when
 * none). The zero-byte test `(x - 0x01010101) & ~x & 0x80808080` may also flag a byte above a true
 * match (a borrow), never below it, so the lowest flag is always the first match.
 */
function colonNewlineOrBracket(w: number): number {
  const colon = w ^ 0x3a3a3a3a;
  const newline = w ^ 0x0a0a0a0a;
  const bracket = w ^ 0x5b5b5b5b;
  return (((colon - 0x01010101) & ~colon) | ((newline - 0x01010101) & ~newline) | ((bracket - 0x01010101) & ~bracket)) & 0x80808080;
}

/** The newline bytes of little-endian word `w` as their top bits (0 when none; see {@link colonNewlineOrBracket}). */
function newlineIn(w: number): number {
  const newline = w ^ 0x0a0a0a0a;
  return (newline - 0x01010101) & ~newline & 0x80808080;
}

/** Index (0-3) of the lowest byte flagged in a {@link colonNewlineOrBracket} result. */
function firstFlaggedByte(flags: number): number {
  return (31 - Math.clz32(flags & -flags)) >>> 3;
}

function isDigit(c: number): boolean {
  return c >= 48 && c <= 57;
}

/** `migratetype=` (with its leading blank) at `p`, compared as four overlapping words. */
function isMigratetype(words: DataView, p: number, end: number): boolean {
  return p + 13 <= end && words.getUint32(p, true) === W_MIG && words.getUint32(p + 4, true) === W_RATE && words.getUint32(p + 8, true) === W_TYPE && words.getUint32(p + 9, true) === W_YPE;
}

/**
 * The kind of the fast-path event name (`alloc`, `free`, `free_batched`, `pcpu_drain`,
 * `alloc_zone_locked`) starting at `start` and ending at a colon, or -1: told apart by its first
 * four bytes, then the rest compared as words.
 */
function eventKind(u8: Uint8Array, words: DataView, start: number, end: number): number {
  // The shortest name with its colon ("free:") is five bytes.
  if (start + 5 > end) return -1;
  const head = words.getUint32(start, true);
  if (head === W_ALLO) {
    if (u8[start + 4] !== 99 /* c */) return -1;
    if (u8[start + 5] === 58) return ALLOC;
    if (start + 18 <= end && words.getUint32(start + 5, true) === W_ZON && words.getUint32(start + 9, true) === W_E_LO && words.getUint32(start + 13, true) === W_CKED && u8[start + 17] === 58) return ZONE_LOCKED;
    return -1;
  }
  if (head === W_FREE) {
    if (u8[start + 4] === 58) return FREE;
    if (start + 13 <= end && words.getUint32(start + 4, true) === W_BAT && words.getUint32(start + 8, true) === W_CHED && u8[start + 12] === 58) return FREE_BATCHED;
    return -1;
  }
  if (head === W_PCPU && start + 11 <= end && words.getUint32(start + 4, true) === W_DRA && words.getUint32(start + 6, true) === W_RAIN && u8[start + 10] === 58) return PCPU_DRAIN;
  return -1;
}

/**
 * A page pointer that may be NULL (`(null)`, `(nil)`, all zeroes, `0x0`; or empty, or a bare `0x`):
 * a failed allocation, or something odd, left to the slow path, which decides.
 */
function isNullPage(u8: Uint8Array, start: number, end: number): boolean {
  if (start === end || u8[start] === 40 /* ( */) return true;
  let p = start;
  if (u8[p] === 48 && (u8[p + 1]! | 32) === 120 /* 0x, 0X */) p += 2;
  for (; p < end; p++) if (u8[p] !== 48) return false;
  return true;
}

/** Where {@link cpuColumn} found the brackets (set on success). */
let cpuColumnOpen = 0;
let cpuColumnClose = 0;

/**
 * The CPU column `[003]` ending before `before` (the blank ahead of the timestamp), with at most one
 * token (the irq-info flags, holding no `[`) between; -1 when the line does not have that shape.
 */
function cpuColumn(u8: Uint8Array, s: number, before: number): number {
  let k = before;
  while (k > s && u8[k] === 32) k--;
  if (u8[k] !== 93 /* ] */) {
    while (k > s && u8[k] !== 32) if (u8[k--] === 91) return -1;
    while (k > s && u8[k] === 32) k--;
    if (u8[k] !== 93) return -1;
  }
  const close = k;
  k--;
  while (k > s && isDigit(u8[k]!)) k--;
  if (u8[k] !== 91 /* [ */ || k === close - 1) return -1;
  cpuColumnOpen = k;
  cpuColumnClose = close;
  let cpu = 0;
  for (let d = k + 1; d < close; d++) cpu = cpu * 10 + (u8[d]! - 48);
  return cpu;
}

/** Index of the first byte in [s, e) that is not text (a control byte other than tab, or part of invalid UTF-8), or -1. */
function firstNonText(buf: Buffer, s: number, e: number): number {
  for (let p = s; p < e; p++) {
    const c = buf[p]!;
    if (c < 32 && c !== 9 && c !== 13) return p;
  }
  if (isUtf8(buf.subarray(s, e))) return -1;
  // The first byte where decoding goes wrong: grow a prefix until it stops being valid.
  for (let p = s + 1; p <= e; p++) if (!isUtf8(buf.subarray(s, p)) && (p === e || !isUtf8(buf.subarray(s, p + 1)))) return p - 1;
  return s;
}
