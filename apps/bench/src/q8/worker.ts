/**
 * One worker of the Q8 measurement (`memdesc-rcu` suite): a reader or the writer. It attaches to
 * every contender's slab once (the writer also builds and fills each slab's writer), then sleeps on
 * the control word; each command names a contender and how many lookups each reader does. A reader looks up
 * its seeded pfn sequence until it has done that many, then says so; the writer churns until every
 * reader is done, then checks its slab (quiescent now) and says so.
 *
 * Control word (Int32Array over a SharedArrayBuffer): [0] generation, [1] contender index (-1: exit),
 * [2] lookups per reader, [3] readers done, [4] workers done, [5] set by a worker that failed.
 */
import { parentPort, workerData } from "node:worker_threads";
import type { SharedArenaHandle } from "@mmkit/physmem";
import { MemdescSlab } from "./memdesc-slab.js";
import { MemdescReader } from "./reader.js";
import { MemdescWriter } from "./writer.js";

/** What a Q8 worker is given. */
export interface Q8WorkerData {
  role: "reader" | "writer";
  /** Reader index (0-based); ignored for the writer. */
  index: number;
  control: Int32Array;
  /** One slab per contender, in the order of `Q8_VARIANTS`. */
  handles: SharedArenaHandle[];
  /** Reader: its pfn sequence (a power of two long). */
  pfns?: Int32Array;
  /** Writer: seed, live target and epoch period of each slab's writer. */
  writer?: { seed: number; liveTarget: number; epochEvery: number };
}

const d = workerData as Q8WorkerData;
const control = d.control;
let broken: string | null = null;
let readers: MemdescReader[] = [];
let writers: MemdescWriter[] = [];
let readerCount = 0;
try {
  const slabs = d.handles.map((h) => MemdescSlab.attach(h));
  readerCount = slabs[0]!.readers;
  if (d.role === "reader") readers = slabs.map((s) => new MemdescReader(s, d.index));
  else
    writers = slabs.map((s) => {
      const w = new MemdescWriter(s, d.writer!);
      w.fill();
      return w;
    });
} catch (e) {
  broken = `${d.role} ${d.index} could not attach: ${e instanceof Error ? e.message : String(e)}`;
}
const cursor = d.handles.map(() => 0);

/** The reader's timed loop: `lookups` lookups of the next pfns of its sequence. */
function read(reader: MemdescReader, pfns: Int32Array, start: number, lookups: number): number {
  const mask = pfns.length - 1;
  let c = start;
  for (let i = 0; i < lookups; i++) {
    reader.lookup(pfns[c]!);
    c = (c + 1) & mask;
  }
  return c;
}

/** The writer's loop: churn until every reader is done (checked every 16 steps). */
function write(writer: MemdescWriter): void {
  for (;;) {
    for (let i = 0; i < 16; i++) writer.step();
    if (Atomics.load(control, 3) >= readerCount) return;
  }
}

let generation = 0;
for (;;) {
  Atomics.wait(control, 0, generation);
  generation = Atomics.load(control, 0);
  const mode = control[1]!;
  if (mode < 0) break;
  try {
    if (broken === null) {
      if (d.role === "reader") cursor[mode] = read(readers[mode]!, d.pfns!, cursor[mode]!, control[2]!);
      else {
        write(writers[mode]!);
        // Every reader has finished its lookups: no reference is held, the slab is quiescent.
        writers[mode]!.retryDeferred();
        writers[mode]!.check();
      }
    }
  } catch (e) {
    broken = `${d.role} ${d.index}, mode ${mode}: ${e instanceof Error ? e.message : String(e)}`;
  }
  if (d.role === "reader") Atomics.add(control, 3, 1);
  if (broken !== null) Atomics.store(control, 5, 1);
  Atomics.add(control, 4, 1);
  Atomics.notify(control, 4);
}
parentPort!.postMessage(broken ?? "exit");
