/// <reference types="node" />
// One side of the page_frag_test shape (shared-stress.test.ts): the producer allocates fragments
// from its own SharedFragmentCache, stamps each with its sequence number and pushes its address
// through a 512-entry ring in a SharedArrayBuffer; the consumer pops, checks the stamp (a fragment
// handed out twice while live would have been overwritten) and frees it from its own cache. Every
// 256 fragments the producer waits for the ring to empty, so blocks are recycled in place too.
import { parentPort, workerData } from "node:worker_threads";
import { SharedFragmentCache, SharedFragmentTable, type SharedFragmentTableHandle } from "../../src/index.ts";
import { SharedPageSource } from "../shared-page-source.ts";

interface Data {
  role: "producer" | "consumer";
  table: SharedFragmentTableHandle;
  pageState: Int32Array;
  memory: SharedArrayBuffer;
  ring: Int32Array; // [0] head (next to read), [16] tail (next to write), then RING entries from 32
  fragments: number;
  seed: number;
  mode: "none" | "clear" | "poison";
}

const RING = 512;
const d = workerData as Data;
const bytes = new Uint8Array(d.memory);
const words = new Int32Array(d.memory);
const backing = { bytes: (address: number, length: number) => bytes.subarray(address, address + length) };
const cache = new SharedFragmentCache(SharedFragmentTable.attach(d.table), new SharedPageSource(d.pageState), { backing, clearOnFree: d.mode === "clear", poison: d.mode === "poison" });
const ring = d.ring;
// IMIX packet sizes (7:4:1 of 64, 576, 1500) and, one time in four, a size as in the kernel test (up to a page).
const SIZES = [64, 64, 64, 64, 64, 64, 64, 576, 576, 576, 576, 1500];
let x = d.seed >>> 0 || 1;
const rand = (n: number): number => {
  x ^= x << 13;
  x ^= x >>> 17;
  x ^= x << 5;
  return (x >>> 0) % n;
};
const pause = new Int32Array(new SharedArrayBuffer(4));

if (d.role === "producer") {
  let waits = 0;
  for (let seq = 1; seq <= d.fragments; seq++) {
    const size = rand(4) === 0 ? 4 + rand(4093) : SIZES[rand(SIZES.length)]!;
    let a = cache.alloc(size);
    while (a === -1) {
      waits++; // the pool is out: the consumer still holds it; let it catch up
      Atomics.wait(pause, 0, 0, 1);
      a = cache.alloc(size);
    }
    words[a >>> 2] = seq;
    const tail = ring[16]!;
    while (tail - Atomics.load(ring, 0) >= RING) Atomics.wait(pause, 0, 0, 0.05);
    ring[32 + (tail % RING)] = a;
    Atomics.store(ring, 16, tail + 1);
    // Now and then let the consumer empty the ring, so that the current block's last fragments are
    // freed in the other worker before its bias is dropped: the cross-worker recycle in place.
    if (seq % 256 === 0) while (Atomics.load(ring, 0) !== tail + 1) Atomics.wait(pause, 0, 0, 0.05);
  }
  const tail = ring[16]!;
  while (tail - Atomics.load(ring, 0) >= RING) Atomics.wait(pause, 0, 0, 0.05);
  ring[32 + (tail % RING)] = -1;
  Atomics.store(ring, 16, tail + 1);
  cache.drain();
  parentPort!.postMessage({ ...cache.stats(), waits });
} else {
  let expect = 1;
  let badStamps = 0;
  for (;;) {
    const head = ring[0]!;
    if (head === Atomics.load(ring, 16)) {
      Atomics.wait(pause, 0, 0, 0.05);
      continue;
    }
    const a = ring[32 + (head % RING)]!;
    if (a === -1) break;
    if (words[a >>> 2] !== expect) badStamps++;
    expect++;
    cache.free(a);
    // The slot is given back after the free, so an empty ring means every fragment was freed.
    Atomics.store(ring, 0, head + 1);
  }
  parentPort!.postMessage({ ...cache.stats(), badStamps, received: expect - 1 });
}
