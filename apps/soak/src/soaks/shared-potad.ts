import { SharedPotad, type SharedPotadFront } from "@mmkit/potad";
import type { Op, Soak, SoakInstance } from "../soak.js";
import { holds, LivePicker, PageOwners, refused, same } from "./support.js";

const CPUS = 3;
const GRANULE = 4096;
const GRANULES = 4096;

const KINDS = [
  { name: "alloc", weight: 8 },
  { name: "free", weight: 7 },
  { name: "drain-cpu", weight: 1 },
  { name: "reattach", weight: 1 },
  { name: "misuse", weight: 1 },
] as const;

/** Everything observable that a refused call must leave as it was. */
function observable(p: SharedPotad): string {
  return `${JSON.stringify(p.stats(0))} ${JSON.stringify(p.counters())}`;
}

/**
 * The shared POTAD, deterministically: three instances attached to one `SharedArrayBuffer` in this
 * thread, as three workers would be, each owning one CPU's fronts. Blocks of orders 0..6 are
 * allocated and freed through any front (so they land on another CPU's front) or the zone-lock
 * path; an instance detaches or "dies" (is dropped, and `recoverFrom` its owner id frees its CPU)
 * and a new one attaches and claims the CPU with the blocks still on its fronts. The threaded
 * version of this run is `pnpm --filter @mmkit/potad soak:shared` (worker threads, so not
 * replayable op by op).
 */
class SharedPotadSoak implements SoakInstance {
  readonly creator: SharedPotad;
  readonly instances: SharedPotad[] = [];
  readonly fronts: SharedPotadFront[] = [];
  readonly owners = new PageOwners(GRANULES);
  readonly live = new LivePicker<[granule: number, order: number, id: number]>();
  readonly freed = new LivePicker<[granule: number, order: number]>();
  #id = 0;

  constructor(seed: number) {
    // The seed's low bit picks the zone lock, so both kinds are soaked across seeds.
    this.creator = SharedPotad.create({ spaces: [{ base: 0, size: GRANULES * GRANULE, granule: GRANULE }], cpus: CPUS, frontHigh: 12, frontBatch: 4, lock: (seed & 1) === 0 ? "mutex" : "spin" });
    for (let c = 0; c < CPUS; c++) this.#attach(c);
  }

  #attach(cpu: number): void {
    const instance = SharedPotad.attach(structuredClone(this.creator.handle));
    this.instances[cpu] = instance;
    this.fronts[cpu] = instance.claimCpu(cpu);
  }

  /** A front, or -1: the zone-lock path of the creator. */
  #via(who: number): { allocOrder(space: number, order: number): number; free(address: number, expectedSize?: number): void } {
    return who < 0 ? this.creator : this.fronts[who]!;
  }

  step(op: Op, log?: string[]): void {
    const p = this.creator;
    switch (KINDS[op.kind]!.name) {
      case "alloc": {
        const order = op.a % 9 > 6 ? op.a % 9 - 3 : op.a % 4;
        const who = (op.b % (CPUS + 1)) - 1;
        log?.push(`alloc order ${order} ${who >= 0 ? `on cpu ${who}` : "under the zone lock"}`);
        const address = this.#via(who).allocOrder(0, order);
        if (log) log[log.length - 1] += ` -> ${address}`;
        if (address < 0) return;
        const g = address / GRANULE;
        holds(g % 2 ** order === 0, `address ${address} is not aligned to order ${order}`);
        const id = ++this.#id;
        this.owners.take(g, 2 ** order, id);
        this.live.add([g, order, id]);
        return;
      }
      case "free": {
        const item = this.live.take(op.a);
        if (item === undefined) return;
        const [g, order, id] = item;
        const who = (op.b % (CPUS + 1)) - 1;
        log?.push(`free granule ${g} order ${order} ${who >= 0 ? `on cpu ${who}` : "under the zone lock"}`);
        this.owners.give(g, 2 ** order, id);
        this.#via(who).free(g * GRANULE, (op.b & 4) === 0 ? undefined : GRANULE * 2 ** order);
        this.freed.add([g, order]);
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
        // A worker leaves (detach) or dies (dropped; a survivor recovers its CPU); a new one takes the CPU and its fronts.
        const cpu = op.a % CPUS;
        const old = this.instances[cpu]!;
        const dies = (op.b & 1) === 1;
        log?.push(`cpu ${cpu}'s instance ${dies ? "dies" : "detaches"}; a new one attaches`);
        if (dies) same(JSON.stringify(p.recoverFrom(old.owner)), JSON.stringify({ lockBroken: false, cpus: [cpu] }), "what recoverFrom freed");
        else old.detach();
        this.#attach(cpu);
        return;
      }
      case "misuse": {
        const kind = op.a % 2;
        const target = kind === 0 ? this.freed.peek(op.b) : this.live.peek(op.b);
        if (target === undefined) return;
        const [g, order] = target;
        const who = (op.b % (CPUS + 1)) - 1;
        if (kind === 0) {
          if (this.owners.owner(g) !== 0) return;
          log?.push(`double free of granule ${g} order ${order}`);
          refused(() => this.#via(who).free(g * GRANULE), ["ERR_DOUBLE_FREE", "ERR_NOT_ALLOCATED"], () => observable(p), `double free of granule ${g}`);
        } else {
          log?.push(`free of granule ${g} as ${GRANULE * 2 ** (order + 1)} bytes (allocated at order ${order})`);
          refused(() => this.#via(who).free(g * GRANULE, GRANULE * 2 ** (order + 1)), ["ERR_WRONG_SIZE"], () => observable(p), `free of granule ${g} at the wrong size`);
        }
        return;
      }
    }
  }

  check(): void {
    this.creator.check();
    same(this.creator.stats(0).allocatedBytes, this.owners.owned * GRANULE, "allocated bytes");
  }

  drain(): void {
    const p = this.creator;
    for (const [g, order, id] of this.live.takeAll()) {
      this.owners.give(g, 2 ** order, id);
      p.free(g * GRANULE);
    }
    for (const front of this.fronts) front.drain();
    p.check();
    const stats = p.stats(0);
    same(stats.cachedBlocks, 0, "blocks on the fronts after every CPU drained");
    same(stats.freeBytes, GRANULES * GRANULE, "free bytes after the final drain (every byte back)");
    same(stats.freeBlocks, 1, "free blocks after the final drain (all merged into one)");
    const c = p.counters();
    same(c.allocs - c.frees, 0, "allocations less frees in the shared counters");
  }
}

/** The shared POTAD: three instances on one SharedArrayBuffer in one thread, cross-CPU frees, the zone-lock path, detach/death and re-attach, refused misuse. */
export const sharedPotadSoak: Soak = {
  name: "shared-potad",
  package: "potad",
  description: "SharedPotad: 3 instances on one SharedArrayBuffer (as 3 workers), orders 0-6 through their CPU fronts and the zone lock, cross-CPU frees, detach/death and re-attach, double/wrong-size frees refused",
  defaultOps: 500_000,
  kinds: KINDS,
  create: (seed) => new SharedPotadSoak(seed),
};
