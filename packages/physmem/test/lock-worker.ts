/// <reference types="node" />
// A worker for locks.test.ts: takes the lock `rounds` times and bumps a plain (non-atomic) counter
// inside it, so a lock that lets two holders in loses increments; or takes it and dies holding it.
import { parentPort, workerData } from "node:worker_threads";
import { FutexMutex, SpinLock } from "../src/index.js";

const { word, counter, kind, owner, rounds, die } = workerData as {
  word: Int32Array;
  counter: Int32Array;
  kind: "spin" | "mutex";
  owner: number;
  rounds: number;
  die: boolean;
};
const lock = kind === "spin" ? new SpinLock(word, owner) : new FutexMutex(word, owner);
if (die) {
  lock.lock();
  parentPort!.postMessage("holding");
  process.exit(0);
}
for (let i = 0; i < rounds; i++) {
  lock.lock();
  // Read, yield a little, write: a broken lock shows up as lost updates.
  const v = counter[0]!;
  for (let k = 0; k < 20; k++) counter[1] = (counter[1]! + k) | 0;
  counter[0] = v + 1;
  lock.unlock();
}
parentPort!.postMessage("done");
