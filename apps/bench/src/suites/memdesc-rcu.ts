import type { Suite } from "../harness/types.js";
import { measureMemdescRcu } from "../q8/measure.js";

/**
 * The `memdesc-rcu` suite (Q8 of seed 001, issue 18): can a lockless lookup survive a memdesc being
 * freed? Two reader workers look pfns up in a shared descriptor table and take references with
 * get-unless-zero while a writer worker frees and reuses memdescs, once with slots reused at once
 * for any type and once type-stable (another type only after a grace period of the readers'
 * published epochs); it counts the violations a reader would have committed in each, and what type
 * stability costs. The short run (2M lookups per mode: 8 rounds of 125k per reader) is in the
 * default bench; `memdesc-rcu-full` runs 25 times as many.
 */
const suite: Suite = {
  name: "memdesc-rcu",
  description: "Q8: lockless pfn -> memdesc lookups (get-unless-zero, re-check) by 2 reader workers while a writer frees and reuses memdescs: slots reused at once vs type-stable (epochs); violations, retries, lookups/s, slots held back",
  default: true,
  run: async (ctx) => {
    await measureMemdescRcu(ctx, { rounds: 8, lookups: ctx.quick ? 50_000 : 125_000 });
  },
};

export default suite;
