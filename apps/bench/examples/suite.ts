import { stackFloor } from "../src/floors/index.js";
import type { Contender, Suite } from "../src/harness/types.js";

// The timed loop: a module-level function, its state passed in (one loop per kind of contender).
function popPush(free: number[], ops: number): number {
  let sum = 0;
  for (let i = 0; i < ops; i++) {
    const block = free.pop()!; // alloc
    sum = (sum + block) | 0;
    free.push(block); // free
  }
  return sum;
}

// A contender: setup() builds its state untimed and returns the loop the harness times.
function arrayFreeList(): Contender {
  return {
    name: "Array pop/push",
    setup() {
      const free = Array.from({ length: 1024 }, (_, i) => i);
      return (ops) => popPush(free, ops);
    },
  };
}

const suite: Suite = {
  name: "example",
  description: "A JS Array used as a free list, against the Int32Array stack floor",
  default: false,
  run(ctx) {
    // Interleaved rounds; every ns/op is recorded with its ratio to the floor from the same rounds.
    const [floor, array] = ctx.time("alloc+free pairs", [stackFloor(), arrayFreeList()], { floor: "Int32Array stack" });
    ctx.log(`Array pop/push: ${array!.ratio!.toFixed(1)}x the floor (${floor!.nsPerOp.toFixed(2)} ns)`);
    // Deterministic figures go in with ctx.record.
    ctx.record({ system: "Array pop/push", workload: "alloc+free pairs", metric: "blocks", value: 1024, unit: "count" });
  },
};

export default suite;
