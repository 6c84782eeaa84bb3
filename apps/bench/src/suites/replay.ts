import type { Suite } from "../harness/types.js";
import { selectedSystems } from "../systems/selection.js";
import { recordKernelComparisons } from "../workloads/kernel-start-replay.js";
import { profileFor, recordTraceReplay } from "./systems.js";

/**
 * Trace replay alone: every selected system (`--system`) replays every trace (`--trace`, default
 * the Linux 6.1 fixture): the trace's accounting, fragmentation sampled over the replay (series
 * points), metadata, and ns per record against the replay floor. What `--trace` runs without `--suite`.
 */
const suite: Suite = {
  name: "replay",
  description: "Replay page-allocator traces (--trace, default the Linux 6.1 fixture) on every system: the trace's accounting, fragmentation over the replay, ns per record",
  default: false,
  async run(ctx) {
    await recordTraceReplay(ctx, selectedSystems(), profileFor(ctx.quick));
    // The kernel's own start and end, when /proc snapshots come with a trace (issue 21).
    await recordKernelComparisons(ctx);
  },
};

export default suite;
