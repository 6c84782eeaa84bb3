/// <reference types="node" />
// A worker that takes a shared buddy's zone lock and exits holding it (for shared.test.ts): it
// reaches the lock word as any attached code would, by replaying the allocator's array layout on
// the shared arena (the arrays of a BuddyAllocator built with the same options, then the lock).
import { parentPort, workerData } from "node:worker_threads";
import { FutexMutex, LOCK_INTS, MemoryMap, RecordingArena, SharedMetadataArena } from "@mmkit/physmem";
import { BuddyAllocator, type SharedBuddyHandle } from "../../src/index.ts";

const { handle, owner } = workerData as { handle: SharedBuddyHandle; owner: number };
const recording = new RecordingArena();
new BuddyAllocator(new MemoryMap(handle.map), { ...handle.options, arena: recording });
const arena = SharedMetadataArena.attach(handle.arena);
for (const r of recording.arrays()) arena.allocate(r.kind, r.array.length, r.label);
const lock = new FutexMutex(arena.int32(LOCK_INTS, "buddy zone lock"), owner);
lock.lock();
parentPort!.postMessage("holding");
process.exit(0);
