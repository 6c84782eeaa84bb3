import type { Suite } from "../harness/types.js";
import { measureMemdescRcu } from "../q8/measure.js";

/**
 * The `memdesc-rcu` measurement at length (opt-in): ten times the default run's lookups, tens of
 * millions per mode, so that zero violations in type-stable mode is a figure over a long run.
 */
const suite: Suite = {
  name: "memdesc-rcu-full",
  description: "Q8 at length: the memdesc-rcu measurement with 10 rounds of 1.25M lookups per reader per mode (25M lookups per mode; about a minute)",
  default: false,
  run: async (ctx) => {
    await measureMemdescRcu(ctx, { rounds: 10, lookups: ctx.quick ? 250_000 : 1_250_000 });
  },
};

export default suite;
