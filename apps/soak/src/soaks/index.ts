// The soaks `pnpm soak` runs, in this order. A new soak is one more `registerSoak` line here.
import { registerSoak } from "../registry.js";
import { buddySoak } from "./buddy.js";
import { potadSoak } from "./potad.js";

registerSoak(buddySoak);
registerSoak(potadSoak);
