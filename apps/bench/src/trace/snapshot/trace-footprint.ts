import { TraceEventKind, type TraceRecord } from "../events.js";
import { SnapshotError, SnapshotErrorCode } from "./errors.js";
import { allocAttributes } from "./trace-lines.js";

/** A zone's pfn span, for placing trace pfns. */
export interface ZoneSpan {
  name: string;
  startPfn: number;
  /** One past the last pfn. */
  endPfn: number;
}

const UNTOUCHED = 0;
const LIVE = 1;
const FREED = 2;

/**
 * What a kernel trace says about the machine before its first event, read in one pass before the
 * replay: the blocks it frees that it never allocated (pages that belonged to "before the capture",
 * which the starting state must hold allocated at those pfns), the pfns it touches (so holes are
 * laid where it never goes), per-zone event counts, and each allocation's migratetype and CPU
 * (kept per line in a typed array, for the replay). A pfn outside every zone is a
 * {@link SnapshotError} (`ERR_SNAPSHOT_MISMATCH`) naming the trace line: the snapshot is of
 * another machine.
 *
 * Memory: one byte per pfn of the zones' span and two per trace line. Cost O(1) per record plus
 * O(2^order) per page event.
 *
 * @example
 * ```ts
 * const fp = new TraceFootprint([{ name: "DMA32", startPfn: 4096, endPfn: 262106 }], "trace.txt.gz");
 * await streamTraceLines(path, {}, (r, text) => fp.apply(r, text));
 * fp.precapture; // [pfn, order, pfn, order, ...]
 * ```
 */
export class TraceFootprint {
  readonly zones: readonly ZoneSpan[];
  readonly traceName: string;
  /** State of each pfn below the highest zone end: untouched, live in the trace, freed in the trace. */
  readonly pages: Uint8Array;
  /** Blocks freed before the trace allocated any of their pages, as [pfn, order] pairs, in trace order. */
  readonly precapture: number[] = [];
  /** Pages of those blocks per zone. */
  readonly precapturePages: number[];
  /** Allocations, frees (alloc + free events) per zone. */
  readonly events: number[];
  /** Pages allocated and freed by the trace per zone. */
  readonly allocPages: number[];
  readonly freePages: number[];
  /** Frees of pages the trace had already freed (their allocation was not traced). */
  untracedAllocFrees = 0;
  #attrs = new Uint16Array(1024);

  constructor(zones: readonly ZoneSpan[], traceName: string) {
    this.zones = zones;
    this.traceName = traceName;
    this.pages = new Uint8Array(Math.max(0, ...zones.map((z) => z.endPfn)));
    this.precapturePages = zones.map(() => 0);
    this.events = zones.map(() => 0);
    this.allocPages = zones.map(() => 0);
    this.freePages = zones.map(() => 0);
  }

  /** Index of the zone holding `pfn`, or -1. O(zones). */
  zoneOf(pfn: number): number {
    for (let i = 0; i < this.zones.length; i++) if (pfn >= this.zones[i]!.startPfn && pfn < this.zones[i]!.endPfn) return i;
    return -1;
  }

  /** Migratetype the trace printed for the allocation on `line` (-1: not said). */
  migratetype(line: number): number {
    const a = line < this.#attrs.length ? this.#attrs[line]! : 0;
    return (a & 3) - 1;
  }

  /** CPU column of the allocation or free on `line` (-1: not said). */
  cpu(line: number): number {
    const a = line < this.#attrs.length ? this.#attrs[line]! : 0;
    return a === 0 ? -1 : (a >> 2) - 1;
  }

  /** Takes one record (and its raw line, for the migratetype and CPU). */
  apply(record: TraceRecord, text: string): void {
    if (record.kind !== TraceEventKind.Alloc && record.kind !== TraceEventKind.Free) return;
    if (record.pfn < 0) return; // mmkit-format ids: no pfns to lay out
    const size = 2 ** record.order;
    const zone = this.zoneOf(record.pfn);
    if (zone < 0 || record.pfn + size > this.zones[zone]!.endPfn) {
      const spans = this.zones.map((z) => `${z.name} ${z.startPfn}..${z.endPfn - 1}`).join(", ");
      throw new SnapshotError(SnapshotErrorCode.Mismatch, this.traceName, record.line, `pfn 0x${record.pfn.toString(16)} (order ${record.order}) lies outside the zones of the snapshot (${spans}): the snapshot is not of the traced machine`);
    }
    this.events[zone]!++;
    const pages = this.pages;
    if (record.kind === TraceEventKind.Alloc) {
      this.allocPages[zone]! += size;
      for (let p = record.pfn; p < record.pfn + size; p++) pages[p] = LIVE;
      const { migratetype, cpu } = allocAttributes(text);
      if (migratetype >= 0 || cpu >= 0) this.#setAttr(record.line, (migratetype + 1) | ((Math.min(Math.max(cpu, 0), 16000) + 1) << 2));
      return;
    }
    this.freePages[zone]! += size;
    const { cpu } = allocAttributes(text);
    if (cpu >= 0) this.#setAttr(record.line, (Math.min(cpu, 16000) + 1) << 2);
    let untouched = true;
    let freedBefore = false;
    for (let p = record.pfn; p < record.pfn + size; p++) {
      if (pages[p] !== UNTOUCHED) untouched = false;
      if (pages[p] === FREED) freedBefore = true;
    }
    if (untouched) {
      this.precapture.push(record.pfn, record.order);
      this.precapturePages[zone]! += size;
    } else if (freedBefore) this.untracedAllocFrees++;
    for (let p = record.pfn; p < record.pfn + size; p++) pages[p] = FREED;
  }

  /** True when the trace never allocated or freed `pfn`. */
  untouched(pfn: number): boolean {
    return pfn >= this.pages.length || this.pages[pfn] === UNTOUCHED;
  }

  #setAttr(line: number, value: number): void {
    if (line >= this.#attrs.length) {
      const a = new Uint16Array(Math.max(line + 1, this.#attrs.length * 2));
      a.set(this.#attrs);
      this.#attrs = a;
    }
    this.#attrs[line] = value;
  }
}
