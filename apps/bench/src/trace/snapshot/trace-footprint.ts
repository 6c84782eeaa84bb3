import type { TraceEventBatch } from "../event-batch.js";
import { TraceEventKind, type TraceRecord } from "../events.js";
import { SnapshotError, SnapshotErrorCode } from "./errors.js";

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
 * laid where it never goes) and per-zone event counts. A pfn outside every zone is a
 * {@link SnapshotError} (`ERR_SNAPSHOT_MISMATCH`) naming the trace line: the snapshot is of
 * another machine.
 *
 * Memory: one byte per pfn of the zones' span, nothing per event. Cost O(1) per event plus
 * O(2^order) per page event.
 *
 * @example
 * ```ts
 * const fp = new TraceFootprint([{ name: "DMA32", startPfn: 4096, endPfn: 262106 }], "trace.txt.gz");
 * await streamTraceBatches(path, (batch) => fp.applyBatch(batch));
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

  /** Takes one record (an allocation or free of pfns; anything else is ignored). O(2^order). */
  apply(record: TraceRecord): void {
    if (record.kind === TraceEventKind.Alloc || record.kind === TraceEventKind.Free) this.#page(record.kind === TraceEventKind.Alloc, record.pfn, record.order, record.line);
  }

  /**
   * Takes every event of a parsed batch, as {@link apply} does its records. O(events + their pages).
   *
   * @example
   * ```ts
   * await streamTraceBatches("trace.txt.gz", (batch) => footprint.applyBatch(batch));
   * ```
   */
  applyBatch(batch: TraceEventBatch): void {
    const { kind, key, order, line } = batch;
    for (let i = 0; i < batch.length; i++) {
      const k = kind[i]!;
      if (k === TraceEventKind.Alloc || k === TraceEventKind.Free) this.#page(k === TraceEventKind.Alloc, key[i]!, order[i]!, line[i]!);
    }
  }

  #page(alloc: boolean, pfn: number, order: number, line: number): void {
    if (pfn < 0) return; // mmkit-format ids: no pfns to lay out
    const size = 2 ** order;
    const zone = this.zoneOf(pfn);
    if (zone < 0 || pfn + size > this.zones[zone]!.endPfn) {
      const spans = this.zones.map((z) => `${z.name} ${z.startPfn}..${z.endPfn - 1}`).join(", ");
      throw new SnapshotError(SnapshotErrorCode.Mismatch, this.traceName, line, `pfn 0x${pfn.toString(16)} (order ${order}) lies outside the zones of the snapshot (${spans}): the snapshot is not of the traced machine`);
    }
    this.events[zone]!++;
    const pages = this.pages;
    if (alloc) {
      this.allocPages[zone]! += size;
      for (let p = pfn; p < pfn + size; p++) pages[p] = LIVE;
      return;
    }
    this.freePages[zone]! += size;
    let untouched = true;
    let freedBefore = false;
    for (let p = pfn; p < pfn + size; p++) {
      if (pages[p] !== UNTOUCHED) untouched = false;
      if (pages[p] === FREED) freedBefore = true;
    }
    if (untouched) {
      this.precapture.push(pfn, order);
      this.precapturePages[zone]! += size;
    } else if (freedBefore) this.untracedAllocFrees++;
    for (let p = pfn; p < pfn + size; p++) pages[p] = FREED;
  }

  /** True when the trace never allocated or freed `pfn`. */
  untouched(pfn: number): boolean {
    return pfn >= this.pages.length || this.pages[pfn] === UNTOUCHED;
  }
}
