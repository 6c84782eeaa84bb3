export { readmeExampleTests, firstTsBlock, expectedPrints } from "./readme-example.js";
export { expectMmkitError } from "./errors.js";
export { HOSTILE_FACTORIES, HOSTILE_VALUES } from "./hostile.js";
export { runTsWorker } from "./ts-worker.js";
export { RING_HEADER, ringInts, ringPop, ringPush } from "./rings.js";
