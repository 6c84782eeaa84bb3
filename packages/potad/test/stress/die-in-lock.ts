/// <reference types="node" />
// A worker that attaches to a shared POTAD, takes its zone lock and exits holding it (for
// shared.test.ts). It reaches the lock word as any attached code would, by replaying the table
// layout on the shared arena.
import { parentPort, workerData } from "node:worker_threads";
import { FutexMutex, SharedMetadataArena } from "@mmkit/physmem";
import { SharedPotad, type SharedPotadHandle } from "../../src/index.ts";
import { sharedPotadArrays } from "../../src/shared-layout.ts";
import { layoutSpaces } from "../../src/shared-spaces.ts";

const { handle } = workerData as { handle: SharedPotadHandle };
const potad = SharedPotad.attach(handle);
potad.claimCpu(1);
const sp = layoutSpaces(handle.options.spaces);
const arrays = sharedPotadArrays(SharedMetadataArena.attach(handle.arena), sp.total, sp.count, handle.options.cpus);
new FutexMutex(arrays.lock, potad.owner).lock();
parentPort!.postMessage(potad.owner);
process.exit(0);
