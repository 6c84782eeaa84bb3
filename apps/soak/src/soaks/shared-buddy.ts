import { SharedBuddy, type CpuPages } from "@mmkit/buddy";
import type { Op, Soak, SoakInstance } from "../soak.js";
import { holds, LivePicker, PageOwners, refused, same, TWO_NODE_PAGES, twoNodeMap } from "./support.js";

const CPUS = 3;

const KINDS = [
  { name: "alloc", weight: 8 },
  { name: "free", weight: 7 },
  { name: "drain-cpu", weight: 1 },
  { name: "reattach", weight: 1 },
  { name: "misuse", weight: 1 },
] as const;

/** Everything observable that a refused call must leave as it was. */
function observable(b: SharedBuddy): string {
  return `${b.freePageCount()} ${b.perCpuPageCount()} ${JSON.stringify(b.counters())} ${JSON.stringify(b.buddyinfo())}`;
}

/**
 * The shared buddy, deterministically: three instances attached to one `SharedArrayBuffer` in this
 * thread, as three workers would be, each owning one CPU front. Blocks are freed through any front
 * (so they land on another CPU's list) or the zone-lock path; an instance detaches or "dies" (is
 * dropped, and `recoverFrom` its owner id frees its CPU) and a new one attaches and claims the CPU
 * with the pages still on its lists. The threaded version of this run is `pnpm --filter
 * @mmkit/buddy soak:shared` (worker threads, so not replayable op by op).
 */
class SharedBuddySoak implements SoakInstance {
  readonly creator: SharedBuddy;
  readonly instances: SharedBuddy[] = [];
  readonly fronts: CpuPages[] = [];
  readonly owners = new PageOwners(TWO_NODE_PAGES);
  readonly live = new LivePicker<[pfn: number, order: number, id: number]>();
  readonly freed = new LivePicker<[pfn: number, order: number]>();
  #id = 0;

  constructor(seed: number) {
    const map = twoNodeMap();
    // The seed's low bit picks the zone lock, so both kinds are soaked across seeds.
    this.creator = SharedBuddy.create(map, { maxOrder: 6, pageblockOrder: 4, cpus: CPUS, pcpBatch: 7, pcpHigh: 31, minFreeKbytes: 64, lock: (seed & 1) === 0 ? "mutex" : "spin" });
    for (let c = 0; c < CPUS; c++) this.#attach(c);
  }

  #attach(cpu: number): void {
    const instance = SharedBuddy.attach(structuredClone(this.creator.handle));
    this.instances[cpu] = instance;
    this.fronts[cpu] = instance.claimCpu(cpu);
  }

  /** A front, or -1: the zone-lock path of the creator. */
  #pages(who: number): { allocPages(order: number): number; freePages(pfn: number, order: number): void } {
    return who < 0 ? this.creator : this.fronts[who]!;
  }

  step(op: Op, log?: string[]): void {
    const b = this.creator;
    switch (KINDS[op.kind]!.name) {
      case "alloc": {
        const order = op.a % 7 > 4 ? op.a % 7 : op.a % 4;
        const who = (op.b % (CPUS + 1)) - 1;
        log?.push(`alloc order ${order} ${who >= 0 ? `on cpu ${who}` : "under the zone lock"}`);
        const pfn = this.#pages(who).allocPages(order);
        if (log) log[log.length - 1] += ` -> ${pfn}`;
        if (pfn < 0) return;
        holds(pfn % 2 ** order === 0, `pfn ${pfn} is not aligned to order ${order}`);
        const id = ++this.#id;
        this.owners.take(pfn, 2 ** order, id);
        this.live.add([pfn, order, id]);
        return;
      }
      case "free": {
        const item = this.live.take(op.a);
        if (item === undefined) return;
        const [pfn, order, id] = item;
        const who = (op.b % (CPUS + 1)) - 1;
        log?.push(`free pfn ${pfn} order ${order} ${who >= 0 ? `on cpu ${who}` : "under the zone lock"}`);
        this.owners.give(pfn, 2 ** order, id);
        this.#pages(who).freePages(pfn, order);
        this.freed.add([pfn, order]);
        if (this.freed.size > 64) this.freed.take(op.b);
        return;
      }
      case "drain-cpu": {
        const cpu = op.a % CPUS;
        log?.push(`drain cpu ${cpu}`);
        this.fronts[cpu]!.drain();
        return;
      }
      case "reattach": {
        // A worker leaves (detach) or dies (dropped; a survivor recovers its CPU); a new one takes the CPU and its lists.
        const cpu = op.a % CPUS;
        const old = this.instances[cpu]!;
        const dies = (op.b & 1) === 1;
        log?.push(`cpu ${cpu}'s instance ${dies ? "dies" : "detaches"}; a new one attaches`);
        if (dies) same(JSON.stringify(b.recoverFrom(old.owner)), JSON.stringify({ lockBroken: false, cpus: [cpu] }), "what recoverFrom freed");
        else old.detach();
        this.#attach(cpu);
        return;
      }
      case "misuse": {
        const kind = op.a % 2;
        const target = kind === 0 ? this.freed.peek(op.b) : this.live.peek(op.b);
        if (target === undefined) return;
        const [pfn, order] = target;
        const who = (op.b % (CPUS + 1)) - 1;
        if (kind === 0) {
          if (this.owners.owner(pfn) !== 0) return;
          log?.push(`double free of pfn ${pfn} order ${order}`);
          refused(() => this.#pages(who).freePages(pfn, order), ["ERR_DOUBLE_FREE", "ERR_NOT_ALLOCATED", "ERR_WRONG_SIZE"], () => observable(b), `double free of pfn ${pfn}`);
        } else {
          log?.push(`free of pfn ${pfn} at order ${order + 1} (allocated at ${order})`);
          refused(() => this.#pages(who).freePages(pfn, order + 1), ["ERR_WRONG_SIZE", "ERR_NOT_ALIGNED", "ERR_OUT_OF_RANGE"], () => observable(b), `free of pfn ${pfn} at the wrong order`);
        }
        return;
      }
    }
  }

  check(): void {
    this.creator.check();
    same(this.creator.allocatedPageCount(), this.owners.owned, "allocated pages");
  }

  drain(): void {
    const b = this.creator;
    for (const [pfn, order, id] of this.live.takeAll()) {
      this.owners.give(pfn, 2 ** order, id);
      b.freePages(pfn, order);
    }
    for (const front of this.fronts) front.drain();
    b.check();
    same(b.perCpuPageCount(), 0, "pages on per-CPU lists after every CPU drained");
    same(b.freePageCount(), b.managedPages(), "free pages after the final drain (every page back)");
    const c = b.counters();
    same(c.allocs - c.frees, 0, "allocations less frees in the shared counters");
  }
}

/** The shared buddy: three instances on one SharedArrayBuffer in one thread, cross-CPU frees, the zone-lock path, detach/death and re-attach, refused misuse. */
export const sharedBuddySoak: Soak = {
  name: "shared-buddy",
  package: "buddy",
  description: "SharedBuddy: 3 instances on one SharedArrayBuffer (as 3 workers), orders 0-6 through their CPU fronts and the zone lock, cross-CPU frees, detach/death and re-attach, double/wrong-order frees refused",
  defaultOps: 1_000_000,
  kinds: KINDS,
  create: (seed) => new SharedBuddySoak(seed),
};
