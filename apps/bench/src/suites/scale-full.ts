import type { Suite } from "../harness/types.js";
import { runScale, scalePlan } from "./scale.js";

/**
 * The scale curves with cache lines probed at every size (1k to 1M live pages) and more rounds. Not
 * in the default run: a `ProbingArena` build sends every array access through a Proxy, so probing
 * the 1M point alone takes minutes.
 */
const suite: Suite = {
  name: "scale-full",
  description: "The scale curves with lines/op probed at every size up to 1M live pages and more rounds (minutes: every probed array access goes through a Proxy)",
  default: false,
  run(ctx) {
    runScale(ctx, scalePlan(ctx.quick, true));
  },
};

export default suite;
