/// <reference types="node" />
import { expect, test } from "vitest";
import { SharedFragmentCache, SharedFragmentTable } from "@mmkit/frag-cache";
import { runTsWorker } from "@mmkit/test-support";
import { SharedPageSource } from "./shared-page-source.js";

// Short by default (seconds); FRAG_STRESS_FRAGMENTS=5000000 for a long run.
const FRAGMENTS = Number(process.env.FRAG_STRESS_FRAGMENTS ?? 60_000);
const PAGES = 256; // 1 MiB: 32 blocks, fewer than a full ring of 1500-byte fragments needs, so the pool runs dry too

test.each(["none", "clear", "poison"] as const)("producer and consumer workers through a 512-entry ring: nothing lost, nothing freed twice (%s mode)", async (mode) => {
  const table = SharedFragmentTable.create({ pages: PAGES });
  const pages = new SharedPageSource(PAGES);
  const memory = new SharedArrayBuffer(PAGES * 4096);
  const ring = new Int32Array(new SharedArrayBuffer(4 * (32 + 512)));
  const common = { table: table.handle, pageState: pages.state, memory, ring, fragments: FRAGMENTS, seed: 7, mode };
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
  if (mode === "clear") expect(new Uint8Array(memory).every((b) => b === 0)).toBe(true); // every fragment scrubbed where it was freed
  expect(made.poisonReports + used.poisonReports).toBe(0); // the producer writes only live fragments

  // Two workers free the same fragments at once (each its parity first, then the other's), dropping
  // the same blocks' counts concurrently: each free succeeds exactly once, each block goes back once.
  const bytes = new Uint8Array(memory);
  const backing = { bytes: (address: number, length: number) => bytes.subarray(address, address + length) };
  const fragments = new SharedFragmentCache(table, pages, { backing, clearOnFree: mode === "clear", poison: mode === "poison" });
  const live = new Int32Array(new SharedArrayBuffer(4 * 30_000));
  for (let i = 0; i < live.length; i++) live[i] = fragments.alloc(16 + 16 * (i % 2));
  expect(live.includes(-1)).toBe(false);
  fragments.drain();
  const gate = new Int32Array(new SharedArrayBuffer(4));
  const racer = new URL("./stress/free-racer.ts", import.meta.url);
  const wins = (await Promise.all([0, 1].map((index) => runTsWorker(racer, { table: table.handle, pageState: pages.state, memory, mode, live, gate, index })))) as { freed: number; refused: number }[];
  if (process.env.FRAG_STRESS_PRINT) console.log(JSON.stringify(wins));
  expect(wins[0]!.freed + wins[1]!.freed).toBe(live.length);
  expect(wins[0]!.refused + wins[1]!.refused).toBe(live.length);
  expect(pages.outstanding).toBe(0);
  expect(pages.state[2]).toBe(0);
  expect(table.check()).toBe(0);
});
