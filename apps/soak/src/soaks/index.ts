// The soaks `pnpm soak` runs, in this order. A new soak is one more `registerSoak` line here.
import { registerSoak } from "../registry.js";
import { buddySoak } from "./buddy.js";
import { fragCacheSoak } from "./frag-cache.js";
import { mapleSoak } from "./maple.js";
import { potadSoak } from "./potad.js";
import { pteCacheSoak } from "./pte-cache.js";
import { shrinkerSoak } from "./shrinker.js";
import { systemSoaks } from "./systems.js";

registerSoak(buddySoak);
registerSoak(potadSoak);
registerSoak(mapleSoak);
registerSoak(fragCacheSoak);
registerSoak(pteCacheSoak);
registerSoak(shrinkerSoak);
for (const soak of systemSoaks) registerSoak(soak);
