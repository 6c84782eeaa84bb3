/**
 * One of the two workers of the `page-frag` suite: the producer (role 0, CPU 0 of every shared
 * buddy) or the consumer (role 1, CPU 1). Each attaches to every configuration's allocators once,
 * then sleeps on the control word; a command names a configuration and how many fragments to move.
 * A two-worker configuration runs the kernel's `page_frag_test` (the producer allocates and pushes
 * through the 512-entry ring, the consumer pops and frees) or, for the floor, the ring alone; a
 * one-thread configuration runs in the producer while the consumer only answers.
 *
 * Commands come through the crew's control word (harness/worker-crew.ts): a configuration, then the
 * fragments to move. After each command a worker writes its cache's cumulative counters to `stats`
 * (see page-frag-protocol.ts).
 */
import { parentPort, workerData } from "node:worker_threads";
import { SharedBuddy } from "@mmkit/buddy";
import { FragmentCache, SharedFragmentCache, SharedFragmentTable } from "@mmkit/frag-cache";
import { freshLoop } from "../harness/fresh-loop.js";
import { serveCrew } from "./crew-member.js";
import { PAGE_FRAG_STATS, statsOffset, type PageFragConfig, type PageFragWorkerData } from "./page-frag-protocol.js";
import { consumerLoop, oneThreadLoop, oneThreadState, producerLoop, ringConsumerLoop, ringProducerLoop, type FragmentFace } from "../workloads/page-frag.js";

interface Side {
  cache: (FragmentFace & { stats(): Record<(typeof PAGE_FRAG_STATS)[number], number>; drain(): void }) | null;
  run: (n: number) => number;
  /** Frees what the side still holds in flight (one-thread runs) before the final drain. */
  release?: () => void;
}

const d = workerData as PageFragWorkerData;
let broken: string | null = null;
/** Failed allocations the producer retried, per configuration. */
const failures = d.configs.map(() => 0);

function attach(config: PageFragConfig): Side {
  const idle: Side = { cache: null, run: (n) => n };
  if (config.kind === "floor") {
    const ring = config.ring!;
    const loop = d.role === 0 ? ringProducerLoop : ringConsumerLoop;
    return { cache: null, run: (n) => loop(ring, n) };
  }
  if (d.role === 1 && config.kind !== "workers") return idle;
  const pages = SharedBuddy.attach(config.buddy!).claimCpu(d.role);
  if (config.kind === "one-thread") {
    return oneThread(config, new FragmentCache(pages));
  }
  const cache = new SharedFragmentCache(SharedFragmentTable.attach(config.table!), pages);
  if (config.kind === "one-thread shared") return oneThread(config, cache);
  const ring = config.ring!;
  if (d.role === 1) {
    const loop = consumerLoop;
    return { cache, run: (n) => loop(cache, ring, n) };
  }
  const loop = producerLoop;
  const cursor = new Int32Array(1);
  const index = d.configs.indexOf(config);
  return {
    cache,
    run: (n) => {
      const failed = loop(cache, ring, config.sizes, config.aligns, cursor, n);
      failures[index] = failures[index]! + failed;
      return failed;
    },
  };
}

/**
 * The sequence in this worker alone, each configuration with its own copy of the loop (`freshLoop`:
 * `FragmentCache` and `SharedFragmentCache` would otherwise share its type feedback). The two-worker
 * loops see one cache class each and call the ring helpers, so they are not copied.
 */
function oneThread(config: PageFragConfig, cache: NonNullable<Side["cache"]>): Side {
  const loop = freshLoop(oneThreadLoop);
  const queue = new Int32Array(config.depth + 1);
  const state = oneThreadState();
  return {
    cache,
    run: (n) => loop(cache, queue, config.sizes, config.aligns, state, config.depth, n),
    release: () => {
      const slots = config.depth + 1;
      for (let i = 0; i < state[2]!; i++) cache.free(queue[(state[1]! + i) % slots]!);
      state[2] = 0;
    },
  };
}

let sides: Side[] = [];
try {
  sides = d.configs.map(attach);
} catch (e) {
  broken = `could not attach: ${e instanceof Error ? e.message : String(e)}`;
}

function publish(config: number): void {
  const cache = sides[config]?.cache;
  if (cache == null) return;
  const s = cache.stats();
  const at = statsOffset(config, d.role);
  PAGE_FRAG_STATS.forEach((name, i) => {
    d.stats[at + i] = name === "allocFailures" ? failures[config]! : s[name];
  });
}

let sink = 0;
const failure = serveCrew(
  d.control,
  (config, args) => {
    sink += sides[config]!.run(args[0]!);
    publish(config);
    return true;
  },
  broken,
);
broken = failure === null ? null : `page-frag worker ${d.role}, ${failure}`;
// Quiescent: give the current blocks back, so the suite can check that every page came home.
try {
  for (const side of broken === null ? sides : []) {
    side.release?.();
    side.cache?.drain();
  }
  for (let c = 0; c < sides.length; c++) publish(c);
} catch (e) {
  broken = `page-frag worker ${d.role}, final drain: ${e instanceof Error ? e.message : String(e)}`;
}
// The sum of the addresses moved goes with the answer, so the loops' work is consumed.
parentPort!.postMessage(broken ?? { sink });
