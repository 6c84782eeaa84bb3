import { TraceEventKind, type TraceRecord } from "./events.js";

// Module-level copies: an imported object's property is a getter call per use under some loaders (tsx).
const MARKER: number = TraceEventKind.Marker;
const UNKNOWN: number = TraceEventKind.Unknown;

/**
 * Trace events held compactly, one column per field in typed arrays: what streams from the parser
 * to every replaying system chunk by chunk, and what a timing window keeps. 31 bytes per event
 * (kind 1, order 1, migratetype 1, cpu 4, key 8, time 8, line 8) instead of a ~750-byte object;
 * text (marker texts, unknown event names) only for the few events that have any.
 *
 * Column use by kind:
 * - `key`: Alloc/Free and the annotations: the pfn (>= 0), or `-1 - id` for an mmkit-format id;
 *   AllocFailed -1; Marker/Unknown: index into `texts`; Lost: the count of events lost.
 * - `order`: as {@link TraceRecord.order} (-1 when none).
 * - `cpu`: the CPU the trace names (`[003]`, perf's CPU field, a function-graph `3)`), -1 when none.
 * - `time`: the timestamp in seconds, NaN when the line has none (mmkit format).
 * - `line`: the 1-based line number.
 * - `migratetype`: an Alloc's `migratetype=` as its kernel line prints it (0 Unmovable, 1 Movable,
 *   2 Reclaimable, ...; 127 for anything larger), -1 for other events and lines that print none.
 *
 * @example
 * ```ts
 * const batch = new TraceEventBatch(1024);
 * batch.push(TraceEventKind.Alloc, 14, 0x1baa, 1, 0, 3.030646, "");
 * batch.length;             // 1
 * batch.record(0).pfn;      // 7082
 * ```
 */
export class TraceEventBatch {
  kind: Uint8Array;
  order: Int8Array;
  migratetype: Int8Array;
  cpu: Int32Array;
  key: Float64Array;
  time: Float64Array;
  line: Float64Array;
  /** Texts of markers and unknown events, indexed by `key`. */
  texts: string[] = [];
  length = 0;
  /** Grows when full (true) or refuses more events (false: {@link push} returns false). */
  readonly growable: boolean;

  constructor(capacity: number, growable = true) {
    this.kind = new Uint8Array(capacity);
    this.order = new Int8Array(capacity);
    this.migratetype = new Int8Array(capacity);
    this.cpu = new Int32Array(capacity);
    this.key = new Float64Array(capacity);
    this.time = new Float64Array(capacity);
    this.line = new Float64Array(capacity);
    this.growable = growable;
  }

  /** Events the columns hold room for. */
  get capacity(): number {
    return this.kind.length;
  }

  /** Bytes held by the columns (texts not counted). */
  get bytes(): number {
    return this.capacity * 31;
  }

  /** Forgets every event (keeps the arrays). O(1) plus the texts array. */
  clear(): void {
    this.length = 0;
    if (this.texts.length > 0) this.texts = [];
  }

  /**
   * Appends one event. `text` is kept only for markers and unknown events (its index goes in `key`);
   * `migratetype` only for allocations (see the class). Returns false when a fixed-size batch is
   * full. O(1) amortised.
   */
  push(kind: TraceEventKind, line: number, key: number, order: number, cpu: number, time: number, text: string, migratetype = -1): boolean {
    let i = this.length;
    if (i === this.kind.length) {
      if (!this.growable) return false;
      this.#grow();
    }
    if (kind === MARKER || kind === UNKNOWN) {
      key = this.texts.length;
      this.texts.push(text);
    }
    this.kind[i] = kind;
    this.order[i] = order;
    this.migratetype[i] = migratetype;
    this.cpu[i] = cpu;
    this.key[i] = key;
    this.time[i] = time;
    this.line[i] = line;
    this.length = ++i;
    return true;
  }

  /**
   * Appends every event of `other` (its marker texts re-indexed into this batch's). Returns false,
   * appending nothing, when a fixed-size batch has no room for them all. O(events of `other`).
   *
   * @example
   * ```ts
   * const held = new TraceEventBatch(0);
   * await streamTraceBatches(path, (batch) => held.append(batch)); // the whole trace, 31 bytes an event
   * ```
   */
  append(other: TraceEventBatch): boolean {
    if (!this.growable && this.length + other.length > this.capacity) return false;
    const { kind, line, key, order, cpu, time, migratetype, texts } = other;
    for (let i = 0; i < other.length; i++) {
      const k = kind[i]!;
      this.push(k as TraceEventKind, line[i]!, key[i]!, order[i]!, cpu[i]!, time[i]!, k === MARKER || k === UNKNOWN ? texts[key[i]!]! : "", migratetype[i]!);
    }
    return true;
  }

  /** Appends a parsed record with its CPU, time and (allocations) migratetype. */
  pushRecord(r: TraceRecord, cpu: number, time: number, migratetype = -1): boolean {
    const key = r.kind === TraceEventKind.Lost ? r.count : r.pfn >= 0 ? r.pfn : r.id >= 0 ? -1 - r.id : -1;
    return this.push(r.kind, r.line, key, r.order, cpu, time, r.text, migratetype);
  }

  /**
   * The column buffers, to hand this batch to another thread (transfer them; the batch is then
   * unusable until {@link adopt} gives it columns again). O(1).
   *
   * @example
   * ```ts
   * port.postMessage({ columns: batch.columns(), length: batch.length, texts: batch.texts }, batch.columns());
   * ```
   */
  columns(): ArrayBuffer[] {
    return [this.kind.buffer, this.order.buffer, this.migratetype.buffer, this.cpu.buffer, this.key.buffer, this.time.buffer, this.line.buffer] as ArrayBuffer[];
  }

  /**
   * Takes `columns` (from {@link columns}, possibly of another thread's batch) as this batch's
   * columns, holding `length` events with their `texts`. O(1).
   *
   * @example
   * ```ts
   * batch.adopt(message.columns, message.length, message.texts);
   * ```
   */
  adopt(columns: readonly ArrayBuffer[], length: number, texts: string[]): void {
    const [kind, order, migratetype, cpu, key, time, line] = columns as [ArrayBuffer, ArrayBuffer, ArrayBuffer, ArrayBuffer, ArrayBuffer, ArrayBuffer, ArrayBuffer];
    this.kind = new Uint8Array(kind);
    this.order = new Int8Array(order);
    this.migratetype = new Int8Array(migratetype);
    this.cpu = new Int32Array(cpu);
    this.key = new Float64Array(key);
    this.time = new Float64Array(time);
    this.line = new Float64Array(line);
    this.length = length;
    this.texts = texts;
  }

  /** Event `i` as a {@link TraceRecord} (a fresh object: for tests and slow paths). */
  record(i: number): TraceRecord {
    const kind = this.kind[i]! as TraceEventKind;
    const key = this.key[i]!;
    const text = kind === TraceEventKind.Marker || kind === TraceEventKind.Unknown ? this.texts[key]! : kind === TraceEventKind.Lost ? `cpu ${this.cpu[i]}` : "";
    const paged = kind !== TraceEventKind.Marker && kind !== TraceEventKind.Unknown && kind !== TraceEventKind.Lost && kind !== TraceEventKind.AllocFailed;
    return {
      kind,
      line: this.line[i]!,
      pfn: paged && key >= 0 ? key : -1,
      id: paged && key < 0 ? -1 - key : -1,
      order: this.order[i]!,
      count: kind === TraceEventKind.Lost ? key : 1,
      text,
    };
  }

  #grow(): void {
    const n = this.kind.length * 2 || 64;
    const grow = <T extends Uint8Array | Int8Array | Int32Array | Float64Array>(old: T, fresh: T): T => {
      fresh.set(old);
      return fresh;
    };
    this.kind = grow(this.kind, new Uint8Array(n));
    this.order = grow(this.order, new Int8Array(n));
    this.migratetype = grow(this.migratetype, new Int8Array(n));
    this.cpu = grow(this.cpu, new Int32Array(n));
    this.key = grow(this.key, new Float64Array(n));
    this.time = grow(this.time, new Float64Array(n));
    this.line = grow(this.line, new Float64Array(n));
  }
}
