export type { Op, OpKind, Soak, SoakInstance } from "./soak.js";
export { registerSoak, unregisterSoak, registeredSoaks, selectSoaks } from "./registry.js";
export { runSoak, type RunOptions, type SoakResult, type SoakFailure } from "./runner.js";
export { replay, describeError } from "./replay.js";
export { shrinkFailure, type ShrinkOptions } from "./shrink.js";
export { OpStream, formatOp } from "./ops.js";
export { Divergence, same, holds, refused, PageOwners, LivePicker } from "./soaks/support.js";
