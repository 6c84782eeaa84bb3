import type { Suite } from "../harness/types.js";
import { measureMemdescRcu } from "../q8/measure.js";

/**
 * The `memdesc-rcu` measurement at length (opt-in): 50M lookups per mode (25 times the default
 * run's), so that zero violations in type-stable mode is a figure over a long run, and mode (a)'s
 * violations, which need a reader and the writer to meet inside a few instructions, are many.
 */
const suite: Suite = {
  name: "memdesc-rcu-full",
  description: "Q8 at length: the memdesc-rcu measurement with 20 rounds of 1.25M lookups per reader per mode (50M lookups per mode; a minute or two)",
  default: false,
  run: async (ctx) => {
    await measureMemdescRcu(ctx, { rounds: 20, lookups: ctx.quick ? 250_000 : 1_250_000 });
  },
};

export default suite;
