import { MigrateType, type BuddyAllocator } from "@mmkit/buddy";
import { ErrorCode, MmkitError } from "@mmkit/physmem";
import type { TraceEventBatch } from "../event-batch.js";
import { TraceEventKind } from "../events.js";
import type { PageAllocator } from "../page-allocator.js";
import type { TraceParserOptions } from "../parser.js";
import { streamTraceBatches } from "../read-file.js";
import { TraceReplayer, type ReplayReport } from "../replay.js";
import type { KernelStart } from "./kernel-start.js";
import type { TraceFootprint } from "./trace-footprint.js";

/**
 * The model's migratetype for the one a trace line printed, folded as the snapshot's counts are:
 * HighAtomic (3) to Unmovable, CMA, Isolate and higher to Movable; none (-1) is Movable. O(1).
 *
 * @example
 * ```ts
 * modelMigratetype(3); // MigrateType.Unmovable
 * ```
 */
export function modelMigratetype(printed: number): MigrateType {
  if (printed === 0 || printed === 3) return MigrateType.Unmovable;
  if (printed === 2) return MigrateType.Reclaimable;
  return MigrateType.Movable;
}

/**
 * The face a replay from a kernel snapshot drives: each allocation goes through the CPU the trace
 * line names, with the migratetype it printed, preferring the zone the kernel served it from (the
 * model falls back to any other zone, the kernel's zonelist to lower zones only); each free goes through the
 * freeing CPU's lists. It counts pages allocated per zone and pages freed, as vmstat's `pgalloc_*`
 * and `pgfree` do. Before the first event it hands the replayer the pre-capture blocks at their own
 * pfns (`expect`), so the replayer holds them live and a traced free of one frees it in the model.
 * O(1) per call beyond the allocator's own cost.
 *
 * @example
 * ```ts
 * const face = new KernelModelFace(start.buddy, footprint);
 * face.at(pfn, migratetype, cpu); replayer.applyBatch(batch, i, i + 1);
 * ```
 */
export class KernelModelFace implements PageAllocator {
  /** Pages the model allocated in each zone (node), and freed. */
  readonly pgalloc: number[];
  pgfree = 0;
  readonly #buddy: BuddyAllocator;
  readonly #footprint: TraceFootprint;
  #expected = -1;
  #expectedOrder = -1;
  /** The event being replayed: its trace pfn (-1: none), printed migratetype and CPU (-1: not said). */
  #pfn = -1;
  #migratetype = -1;
  #cpuNamed = -1;

  constructor(buddy: BuddyAllocator, footprint: TraceFootprint) {
    this.#buddy = buddy;
    this.#footprint = footprint;
    this.pgalloc = footprint.zones.map(() => 0);
  }

  /** The next `allocPages(order)` returns `pfn` without allocating: a block the start already holds. */
  expect(pfn: number, order: number): void {
    this.#expected = pfn;
    this.#expectedOrder = order;
  }

  /** Names the event the next calls serve: its trace pfn, the migratetype its line printed and its CPU (-1 for none). O(1). */
  at(pfn: number, migratetype: number, cpu: number): void {
    this.#pfn = pfn;
    this.#migratetype = migratetype;
    this.#cpuNamed = cpu;
  }

  #cpu(): number {
    const cpu = this.#cpuNamed;
    return cpu < 0 ? 0 : cpu % this.#buddy.cpus;
  }

  allocPages(order: number): number {
    if (this.#expected >= 0) {
      const pfn = this.#expected;
      if (order !== this.#expectedOrder) throw new MmkitError(ErrorCode.Invariant, `the pre-capture block at pfn ${pfn} has order ${this.#expectedOrder}, the replayer asked for order ${order}`);
      this.#expected = -1;
      return pfn;
    }
    const migratetype = modelMigratetype(this.#migratetype);
    const zone = this.#pfn < 0 ? -1 : this.#footprint.zoneOf(this.#pfn);
    const options = zone < 0 ? { migratetype } : { migratetype, node: zone };
    const pfn = this.#buddy.cpu(this.#cpu()).allocPages(order, options);
    if (pfn >= 0) this.pgalloc[this.#footprint.zoneOf(pfn)]! += 2 ** order;
    return pfn;
  }

  freePages(pfn: number, order: number): void {
    this.#buddy.cpu(this.#cpu()).freePages(pfn, order);
    this.pgfree += 2 ** order;
  }
}

/** What a replay from the snapshot produced. */
export interface KernelReplay {
  report: ReplayReport;
  face: KernelModelFace;
  /** Pre-capture blocks registered before the first event (they appear in `report` as allocations at line 0). */
  preludeAllocs: number;
}

/**
 * Replays a trace on the machine `start` built: the pre-capture blocks first (as live allocations
 * at their own pfns), then every event, streamed from the file at `trace`, or from a batch holding
 * the whole trace. O(events).
 *
 * @example
 * ```ts
 * const { report, face } = await replayFromKernelStart(path, {}, start, footprint);
 * ```
 */
export async function replayFromKernelStart(trace: string | TraceEventBatch, parse: TraceParserOptions, start: KernelStart, footprint: TraceFootprint): Promise<KernelReplay> {
  const face = new KernelModelFace(start.buddy, footprint);
  const replayer = new TraceReplayer(face);
  const pre = start.precapture;
  for (let i = 0; i < pre.length; i += 2) {
    face.expect(pre[i]!, pre[i + 1]!);
    replayer.apply({ kind: TraceEventKind.Alloc, line: 0, pfn: pre[i]!, id: -1, order: pre[i + 1]!, count: 1, text: "" });
  }
  const replay = (batch: TraceEventBatch): void => {
    const { kind, key, migratetype, cpu } = batch;
    for (let i = 0; i < batch.length; i++) {
      const k = kind[i]!;
      face.at(k === TraceEventKind.Alloc || k === TraceEventKind.Free ? key[i]! : -1, migratetype[i]!, cpu[i]!);
      replayer.applyBatch(batch, i, i + 1);
    }
  };
  if (typeof trace === "string") await streamTraceBatches(trace, replay, parse);
  else replay(trace);
  face.at(-1, -1, -1);
  return { report: replayer.report(), face, preludeAllocs: pre.length / 2 };
}
