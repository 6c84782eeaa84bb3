/// <reference types="node" />
// One worker of the shared-POTAD stress run (shared-stress.ts): attaches, claims its CPU and runs
// the shared random alloc/free loop with ring hand-off and granule claims (@mmkit/test-support's
// runStressWorker) through that CPU's front; the blocks are granule numbers of the one space at 0.
import { parentPort, workerData } from "node:worker_threads";
import { runStressWorker, type StressWorkerData } from "@mmkit/test-support/shared-stress";
import { SharedPotad, type SharedPotadHandle } from "../../src/index.ts";

const d = workerData as StressWorkerData & { handle: SharedPotadHandle };
const potad = SharedPotad.attach(d.handle);
const granule = d.handle.options.spaces[0]!.granule;
const front = potad.claimCpu(d.index);
const counts = runStressWorker(d, {
  alloc: (order) => {
    const address = front.allocOrder(0, order);
    return address < 0 ? -1 : address / granule;
  },
  // Half the frees state the size, so both the lockless check of it and the plain path run.
  free: (g, order) => ((g & 1) === 0 ? front.free(g * granule, granule << order) : front.free(g * granule)),
  drain: () => front.drain(),
});
potad.detach();
parentPort!.postMessage(counts);
