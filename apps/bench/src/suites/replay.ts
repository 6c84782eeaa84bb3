import type { Suite } from "../harness/types.js";
import { selectedSystems } from "../systems/selection.js";
import { recordKernelComparisons } from "../workloads/kernel-start-replay.js";
import { recordTraceReplay, replayProfile } from "./trace-replay-run.js";

/**
 * Trace replay alone: every selected system (`--system`) replays every trace (`--trace`, `--trace -`,
 * `--trace-synth`; default the Linux 6.1 fixture), streamed: the trace's whole accounting, per-system
 * failures and per-CPU counts, time series over trace time, lines/s and events/s, and ns per event
 * of a timing window against the replay floor. What `--trace` runs without `--suite`.
 */
const suite: Suite = {
  name: "replay",
  description: "Replay page-allocator traces, streamed (--trace <file|->, --trace-synth <events>; default the Linux 6.1 fixture), on every system through per-CPU fronts: the trace's whole accounting, time series over trace time, lines/s and events/s, ns per event",
  default: false,
  async run(ctx) {
    await recordTraceReplay(ctx, selectedSystems(), replayProfile(ctx.quick));
    // The kernel's own start and end, when /proc snapshots come with a trace (issue 21).
    await recordKernelComparisons(ctx);
  },
};

export default suite;
