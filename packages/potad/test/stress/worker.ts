/// <reference types="node" />
// One worker of the shared-POTAD stress run (shared-stress.ts): attaches, claims its CPU, and does
// `ops` random allocations and frees of orders 0..maxOrder; a share of its blocks goes through a
// ring to the next worker, which frees them (cross-worker frees land on the freeing CPU's front).
// Every granule handed out is claimed in a shared owner array with compareExchange: a granule
// handed out twice is counted, not missed.
import { parentPort, workerData } from "node:worker_threads";
import { ringPop, ringPush } from "@mmkit/test-support/rings";
import { SharedPotad, type SharedPotadHandle } from "../../src/index.ts";

interface Data {
  handle: SharedPotadHandle;
  index: number;
  workers: number;
  ops: number;
  seed: number;
  maxOrder: number;
  granule: number;
  ringCapacity: number;
  rings: Int32Array[];
  owners: Int32Array;
  done: Int32Array;
}

const d = workerData as Data;
const potad = SharedPotad.attach(d.handle);
const front = potad.claimCpu(d.index);
const me = d.index + 1;
let x = d.seed >>> 0 || 1;
const rand = (n: number): number => {
  x ^= x << 13;
  x ^= x >>> 17;
  x ^= x << 5;
  return (x >>> 0) % n;
};
// Blocks are passed around as granule numbers (int32) and orders.
const liveGranule: number[] = [];
const liveOrder: number[] = [];
let doubles = 0;
let misplaced = 0;
let failures = 0;
let allocs = 0;
let frees = 0;
let sent = 0;
let received = 0;
const out: [number, number] = [0, 0];
const inRing = d.rings[(d.index + d.workers - 1) % d.workers]!;
const outRing = d.rings[d.index]!;

function claim(g: number, order: number): void {
  for (let p = g; p < g + (1 << order); p++) if (Atomics.compareExchange(d.owners, p, 0, me) !== 0) doubles++;
}
function release(g: number, order: number): void {
  for (let p = g; p < g + (1 << order); p++) Atomics.store(d.owners, p, 0);
}
function free(g: number, order: number): void {
  release(g, order);
  // Half the frees state the size, so both the lockless check of it and the plain path run.
  if ((g & 1) === 0) front.free(g * d.granule, d.granule << order);
  else front.free(g * d.granule);
  frees++;
}
function drainIncoming(): void {
  while (ringPop(inRing, d.ringCapacity, out)) {
    received++;
    free(out[0], out[1]);
  }
}

for (let i = 0; i < d.ops; i++) {
  const r = rand(100);
  // Alloc-heavy below a live set of 100 blocks, free-heavy above: a working set that hovers
  // below the size of the space, with runs into failure, instead of a random walk. The ring is
  // drained first, whatever the live set: a worker with nothing live whose allocations fail must
  // still give back what the previous worker sent it, or the rings could end up holding everything.
  if (r >= 85) {
    drainIncoming();
  } else if (r < (liveGranule.length < 100 ? 60 : 30) || liveGranule.length === 0) {
    // Mostly the front orders 0..3; up to maxOrder (above 3: the locked path).
    const order = rand(8) === 0 ? rand(d.maxOrder + 1) : rand(4);
    const a = front.allocOrder(0, order);
    if (a < 0) {
      failures++;
      continue;
    }
    const g = a / d.granule;
    if (g % (1 << order) !== 0) misplaced++;
    allocs++;
    claim(g, order);
    liveGranule.push(g);
    liveOrder.push(order);
  } else {
    const k = rand(liveGranule.length);
    const g = liveGranule[k]!;
    const order = liveOrder[k]!;
    liveGranule[k] = liveGranule[liveGranule.length - 1]!;
    liveOrder[k] = liveOrder[liveOrder.length - 1]!;
    liveGranule.pop();
    liveOrder.pop();
    if (rand(2) === 0 && ringPush(outRing, d.ringCapacity, g, order)) sent++;
    else free(g, order);
  }
}
// Give back everything: our own blocks, then whatever the previous worker still sends us.
for (let k = 0; k < liveGranule.length; k++) free(liveGranule[k]!, liveOrder[k]!);
Atomics.store(d.done, d.index, 1);
while (Atomics.load(d.done, (d.index + d.workers - 1) % d.workers) === 0) drainIncoming();
drainIncoming();
front.drain();
potad.detach();
parentPort!.postMessage({ allocs, frees, sent, received, doubles, misplaced, failures });
