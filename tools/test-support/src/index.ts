export { readmeExampleTests, firstTsBlock, expectedPrints } from "./readme-example.js";
export { expectMmkitError } from "./errors.js";
export { HOSTILE_FACTORIES, HOSTILE_VALUES } from "./hostile.js";
export { runTsWorker } from "./ts-worker.js";
export { refuse, same, returns, normalise, sweepOutcome, sweepPosition, expectEveryRefusal, expectCallOutcome } from "./sweep.js";
export type { SweepVerdict, SweepSubject, SweepEntry, SweepOutcome, CallOutcome } from "./sweep.js";
export { seededInts } from "./random.js";
export { RING_HEADER, ringInts, ringPop, ringPush } from "./rings.js";
