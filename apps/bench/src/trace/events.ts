/**
 * What a parsed trace is made of: one small {@link TraceRecord} per event line, whatever the
 * format (ftrace, trace-cmd report, perf script, function-graph comments, mmkit's own line format).
 */

/**
 * The kinds of event a trace line can be. Only {@link TraceEventKind.Alloc} and
 * {@link TraceEventKind.Free} are operations on the allocator; the others are counted and reported.
 *
 * | kind | kernel event(s) | meaning for replay |
 * | --- | --- | --- |
 * | `Alloc` | `mm_page_alloc` (page not NULL), mmkit `alloc` | a user allocation of 2^order pages |
 * | `AllocFailed` | `mm_page_alloc` with `page=(null)` | the traced kernel failed an allocation |
 * | `Free` | `mm_page_free`, `mm_page_free_direct` (before 3.3), mmkit `free` | a user free |
 * | `FreeBatched` | `mm_page_free_batched`, `mm_pagevec_free` (before 3.3) | annotation of a free already traced |
 * | `PcpuDrain` | `mm_page_pcpu_drain` | pages moving from a per-CPU list back to the buddy lists |
 * | `ZoneLocked` | `mm_page_alloc_zone_locked` | pages taken from the buddy lists under the zone lock (often a per-CPU refill) |
 * | `ExtFrag` | `mm_page_alloc_extfrag` | an allocation fell back to another migratetype's pageblock |
 * | `Marker` | `tracing_mark_write`, ftrace `print`, a function-graph `/* text *\/` comment, mmkit `phase`/`mark` | user annotation (`PHASE <name>` starts a phase) |
 * | `Unknown` | any other event | counted by name |
 * | `Lost` | `CPU:n [LOST k EVENTS]` | the ring buffer dropped `count` events |
 *
 * @example
 * ```ts
 * if (record.kind === TraceEventKind.Alloc) allocs[record.order]++;
 * ```
 */
export const TraceEventKind = {
  Alloc: 0,
  AllocFailed: 1,
  Free: 2,
  FreeBatched: 3,
  PcpuDrain: 4,
  ZoneLocked: 5,
  ExtFrag: 6,
  Marker: 7,
  Unknown: 8,
  Lost: 9,
} as const;

/** One of {@link TraceEventKind}'s values. */
export type TraceEventKind = (typeof TraceEventKind)[keyof typeof TraceEventKind];

/**
 * Report names of the kinds, indexed by kind (`TRACE_EVENT_KIND_NAMES[TraceEventKind.Free] === "free"`).
 *
 * @example
 * ```ts
 * console.log(TRACE_EVENT_KIND_NAMES[record.kind]); // "alloc"
 * ```
 */
export const TRACE_EVENT_KIND_NAMES = [
  "alloc",
  "allocFailed",
  "free",
  "freeBatched",
  "pcpuDrain",
  "zoneLocked",
  "extfrag",
  "marker",
  "unknown",
  "lost",
] as const;

/** A name of {@link TRACE_EVENT_KIND_NAMES}. */
export type TraceEventKindName = (typeof TRACE_EVENT_KIND_NAMES)[number];

/** Highest order a trace may name: 2^30 pages (4 TiB of 4 KiB pages) is far above any kernel's MAX_PAGE_ORDER. */
export const MAX_TRACE_ORDER = 30;

/**
 * One event of a trace. Records are small, immutable and not retained by the parser or the
 * replayer; a parser yields one per event line.
 *
 * Field use by kind:
 * - `pfn`: the page frame number for kernel page events; -1 for mmkit-format events, markers,
 *   unknown and lost events, and failed allocations.
 * - `id`: for mmkit-format `alloc`/`free`, the allocation's id as a number (the parser numbers ids
 *   in order of first use); -1 otherwise. Exactly one of `pfn` and `id` is >= 0 for alloc/free.
 * - `order`: the order (`ExtFrag`: `alloc_order`); -1 when the event has none (an mmkit
 *   `free <id>` without `order=` frees "whatever was allocated").
 * - `count`: how many events the record stands for: 1, or `k` for a `Lost` record.
 * - `text`: the marker text (`Marker`), the event name (`Unknown`), the CPU (`Lost`), else "".
 *
 * @example
 * ```ts
 * const r: TraceRecord = { kind: TraceEventKind.Alloc, line: 14, pfn: 0x1baa, id: -1, order: 1, count: 1, text: "" };
 * ```
 */
export interface TraceRecord {
  readonly kind: TraceEventKind;
  /** 1-based line number in the input. */
  readonly line: number;
  readonly pfn: number;
  readonly id: number;
  readonly order: number;
  readonly count: number;
  readonly text: string;
}
