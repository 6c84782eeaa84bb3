import { BuddyAllocator, MigrateType, type PageMover } from "@mmkit/buddy";
import type { Op, Soak, SoakInstance } from "../soak.js";
import { holds, LivePicker, PageOwners, refused, same, toggleFaults, TWO_NODE_PAGES, twoNodeMap } from "./support.js";

const KINDS = [
  { name: "alloc", weight: 8 },
  { name: "free", weight: 7 },
  { name: "drain-cpu", weight: 1 },
  { name: "drain-all", weight: 1 },
  { name: "faults", weight: 1 },
  { name: "misuse", weight: 1 },
  { name: "contig", weight: 1 },
  { name: "contig-free", weight: 1 },
] as const;

/** The RAM ranges of {@link twoNodeMap} (the last two on different nodes): a contiguous range must lie in one. */
const RANGES: readonly (readonly [number, number])[] = [
  [0, 2000],
  [2048, 3100],
  [3100, TWO_NODE_PAGES],
];

/** Everything observable about the allocator that a refused call must leave as it was. */
function observable(b: BuddyAllocator): string {
  return `${b.freePageCount()} ${b.perCpuPageCount()} ${b.allocatedPageCount()} ${JSON.stringify(b.counters())} ${b.freeLists().map((l) => l.pfns.length).join(",")}`;
}

class BuddySoak implements SoakInstance {
  readonly buddy: BuddyAllocator;
  readonly owners = new PageOwners(TWO_NODE_PAGES);
  readonly live = new LivePicker<[pfn: number, order: number, id: number]>();
  /** Live Movable blocks by pfn: what the mover owns and may move (the tuple is the live list's, moved in place). */
  readonly movable = new Map<number, [pfn: number, order: number, id: number]>();
  /** Ranges taken by allocContigRange. */
  readonly contig = new LivePicker<[pfn: number, count: number, id: number]>();
  /** The page owner compaction-style moves go through: it keeps `movable`, `live` and `owners` in step. */
  readonly mover: PageMover = {
    isMovable: (pfn) => this.movable.has(pfn),
    migrate: (from, to, order) => {
      const item = this.movable.get(from);
      holds(item !== undefined && item[1] === order, `asked to move pfn ${from} (order ${order}), which the soak does not hold as Movable`);
      this.owners.give(from, 2 ** order, item![2]);
      this.owners.take(to, 2 ** order, item![2]);
      item![0] = to;
      this.movable.delete(from);
      this.movable.set(to, item!);
      return true;
    },
    holds: (pfn) => this.movable.has(pfn),
  };
  readonly freed = new LivePicker<[pfn: number, order: number]>();
  readonly seed: number;
  #id = 0;

  constructor(seed: number) {
    this.seed = seed;
    const map = twoNodeMap();
    this.buddy = new BuddyAllocator(map, { maxOrder: 6, pageblockOrder: 4, cpus: 2, pcpBatch: 7, pcpHigh: 31, minFreeKbytes: 64 });
  }

  step(op: Op, log?: string[]): void {
    const b = this.buddy;
    switch (KINDS[op.kind]!.name) {
      case "alloc": {
        const order = op.a % 7 > 4 ? op.a % 7 : op.a % 4; // mostly 0..3 (the per-CPU fronts), some 4..6
        const cpu = (op.b % 3) - 1; // -1: straight to the free lists
        const atomic = (op.b & 4) !== 0;
        const mt = (op.b >>> 3) % 3;
        log?.push(`alloc order ${order} ${cpu >= 0 ? `on cpu ${cpu}` : "from the free lists"} mt ${mt}${atomic ? " atomic" : ""}`);
        const pfn = cpu >= 0 ? b.cpu(cpu).allocPages(order, { migratetype: mt as 0 | 1 | 2, atomic }) : b.allocPages(order, { migratetype: mt as 0 | 1 | 2, atomic });
        if (log) log[log.length - 1] += ` -> ${pfn}`;
        if (pfn < 0) return;
        holds(pfn % 2 ** order === 0, `pfn ${pfn} is not aligned to order ${order}`);
        const id = ++this.#id;
        this.owners.take(pfn, 2 ** order, id);
        const item: [number, number, number] = [pfn, order, id];
        this.live.add(item);
        if (mt === MigrateType.Movable) this.movable.set(pfn, item);
        return;
      }
      case "free": {
        const item = this.live.take(op.a);
        if (item === undefined) return;
        const [pfn, order, id] = item;
        this.movable.delete(pfn);
        const cpu = (op.b % 3) - 1;
        log?.push(`free pfn ${pfn} order ${order} ${cpu >= 0 ? `on cpu ${cpu}` : "to the free lists"}`);
        this.owners.give(pfn, 2 ** order, id);
        if (cpu >= 0) b.cpu(cpu).freePages(pfn, order);
        else b.freePages(pfn, order);
        this.freed.add([pfn, order]);
        if (this.freed.size > 64) this.freed.take(op.b);
        return;
      }
      case "drain-cpu":
        log?.push(`drain cpu ${op.a & 1}`);
        b.cpu(op.a & 1).drain();
        return;
      case "drain-all":
        log?.push("drain all");
        b.drainAll();
        return;
      case "faults": {
        // fail_page_alloc: on (10-50 %, every order) or off.
        toggleFaults(b, op, log, "fault injection");
        return;
      }
      case "misuse": {
        // A double free of a freed block (unless it went out again), a wrong order, a middle page.
        const kind = op.a % 3;
        const target = kind === 0 ? this.freed.peek(op.b) : this.live.peek(op.b);
        if (target === undefined) return;
        const [pfn, order] = target;
        if (kind === 0) {
          if (this.owners.owner(pfn) !== 0) return;
          log?.push(`double free of pfn ${pfn} order ${order}`);
          refused(() => b.freePages(pfn, order), ["ERR_DOUBLE_FREE", "ERR_NOT_ALLOCATED", "ERR_WRONG_SIZE"], () => observable(b), `double free of pfn ${pfn}`);
        } else if (kind === 1) {
          log?.push(`free of pfn ${pfn} at order ${order + 1} (allocated at ${order})`);
          refused(() => b.freePages(pfn, order + 1), ["ERR_WRONG_SIZE", "ERR_NOT_ALIGNED", "ERR_OUT_OF_RANGE"], () => observable(b), `free of pfn ${pfn} at the wrong order`);
        } else if (order > 0) {
          log?.push(`free of pfn ${pfn + 1}, inside the block at ${pfn}`);
          refused(() => b.freePages(pfn + 1, 0), ["ERR_NOT_ALLOCATED", "ERR_NOT_ALIGNED"], () => observable(b), `free of pfn ${pfn + 1} inside a block`);
        }
        if ((op.b & 8) !== 0) {
          // A live block that allocContigRange did not take, given to freeContigRange.
          log?.push(`freeContigRange of pfn ${pfn} (allocated by allocPages)`);
          refused(() => b.freeContigRange(pfn, 1), ["ERR_NOT_ALLOCATED"], () => observable(b), `freeContigRange of pfn ${pfn}`);
        }
        return;
      }
      case "contig": {
        // alloc_contig_range at a random place: across a hole or node it is refused, else taken or -1.
        // Half the time from a live Movable block on (so that there is something to migrate), else anywhere.
        const near = (op.b & 1) !== 0 && this.movable.size > 0 ? [...this.movable.values()][op.a % this.movable.size]! : null;
        const start = near !== null ? near[0] : op.a % TWO_NODE_PAGES;
        const count = near !== null ? 1 + ((op.b >>> 1) % (2 ** near[1] + 8)) : 1 + ((op.b >>> 1) % 96);
        const inOne = RANGES.some(([lo, hi]) => start >= lo && start + count <= hi);
        log?.push(`allocContigRange ${count} pages at pfn ${start}`);
        if (!inOne) {
          refused(() => b.allocContigRange(start, count, this.mover), ["ERR_NOT_RAM", "ERR_INVALID_ARGUMENT"], () => observable(b), `allocContigRange of ${count} pages at pfn ${start}`);
          return;
        }
        const got = b.allocContigRange(start, count, this.mover);
        if (log) log[log.length - 1] += ` -> ${got}${got < 0 ? ` (${b.lastContigFailure?.reason} at pfn ${b.lastContigFailure?.pfn})` : ""}`;
        if (got < 0) return;
        same(got, start, "allocContigRange's result");
        const id = ++this.#id;
        this.owners.take(start, count, id);
        this.contig.add([start, count, id]);
        return;
      }
      case "contig-free": {
        const item = this.contig.take(op.a);
        if (item === undefined) return;
        const [start, count, id] = item;
        log?.push(`freeContigRange ${count} pages at pfn ${start}`);
        this.owners.give(start, count, id);
        b.freeContigRange(start, count);
        return;
      }
    }
  }

  check(): void {
    this.buddy.check();
    same(this.buddy.allocatedPageCount(), this.owners.owned, "allocated pages");
  }

  drain(): void {
    const b = this.buddy;
    b.setFaultInjection(null);
    for (const [pfn, order, id] of this.live.takeAll()) {
      this.owners.give(pfn, 2 ** order, id);
      b.freePages(pfn, order);
    }
    this.movable.clear();
    for (const [start, count, id] of this.contig.takeAll()) {
      this.owners.give(start, count, id);
      b.freeContigRange(start, count);
    }
    b.drainAll();
    b.check();
    same(b.perCpuPageCount(), 0, "pages on per-CPU lists after drainAll");
    same(b.freePageCount(), b.managedPages(), "free pages after the final drain (every page back)");
  }
}

/** The buddy allocator: alloc/free through both CPUs' fronts and the free lists, drains, fail_page_alloc on and off, contiguous ranges taken (migrating Movable blocks) and freed, refused misuse. */
export const buddySoak: Soak = {
  name: "buddy",
  package: "buddy",
  description: "BuddyAllocator over two nodes with a hole: orders 0-6 through per-CPU fronts and free lists, drains, fail_page_alloc 10-50 %, allocContigRange/freeContigRange with Movable blocks migrated, double/wrong-order/middle frees refused",
  defaultOps: 12_000_000,
  kinds: KINDS,
  create: (seed) => new BuddySoak(seed),
};
