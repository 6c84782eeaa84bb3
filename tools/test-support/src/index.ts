export { readmeExampleTests, firstTsBlock, expectedPrints } from "./readme-example.js";
export { expectMmkitError } from "./errors.js";
