/// <reference types="node" />
// One of two workers freeing the same fragments at once (shared-stress.test.ts): worker i frees the
// fragments at indices of parity i, then tries the other parity, which the other worker is freeing
// meanwhile. Every free must succeed in exactly one of them, the other getting ERR_NOT_ALLOCATED.
import { parentPort, workerData } from "node:worker_threads";
import { MmkitError } from "@mmkit/physmem";
import { SharedFragmentCache, SharedFragmentTable, type SharedFragmentTableHandle } from "../../src/index.ts";
import { SharedPageSource } from "../shared-page-source.ts";

const d = workerData as { table: SharedFragmentTableHandle; pageState: Int32Array; memory: SharedArrayBuffer; mode: string; live: Int32Array; gate: Int32Array; index: number };
const bytes = new Uint8Array(d.memory);
const backing = { bytes: (address: number, length: number) => bytes.subarray(address, address + length) };
const cache = new SharedFragmentCache(SharedFragmentTable.attach(d.table), new SharedPageSource(d.pageState), { backing, clearOnFree: d.mode === "clear", poison: d.mode === "poison" });
let freed = 0;
let refused = 0;
const n = d.live.length;
// Start together: worker start-up takes far longer than the frees.
Atomics.add(d.gate, 0, 1);
while (Atomics.load(d.gate, 0) < 2);
for (let k = 0; k < n; k++) {
  const a = d.live[k < n / 2 ? 2 * k + d.index : 2 * (k - n / 2) + 1 - d.index]!;
  try {
    cache.free(a);
    freed++;
  } catch (error) {
    if (!(error instanceof MmkitError) || error.code !== "ERR_NOT_ALLOCATED") throw error;
    refused++;
  }
}
parentPort!.postMessage({ freed, refused });
