/**
 * What the `page-frag` suite and its two workers (page-frag-worker.ts) share: the configurations
 * they are given and where each worker publishes its counters.
 */
import type { SharedBuddyHandle } from "@mmkit/buddy";
import type { SharedFragmentTableHandle } from "@mmkit/frag-cache";

/** A configuration as the workers see it. */
export interface PageFragConfig {
  /** "floor": the ring alone; "workers": page_frag_test; "one-thread" / "one-thread shared": the sequence in the producer alone, through `FragmentCache` / `SharedFragmentCache`. */
  kind: "floor" | "workers" | "one-thread" | "one-thread shared";
  sizes: Int32Array;
  aligns: Int32Array;
  /** One-thread runs: fragments left in flight after each step. */
  depth: number;
  /** The page allocator (not for the floor). */
  buddy?: SharedBuddyHandle;
  /** The shared fragment table ("workers", "one-thread shared"). */
  table?: SharedFragmentTableHandle;
  /** The 512-entry ring (two-worker kinds). */
  ring?: Int32Array;
}

export interface PageFragWorkerData {
  role: 0 | 1;
  control: Int32Array;
  /** Per configuration and role, {@link PAGE_FRAG_STATS} cumulative counters. */
  stats: Float64Array;
  configs: PageFragConfig[];
}

/** The counters a worker publishes per configuration, in this order. */
export const PAGE_FRAG_STATS = ["fragmentsAllocated", "fragmentsFreed", "blocksTaken", "blocksRecycled", "blocksReturned", "fallbacks", "allocFailures"] as const;

/** Offset of (configuration, role)'s counters in the stats array. */
export function statsOffset(config: number, role: number): number {
  return (config * 2 + role) * PAGE_FRAG_STATS.length;
}
