/**
 * One worker of the Q8 measurement (`memdesc-rcu` suite): a reader or the writer, a member of a
 * worker crew (harness/worker-crew.ts). It attaches to every contender's slab once (the writer also
 * builds and fills each slab's writer), then serves the crew's commands: configuration = the
 * contender, args[0] = lookups per reader, args[1] = readers done. A reader looks up its seeded pfn
 * sequence that many times, then counts itself done; the writer churns until every reader is done
 * (or a crew member failed), then checks its slab (quiescent now).
 */
import { parentPort, workerData } from "node:worker_threads";
import type { SharedArenaHandle } from "@mmkit/physmem";
import { serveCrew } from "../workers/crew-member.js";
import { MemdescSlab } from "./memdesc-slab.js";
import { MemdescReader } from "./reader.js";
import { MemdescWriter } from "./writer.js";

/** What a Q8 worker is given. */
export interface Q8WorkerData {
  role: "reader" | "writer";
  /** Reader index (0-based); ignored for the writer. */
  index: number;
  /** The crew's control word (`crewControl()`). */
  control: Int32Array;
  /** One slab per contender, in the order of `Q8_VARIANTS`. */
  handles: SharedArenaHandle[];
  /** Reader: its pfn sequence (a power of two long). */
  pfns?: Int32Array;
  /** Writer: seed, live target and epoch period of each slab's writer. */
  writer?: { seed: number; liveTarget: number; epochEvery: number };
}

/** The command's arguments: lookups per reader, then the readers-done counter. */
export const ARG_LOOKUPS = 0;
export const ARG_READERS_DONE = 1;

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
  broken = `could not attach: ${e instanceof Error ? e.message : String(e)}`;
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

/** The writer's loop: churn until every reader is done or a crew member failed (checked every 16 steps). */
function write(writer: MemdescWriter, args: Int32Array): void {
  for (;;) {
    for (let i = 0; i < 16; i++) writer.step();
    if (Atomics.load(args, ARG_READERS_DONE) >= readerCount || Atomics.load(control, 3) !== 0) return;
  }
}

const failure = serveCrew(
  control,
  (config, args) => {
    if (d.role === "reader") {
      try {
        cursor[config] = read(readers[config]!, d.pfns!, cursor[config]!, args[ARG_LOOKUPS]!);
      } finally {
        Atomics.add(args, ARG_READERS_DONE, 1);
      }
    } else {
      write(writers[config]!, args);
      // Every reader has finished its lookups: no reference is held, the slab is quiescent.
      writers[config]!.retryDeferred();
      writers[config]!.check();
    }
    return true;
  },
  broken,
);
parentPort!.postMessage(failure === null ? "exit" : `${d.role} ${d.index}, ${failure}`);
