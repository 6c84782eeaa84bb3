// The soaks `pnpm soak` runs, in this order. A new soak is one more `registerSoak` line here.
import { registerSoak } from "../registry.js";
import { buddySoak } from "./buddy.js";
import { fragCacheSoak } from "./frag-cache.js";
import { heapSoak } from "./heap.js";
import { mapleSoak } from "./maple.js";
import { potadSoak } from "./potad.js";
import { pteCacheSoak } from "./pte-cache.js";
import { sharedBuddySoak } from "./shared-buddy.js";
import { sharedPotadSoak } from "./shared-potad.js";
import { shrinkerSoak } from "./shrinker.js";
import { systemSoaks } from "./systems.js";

registerSoak(buddySoak);
registerSoak(sharedBuddySoak);
registerSoak(potadSoak);
registerSoak(sharedPotadSoak);
registerSoak(mapleSoak);
registerSoak(fragCacheSoak);
registerSoak(pteCacheSoak);
registerSoak(shrinkerSoak);
registerSoak(heapSoak);
for (const soak of systemSoaks) registerSoak(soak);
