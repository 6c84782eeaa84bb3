/// <reference types="node" />
// One worker of the shared-buddy stress run (shared-stress.ts): attaches, claims its CPU and runs
// the shared random alloc/free loop with ring hand-off and page claims (@mmkit/test-support's
// runStressWorker) through that CPU's front; the blocks are page frames.
import { parentPort, workerData } from "node:worker_threads";
import { runStressWorker, type StressWorkerData } from "@mmkit/test-support/shared-stress";
import { SharedBuddy, type SharedBuddyHandle } from "../../src/index.ts";

const d = workerData as StressWorkerData & { handle: SharedBuddyHandle };
const buddy = SharedBuddy.attach(d.handle);
const cpu = buddy.claimCpu(d.index);
const counts = runStressWorker(d, {
  alloc: (order) => cpu.allocPages(order),
  free: (pfn, order) => cpu.freePages(pfn, order),
  drain: () => cpu.drain(),
});
buddy.detach();
parentPort!.postMessage(counts);
