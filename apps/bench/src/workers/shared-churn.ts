/**
 * One worker of the `workers` suite. It attaches to every configuration's allocator once, then
 * sleeps on the control word; each command names a configuration, how many workers take part and
 * how many operations each does. An operation: free whatever the previous worker handed over,
 * then free the block of the next slot (a quarter of them handed to the next worker through a
 * shared ring instead, so frees land on another CPU), and allocate a new page into the slot.
 *
 * Commands come through the crew's control word (harness/worker-crew.ts): a configuration, then the
 * workers taking part and the operations each.
 */
import { parentPort, workerData } from "node:worker_threads";
import { BuddyAllocator, MigrateType, SharedBuddy, type CpuPages, type SharedBuddyHandle } from "@mmkit/buddy";
import { MemoryMap } from "@mmkit/physmem";
import { SharedPotad, type SharedPotadHandle } from "@mmkit/potad";
import { serveCrew } from "./crew-member.js";
import { ringPop, ringPush } from "./rings.js";

/** A configuration as the worker sees it. */
export interface WorkerConfig {
  /** "private": each worker builds its own single-threaded BuddyAllocator (options below) and uses its cpu(0) front; no frees cross workers. */
  kind: "per-cpu" | "zone-lock" | "floor" | "private" | "potad-front" | "potad-lock";
  /** For "private": bytes of RAM and per-CPU batch/high of each worker's own allocator. */
  privateBuddy?: { ramBytes: number; pcpBatch: number; pcpHigh: number };
  /** The shared buddy ("per-cpu", "zone-lock"). */
  handle?: SharedBuddyHandle;
  /** The shared POTAD ("potad-front": its CPU fronts; "potad-lock": the zone lock only), one space of 4 KiB granules at 0. */
  potadHandle?: SharedPotadHandle;
  /** The floor's per-worker page stacks (one Int32Array per worker: [0] depth, then pages). */
  stacks?: Int32Array[];
  /** Ring per consumer worker. */
  rings: Int32Array[];
}

export interface ChurnWorkerData {
  index: number;
  control: Int32Array;
  configs: WorkerConfig[];
  live: number;
  ringCapacity: number;
  /** Seeded slot sequence (a power of two long) and its remote-free flags. */
  slots: Int32Array;
  remote: Uint8Array;
}

/** The page face every configuration's worker drives. */
interface Pages {
  allocPages(order: number): number;
  freePages(pfn: number, order: number): void;
}

/** The floor: a private Int32Array stack per worker, pages moving between stacks through the rings. */
function stackPages(stack: Int32Array): Pages {
  return {
    allocPages: () => (stack[0]! > 0 ? stack[stack[0]!--]! : -1),
    freePages: (pfn) => {
      stack[++stack[0]!] = pfn;
    },
  };
}

const d = workerData as ChurnWorkerData;
const control = d.control;
// A failure (attaching, or inside a run) is reported through the control word, which the main
// thread reads while it waits (it cannot take messages then), and in a message for the details.
let broken: string | null = null;
let faces: Pages[] = [];
try {
  faces = d.configs.map((c) => {
    if (c.kind === "floor") return stackPages(c.stacks![d.index]!);
    if (c.kind === "private") {
      const o = c.privateBuddy!;
      return new BuddyAllocator(MemoryMap.uniform(o.ramBytes), { cpus: 1, minFreeKbytes: 0, pcpBatch: o.pcpBatch, pcpHigh: o.pcpHigh, defaultMigratetype: MigrateType.Movable }).cpu(0);
    }
    if (c.kind === "potad-front") return SharedPotad.attach(c.potadHandle!).claimCpu(d.index).pageFace(0);
    if (c.kind === "potad-lock") {
      const potad = SharedPotad.attach(c.potadHandle!);
      return {
        allocPages: (order: number) => {
          const a = potad.allocOrder(0, order);
          return a < 0 ? -1 : a / 4096;
        },
        freePages: (pfn: number) => potad.free(pfn * 4096),
      };
    }
    const buddy = SharedBuddy.attach(c.handle!);
    if (c.kind === "zone-lock") return buddy;
    const cpu: CpuPages = buddy.claimCpu(d.index);
    return cpu;
  });
} catch (e) {
  broken = `could not attach: ${e instanceof Error ? e.message : String(e)}`;
}
const held = d.configs.map(() => new Float64Array(d.live).fill(-1));
const cursor = d.configs.map(() => d.index * 977);
const popped: [number, number] = [0, 0];

/** The timed loop: one per configuration kind would be fairer to V8, but every face is called through the same site in all of them alike. */
function run(config: number, workers: number, ops: number): void {
  const pages = faces[config]!;
  const slotsHeld = held[config]!;
  const rings = d.configs[config]!.rings;
  const inRing = rings[d.index]!;
  const outRing = rings[(d.index + 1) % workers]!;
  const mask = d.slots.length - 1;
  // A private allocator's pages cannot be freed into another worker's allocator.
  const crossing = workers > 1 && d.configs[config]!.kind !== "private";
  let c = cursor[config]!;
  for (let i = 0; i < ops; i++) {
    while (ringPop(inRing, d.ringCapacity, popped)) pages.freePages(popped[0], 0);
    const slot = d.slots[c]! % d.live;
    const old = slotsHeld[slot]!;
    if (old >= 0 && !(crossing && d.remote[c] === 1 && ringPush(outRing, d.ringCapacity, old, 0))) pages.freePages(old, 0);
    slotsHeld[slot] = pages.allocPages(0);
    c = (c + 1) & mask;
  }
  cursor[config] = c;
}

const failure = serveCrew(
  control,
  (config, args) => {
    const workers = args[0]!;
    if (d.index >= workers) return false;
    run(config, workers, args[1]!);
    return true;
  },
  broken,
);
parentPort!.postMessage(failure === null ? "exit" : `worker ${d.index}, ${failure}`);
