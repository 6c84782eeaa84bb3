export { readmeExampleTests, firstTsBlock, expectedPrints } from "./readme-example.js";
