/// <reference types="node" />
// One worker of the shared-buddy stress run (shared-stress.ts): attaches, claims its CPU, and does
// `ops` random allocations and frees; a share of its blocks goes through a ring to the next worker,
// which frees them (cross-worker frees land on the freeing CPU's list). Every page handed out is
// claimed in a shared owner array with compareExchange: a page handed out twice is counted, not missed.
import { parentPort, workerData } from "node:worker_threads";
import { SharedBuddy, type SharedBuddyHandle } from "../../src/index.ts";
import { ringPop, ringPush } from "@mmkit/test-support/rings";

interface Data {
  handle: SharedBuddyHandle;
  index: number;
  workers: number;
  ops: number;
  seed: number;
  maxOrder: number;
  ringCapacity: number;
  rings: Int32Array[];
  owners: Int32Array;
  done: Int32Array;
  base: number;
}

const d = workerData as Data;
const buddy = SharedBuddy.attach(d.handle);
const cpu = buddy.claimCpu(d.index);
const me = d.index + 1;
let x = d.seed >>> 0 || 1;
const rand = (n: number): number => {
  x ^= x << 13;
  x ^= x >>> 17;
  x ^= x << 5;
  return (x >>> 0) % n;
};
const livePfn: number[] = [];
const liveOrder: number[] = [];
let doubles = 0;
let failures = 0;
let allocs = 0;
let frees = 0;
let sent = 0;
let received = 0;
const out: [number, number] = [0, 0];
const inRing = d.rings[(d.index + d.workers - 1) % d.workers]!;
const outRing = d.rings[d.index]!;

function claim(pfn: number, order: number): void {
  for (let p = pfn; p < pfn + (1 << order); p++) if (Atomics.compareExchange(d.owners, p - d.base, 0, me) !== 0) doubles++;
}
function release(pfn: number, order: number): void {
  for (let p = pfn; p < pfn + (1 << order); p++) Atomics.store(d.owners, p - d.base, 0);
}
function free(pfn: number, order: number): void {
  release(pfn, order);
  cpu.freePages(pfn, order);
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
  // Alloc-heavy below a live set of 100 blocks, free-heavy above: a working set that hovers near
  // half the memory, with runs into the low-memory edge, instead of a random walk into failure.
  if (r < (livePfn.length < 100 ? 60 : 30) || livePfn.length === 0) {
    // Mostly order 0, as the kernel's traffic is; up to maxOrder (above 3: the locked path).
    const order = rand(8) === 0 ? rand(d.maxOrder + 1) : 0;
    const pfn = cpu.allocPages(order);
    if (pfn < 0) {
      failures++;
      // With nothing live this branch is taken every time: drain the ring here too, or blocks the
      // previous worker sends would sit in it while this one fails for want of them.
      drainIncoming();
      continue;
    }
    allocs++;
    claim(pfn, order);
    livePfn.push(pfn);
    liveOrder.push(order);
  } else if (r < 85) {
    const k = rand(livePfn.length);
    const pfn = livePfn[k]!;
    const order = liveOrder[k]!;
    livePfn[k] = livePfn[livePfn.length - 1]!;
    liveOrder[k] = liveOrder[liveOrder.length - 1]!;
    livePfn.pop();
    liveOrder.pop();
    if (rand(2) === 0 && ringPush(outRing, d.ringCapacity, pfn, order)) sent++;
    else free(pfn, order);
  } else {
    drainIncoming();
  }
}
// Give back everything: our own blocks, then whatever the previous worker still sends us.
for (let k = 0; k < livePfn.length; k++) free(livePfn[k]!, liveOrder[k]!);
Atomics.store(d.done, d.index, 1);
while (Atomics.load(d.done, (d.index + d.workers - 1) % d.workers) === 0) drainIncoming();
drainIncoming();
cpu.drain();
buddy.detach();
parentPort!.postMessage({ allocs, frees, sent, received, doubles, failures });
