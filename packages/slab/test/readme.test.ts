import { readmeExampleTests } from "@mmkit/test-support";
import readme from "../README.md?raw";
import example from "../examples/readme.ts?raw";

readmeExampleTests({ readme, example, run: () => import("../examples/readme.ts") });
