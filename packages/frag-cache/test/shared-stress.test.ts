/// <reference types="node" />
import { expect, test } from "vitest";
import { SharedFragmentTable } from "@mmkit/frag-cache";
import { runTsWorker } from "@mmkit/test-support";
import { SharedPageSource } from "./shared-page-source.js";

// Short by default (seconds); FRAG_STRESS_FRAGMENTS=5000000 for a long run.
const FRAGMENTS = Number(process.env.FRAG_STRESS_FRAGMENTS ?? 60_000);
const PAGES = 256; // 1 MiB: 32 blocks, fewer than a full ring of 1500-byte fragments needs, so the pool runs dry too

test.each([false, true])("producer and consumer workers through a 512-entry ring: nothing lost, nothing freed twice (clearOnFree %s)", async (clearOnFree) => {
  const table = SharedFragmentTable.create({ pages: PAGES });
  const pages = new SharedPageSource(PAGES);
  const memory = new SharedArrayBuffer(PAGES * 4096);
  const ring = new Int32Array(new SharedArrayBuffer(4 * (32 + 512)));
  const common = { table: table.handle, pageState: pages.state, memory, ring, fragments: FRAGMENTS, seed: 7, clearOnFree };
  const entry = new URL("./stress/ring-worker.ts", import.meta.url);
  const [made, used] = (await Promise.all([runTsWorker(entry, { ...common, role: "producer" }), runTsWorker(entry, { ...common, role: "consumer" })])) as [
    Record<string, number>,
    Record<string, number>,
  ];
  if (process.env.FRAG_STRESS_PRINT) console.log(JSON.stringify({ made, used }));
  expect(made.fragmentsAllocated).toBe(FRAGMENTS);
  expect(used.received).toBe(FRAGMENTS);
  expect(used.fragmentsFreed).toBe(FRAGMENTS);
  expect(used.badStamps).toBe(0);
  // Every block taken went back exactly once, by whichever side dropped its last reference.
  expect(made.blocksReturned + used.blocksReturned).toBe(made.blocksTaken);
  expect(used.blocksReturned).toBeGreaterThan(0);
  expect(made.blocksRecycled).toBeGreaterThan(0); // after the last free came from the consumer
  expect(pages.outstanding).toBe(0);
  expect(pages.state[2]).toBe(0); // no free refused by the page source (a double free would be)
  expect(table.check()).toBe(0);
  if (clearOnFree) expect(new Uint8Array(memory).every((b) => b === 0)).toBe(true);
});
