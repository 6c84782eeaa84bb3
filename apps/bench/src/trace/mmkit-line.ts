import { MAX_TRACE_ORDER, TraceEventKind, type TraceRecord } from "./events.js";
import { TraceError, TraceErrorCode } from "./errors.js";
import { NOT_A_NUMBER, TOO_LARGE, parseTraceNumber } from "./fields.js";

/**
 * mmkit's own line format, for traces people write by hand or generate (documented in
 * apps/bench/TRACES.md):
 * ```
 * # a comment; blank lines are ignored; "#" after a blank starts a trailing comment
 * phase warmup              # starts phase "warmup" (same as a PHASE marker)
 * mark any text             # a marker that is not a phase
 * alloc a1 order=2          # allocate 2^2 pages under id "a1"
 * alloc buf size=12K        # allocate the smallest power-of-two run of pages holding 12 KiB (order 2)
 * free a1                   # free what "a1" was allocated with
 * free buf order=2          # free, stating the order (a differing order is counted by replay)
 * ```
 */

/**
 * Numbers the ids of an mmkit-format trace: an id gets a number at its `alloc` (or at a `free`
 * of an id never allocated) and loses it at its `free`, so `alloc x` after `free x` is a new
 * allocation. Keeps one map entry per live id.
 *
 * @example
 * ```ts
 * const ids = new IdTable();
 * ids.forAlloc("a"); // 0
 * ids.forFree("a");  // 0, and "a" is forgotten
 * ids.forAlloc("a"); // 1
 * ```
 */
export class IdTable {
  readonly #live = new Map<string, number>();
  #next = 0;

  /** The number of `name` for an allocation: its live number when it is live (replay counts the re-allocation), else a new one. O(1). */
  forAlloc(name: string): number {
    const known = this.#live.get(name);
    if (known !== undefined) return known;
    const id = this.#next++;
    this.#live.set(name, id);
    return id;
  }

  /** The number of `name` for a free, forgetting it; an id never allocated gets a fresh number (an unmatched free). O(1). */
  forFree(name: string): number {
    const known = this.#live.get(name);
    if (known === undefined) return this.#next++;
    this.#live.delete(name);
    return known;
  }

  /** Ids allocated and not yet freed. */
  get live(): number {
    return this.#live.size;
  }
}

const SIZE = /^(\d+|0x[0-9a-fA-F]+)([KMG]?)$/;
const SIZE_UNIT: Record<string, number> = { "": 1, K: 1024, M: 1024 ** 2, G: 1024 ** 3 };

function malformed(line: number, reason: string, content: string): TraceError {
  return new TraceError(TraceErrorCode.Malformed, line, reason, content);
}

/** Smallest order whose 2^order pages of `pageSize` bytes hold `bytes`. */
function orderForBytes(bytes: number, pageSize: number): number {
  const pages = Math.ceil(bytes / pageSize);
  let order = 0;
  for (let run = 1; run < pages; run *= 2) order++;
  return order;
}

function readOrder(value: string, line: number, content: string): number {
  const order = parseTraceNumber(value);
  if (order === NOT_A_NUMBER || order === TOO_LARGE || order > MAX_TRACE_ORDER) {
    throw malformed(line, `order=${JSON.stringify(value)} must be an integer in [0, ${MAX_TRACE_ORDER}]`, content);
  }
  return order;
}

function readSize(value: string, line: number, content: string, pageSize: number): number {
  const m = SIZE.exec(value);
  const n = m === null ? NOT_A_NUMBER : parseTraceNumber(m[1]!);
  const bytes = n < 0 ? NaN : n * SIZE_UNIT[m![2]!]!;
  if (!(bytes >= 1) || !Number.isSafeInteger(bytes)) {
    throw malformed(line, `size=${JSON.stringify(value)} must be a positive byte count (optionally with K, M or G)`, content);
  }
  const order = orderForBytes(bytes, pageSize);
  if (order > MAX_TRACE_ORDER) throw malformed(line, `size=${value} needs order ${order}, above ${MAX_TRACE_ORDER}`, content);
  return order;
}

/**
 * Parses one line of mmkit's format. Returns a record, or `null` for a blank or comment line.
 * Throws {@link TraceError} (`ERR_TRACE_MALFORMED`) naming the line for an unknown op, a missing
 * id, a missing or bad `order=`/`size=`, or an unexpected word.
 *
 * Cost: one split of the line into words; O(1) id numbering.
 *
 * @example
 * ```ts
 * parseMmkitLine("alloc a1 order=2", 3, new IdTable(), 4096);
 * // { kind: TraceEventKind.Alloc, line: 3, pfn: -1, id: 0, order: 2, count: 1, text: "" }
 * ```
 */
export function parseMmkitLine(text: string, line: number, ids: IdTable, pageSize: number): TraceRecord | null {
  const hash = text.search(/(?:^|\s)#/);
  const code = (hash === -1 ? text : text.slice(0, hash)).trim();
  if (code === "") return null;
  const words = code.split(/\s+/);
  const op = words[0]!;
  if (op === "phase" || op === "mark") {
    const rest = code.slice(op.length).trim();
    if (rest === "") throw malformed(line, `${op} needs a name`, text);
    return { kind: TraceEventKind.Marker, line, pfn: -1, id: -1, order: -1, count: 1, text: op === "phase" ? `PHASE ${rest}` : rest };
  }
  if (op !== "alloc" && op !== "free") throw malformed(line, `unknown op ${JSON.stringify(op)} (expected alloc, free, phase or mark)`, text);
  const name = words[1];
  if (name === undefined || name.includes("=")) throw malformed(line, `${op} needs an id before its fields`, text);
  let order = -1;
  for (let i = 2; i < words.length; i++) {
    const word = words[i]!;
    const eq = word.indexOf("=");
    const key = eq === -1 ? word : word.slice(0, eq);
    const value = eq === -1 ? "" : word.slice(eq + 1);
    if (order !== -1 || (key !== "order" && !(key === "size" && op === "alloc"))) {
      throw malformed(line, `unexpected ${JSON.stringify(word)} after ${op} ${name}`, text);
    }
    order = key === "order" ? readOrder(value, line, text) : readSize(value, line, text, pageSize);
  }
  if (op === "alloc") {
    if (order === -1) throw malformed(line, `alloc ${name} needs order=<n> or size=<bytes>`, text);
    return { kind: TraceEventKind.Alloc, line, pfn: -1, id: ids.forAlloc(name), order, count: 1, text: "" };
  }
  return { kind: TraceEventKind.Free, line, pfn: -1, id: ids.forFree(name), order, count: 1, text: "" };
}
