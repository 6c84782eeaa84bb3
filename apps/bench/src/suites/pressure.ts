import { probingArena } from "../harness/probe-order.js";
import { DirectReclaim, ListLru, LruWalk, ShrinkerRegistry, scanDelta, type PageAllocator, type ShrinkControl, type Shrinker } from "@mmkit/shrinker";
import { ProbingArena } from "@mmkit/physmem";
import { stackFloor } from "../floors/index.js";
import type { Contender, Suite, SuiteContext } from "../harness/types.js";
import { SeededRandom } from "../workloads/random.js";

/** The caches under pressure: different sizes and `seeks`, as on a real machine. */
const CACHES = [
  { name: "dentry", objects: 160_000, seeks: 2 },
  { name: "inode", objects: 80_000, seeks: 2 },
  { name: "pte-cache", objects: 40_000, seeks: 1 },
  { name: "xfs-buf", objects: 80_000, seeks: 8 },
  { name: "frag-cache", objects: 20_000, seeks: 0 },
] as const;

/**
 * A cache of `objects` items on a one-node `ListLru`, with its shrinker. `refill` makes every freed
 * item come straight back at the tail (an object freed and reallocated), so the cache keeps its size
 * and a timed loop is in steady state.
 */
function lruCache(name: string, objects: number, seeks: number, refill: boolean): { lru: ListLru<number>; shrinker: Shrinker } {
  const lru = new ListLru<number>({ universe: objects });
  for (let i = 0; i < objects; i++) lru.add(i, 0);
  const requeue: number[] = [];
  const removed = (item: number): 0 => {
    if (refill) requeue.push(item);
    return LruWalk.Removed;
  };
  const shrinker: Shrinker = {
    name,
    seeks,
    numaAware: true,
    count: (sc) => lru.count(sc.nid),
    scan: (sc) => {
      const freed = lru.shrinkWalk(sc, removed);
      if (refill) {
        for (let i = 0; i < requeue.length; i++) lru.add(requeue[i]!, sc.nid);
        requeue.length = 0;
      }
      return freed;
    },
  };
  return { lru, shrinker };
}

function scaled(quick: boolean): { name: string; objects: number; seeks: number }[] {
  return CACHES.map((c) => ({ ...c, objects: quick ? c.objects / 4 : c.objects }));
}

/**
 * Objects freed per cache under a sequence of reclaim requests, against what the formula predicts:
 * a pass asks each cache for `(count >> priority) * 4 / seeks`, so the fraction of a cache reclaimed
 * should not depend on its size and should scale as 4 / seeks (seeks 0: half the cache per pass).
 */
function proportionality(ctx: SuiteContext): void {
  const caches = scaled(ctx.quick).map((c) => ({ ...c, ...lruCache(c.name, c.objects, c.seeks, false) }));
  const registry = new ShrinkerRegistry();
  for (const c of caches) registry.register(c.shrinker);
  const total = caches.reduce((s, c) => s + c.objects, 0);
  const target = Math.round(total / 100);
  const requests = 20;
  let passes = 0;
  let lowest = 12;
  let freedAll = 0;
  for (let i = 0; i < requests; i++) {
    const r = registry.reclaim(target, 0);
    passes += r.passes;
    lowest = Math.min(lowest, r.priority);
    freedAll += r.freed;
    ctx.progress("reclaim requests", i + 1, requests);
  }
  registry.check();
  const workload = `${requests} x reclaim(1% of ${total})`;
  const base = caches.find((c) => c.seeks === 2)!;
  const baseFraction = registry.stats(base.shrinker).freed / base.objects;
  for (const c of caches) {
    const s = registry.stats(c.shrinker);
    const fraction = s.freed / c.objects;
    // What the formula says relative to a seeks-2 cache: 4 / seeks over 4 / 2 (no prediction for seeks 0).
    const expected = c.seeks === 0 ? "seeks 0: count / 2 per pass, any priority" : `formula ${(2 / c.seeks).toFixed(2)}x`;
    const system = `${c.name} (seeks ${c.seeks}, ${c.objects})`;
    ctx.record({ system, workload, metric: "freed", value: s.freed, unit: "count", note: `${(fraction * 100).toFixed(2)}% of the cache; ${s.deferred} deferred` });
    ctx.record({ system, workload, metric: "share vs seeks-2", value: baseFraction > 0 ? fraction / baseFraction : 0, unit: "ratio", note: expected });
    c.lru.check();
  }
  ctx.record({ system: "ShrinkerRegistry", workload, metric: "passes", value: passes, unit: "count", note: `${freedAll} objects freed in all; lowest priority reached ${lowest}` });
  ctx.log(
    `pressure: ${requests} requests for ${target} objects freed ${caches.map((c) => `${c.name} ${registry.stats(c.shrinker).freed}`).join(", ")}. ` +
      `Shares drift from 4/seeks as caches shrink (each pass uses the current count) and as small per-pass work ` +
      `(e.g. ${scanDelta(base.objects, 12, 2)} objects for ${base.objects} at priority 12) waits in deferred until it fills a batch of 128.`,
  );
}

/**
 * The formula with the counts held still: caches that refill at once, one pass at each priority
 * from 12 down to 4 (where the 2 * count cap does not bind yet). Objects scanned per cache should
 * be `sum over p of (count >> p) * 4 / seeks`, less what is still deferred: proportional to size,
 * and to 4 / seeks.
 */
function ladder(ctx: SuiteContext): void {
  const caches = scaled(ctx.quick).map((c) => ({ ...c, ...lruCache(c.name, c.objects, c.seeks, true) }));
  const registry = new ShrinkerRegistry();
  for (const c of caches) registry.register(c.shrinker);
  for (let p = 12; p >= 4; p--) registry.shrink({ nid: 0, priority: p });
  registry.check();
  const workload = "one pass at each priority 12..4, caches refill";
  const base = caches.find((c) => c.seeks === 2)!;
  const baseShare = registry.stats(base.shrinker).scanned / base.objects;
  for (const c of caches) {
    const s = registry.stats(c.shrinker);
    let predicted = 0;
    for (let p = 12; p >= 4; p--) predicted += scanDelta(c.objects, p, c.seeks);
    const system = `${c.name} (seeks ${c.seeks}, ${c.objects})`;
    ctx.record({ system, workload, metric: "scanned", value: s.scanned, unit: "count", note: `sum of deltas ${predicted}; ${s.deferred} still deferred` });
    ctx.record({ system, workload, metric: "share vs seeks-2", value: s.scanned / c.objects / baseShare, unit: "ratio", note: c.seeks === 0 ? "seeks 0: count / 2 per pass" : `formula ${(2 / c.seeks).toFixed(2)}x` });
  }
}

/** Passes run before timing or tracing, so deferred work has reached its steady state. */
const WARM_PASSES = 64;
/** Passes whose scan calls the floor replays. */
const TRACED_PASSES = 256;

/** Five refilling caches (steady state) and a registry holding their shrinkers, warmed up at `priority`. */
function warmRegistry(quick: boolean, priority: number): { registry: ShrinkerRegistry; shrinkers: Shrinker[] } {
  const registry = new ShrinkerRegistry();
  const shrinkers = scaled(quick).map((c) => lruCache(c.name, c.objects, c.seeks, true).shrinker);
  for (const s of shrinkers) registry.register(s);
  for (let i = 0; i < WARM_PASSES; i++) registry.shrink({ nid: 0, priority });
  return { registry, shrinkers };
}

/**
 * The scan calls `TRACED_PASSES` steady-state passes make, as (shrinker index, nrToScan) pairs, with
 * the offset where each pass starts: what the floor replays without the registry.
 */
function tracePasses(quick: boolean, priority: number): { calls: Int32Array; passStart: Int32Array; scanned: number } {
  const { registry, shrinkers } = warmRegistry(quick, priority);
  const calls: number[] = [];
  const passStart = new Int32Array(TRACED_PASSES + 1);
  const wrapped = shrinkers.map((s, index) => ({ ...s, scan: (sc: ShrinkControl) => (calls.push(index, sc.nrToScan), s.scan(sc)) }));
  const tracer = new ShrinkerRegistry();
  for (const s of wrapped) tracer.register(s);
  // Carry the warmed-up deferred work over: run the tracer's own warm-up on the same caches first.
  for (let i = 0; i < WARM_PASSES; i++) tracer.shrink({ nid: 0, priority });
  calls.length = 0;
  let scanned = 0;
  for (let p = 0; p < TRACED_PASSES; p++) {
    passStart[p] = calls.length / 2;
    scanned += tracer.shrink({ nid: 0, priority });
  }
  passStart[TRACED_PASSES] = calls.length / 2;
  registry.check();
  return { calls: Int32Array.from(calls), passStart, scanned: scanned / TRACED_PASSES };
}

/**
 * The floor of a pass: the same caches' own work without the registry: every `count`, then the
 * scan calls a steady-state pass makes (replayed from a trace), called directly.
 */
function passFloor(quick: boolean, priority: number, trace: { calls: Int32Array; passStart: Int32Array }): Contender {
  return {
    name: "callbacks called directly",
    setup() {
      const { shrinkers } = warmRegistry(quick, priority);
      const sc: ShrinkControl = { nid: 0, nrToScan: 0, priority, nrScanned: 0 };
      let pass = 0;
      return (ops) => {
        const { calls, passStart } = trace;
        let sum = 0;
        for (let i = 0; i < ops; i++) {
          for (let k = 0; k < shrinkers.length; k++) sum += shrinkers[k]!.count(sc);
          for (let c = passStart[pass]!; c < passStart[pass + 1]!; c++) {
            sc.nrToScan = calls[2 * c + 1]!;
            sc.nrScanned = sc.nrToScan;
            sum += shrinkers[calls[2 * c]!]!.scan(sc);
          }
          pass = pass + 1 === TRACED_PASSES ? 0 : pass + 1;
        }
        return sum;
      };
    },
  };
}

function shrinkPassContender(quick: boolean, priority: number): Contender {
  return {
    name: "ShrinkerRegistry.shrink",
    setup() {
      const { registry } = warmRegistry(quick, priority);
      const request = { nid: 0, priority };
      return (ops) => {
        let sum = 0;
        for (let i = 0; i < ops; i++) sum += registry.shrink(request);
        return sum;
      };
    },
  };
}

/** One object scanned by a shrinker-sized walk: batches of 128 oldest items removed and added back at the tail. */
function lruScanContender(indexed: boolean): Contender {
  return {
    name: `ListLru (${indexed ? "indexed" : "map"}) walk 128 + add`,
    setup() {
      const lru = new ListLru<number>(indexed ? { universe: 4096 } : { capacity: 4096 });
      for (let i = 0; i < 4096; i++) lru.add(i, 0);
      const taken = new Int32Array(128);
      let n = 0;
      const take = (item: number): 0 => {
        taken[n++] = item;
        return LruWalk.Removed;
      };
      return (ops) => {
        let sum = 0;
        for (let done = 0; done < ops; ) {
          n = 0;
          lru.walk(0, take, Math.min(128, ops - done));
          for (let i = 0; i < n; i++) {
            lru.add(taken[i]!, 0);
            sum = (sum + taken[i]!) | 0;
          }
          done += n;
        }
        return sum;
      };
    },
  };
}

/**
 * Metadata cache lines per ListLru operation (indexed mode, one node), from a ProbingArena, over
 * random items of a large universe so neighbours rarely share a line: the layout's real cost.
 */
function lruLines(ctx: SuiteContext): void {
  const universe = 1 << 16;
  const probe = probingArena();
  const lru = new ListLru<number>({ universe, arena: probe });
  const rng = new SeededRandom(ctx.seed, "pressure/lru-lines");
  const order = rng.shuffle(Int32Array.from({ length: universe }, (_, i) => i));
  const live = universe / 2;
  for (let i = 0; i < live; i++) lru.add(order[i]!, 0);
  const samples = ctx.quick ? 2000 : 10_000;
  const sums = { add: 0, rotate: 0, del: 0 };
  for (let i = 0; i < samples; i++) {
    const victim = order[rng.below(live)]!;
    probe.begin();
    lru.rotate(victim);
    sums.rotate += probe.end().lines;
    probe.begin();
    lru.del(victim);
    sums.del += probe.end().lines;
    probe.begin();
    lru.add(victim, 0);
    sums.add += probe.end().lines;
  }
  lru.check();
  const workload = `ListLru (indexed), ${live} of ${universe} items, random`;
  for (const op of ["add", "rotate", "del"] as const) {
    ctx.record({ system: "ListLru (indexed)", workload, metric: `lines/${op}`, value: sums[op] / samples, unit: "lines", note: op === "add" ? `${(probe.bytes / universe).toFixed(2)} metadata bytes per item` : "self, neighbours, head, tail (+ count)" });
  }
}

/** Order-0 pages on an Int32Array stack: the simplest page allocator there is. */
class StackPages implements PageAllocator {
  readonly #stack: Int32Array;
  #top: number;
  constructor(pages: number) {
    this.#stack = new Int32Array(pages);
    for (let i = 0; i < pages; i++) this.#stack[i] = pages - 1 - i;
    this.#top = pages;
  }
  get free(): number {
    return this.#top;
  }
  allocPages(order: number): number {
    return order === 0 && this.#top > 0 ? this.#stack[--this.#top]! : -1;
  }
  freePages(pfn: number): void {
    this.#stack[this.#top++] = pfn;
  }
}

/** The direct-reclaim workload: a draw per step (what happens) and a pick (which page), from the seed. */
function pressureSteps(seed: number, steps: number): { kind: Uint8Array; pick: Uint32Array } {
  const rng = new SeededRandom(seed, "pressure/direct-reclaim");
  const kind = new Uint8Array(steps);
  const pick = new Uint32Array(steps);
  for (let i = 0; i < steps; i++) {
    kind[i] = rng.below(10);
    pick[i] = rng.nextUint32();
  }
  return { kind, pick };
}

interface PressureOutcome {
  attempts: number;
  succeeded: number;
  cachePages: number;
  stats: ReturnType<DirectReclaim["stats"]> | null;
}

/**
 * An application and three page caches share `pages` pages. Each step: a cache takes a free page
 * (2 in 10; caches fill free memory without ever reclaiming), or the application allocates (5 in
 * 10 below its working-set target, 4 in 10 at it) or frees a random page of its own. The caches hold
 * their pages on ListLrus with shrinkers of seeks 1, 2 and 4. With `reclaim` the application
 * allocates through `DirectReclaim`; without, straight from the stack.
 */
function runPressure(pages: number, steps: { kind: Uint8Array; pick: Uint32Array }, reclaim: boolean): PressureOutcome {
  const raw = new StackPages(pages);
  const registry = new ShrinkerRegistry();
  const lrus = [1, 2, 4].map((seeks) => {
    const lru = new ListLru<number>({ universe: pages });
    registry.register({
      name: `page-cache seeks ${seeks}`,
      seeks,
      numaAware: true,
      count: (sc) => lru.count(sc.nid),
      scan: (sc) => lru.shrinkWalk(sc, (pfn) => (raw.freePages(pfn), LruWalk.Removed)),
    });
    return lru;
  });
  const direct = reclaim ? new DirectReclaim(raw, registry) : null;
  const app: PageAllocator = direct ?? raw;
  const held = new Int32Array(pages);
  let live = 0;
  const workingSet = Math.floor(pages * 0.8);
  let attempts = 0;
  let succeeded = 0;
  const { kind, pick } = steps;
  for (let i = 0; i < kind.length; i++) {
    const k = kind[i]!;
    if (k < 2) {
      const pfn = raw.allocPages(0);
      if (pfn >= 0) lrus[pick[i]! % 3]!.add(pfn, 0);
    } else if (k < (live < workingSet ? 7 : 6)) {
      attempts++;
      const pfn = app.allocPages(0);
      if (pfn >= 0) {
        held[live++] = pfn;
        succeeded++;
      }
    } else if (live > 0) {
      const at = pick[i]! % live;
      app.freePages(held[at]!, 0);
      held[at] = held[--live]!;
    }
  }
  registry.check();
  return { attempts, succeeded, cachePages: lrus.reduce((s, l) => s + l.size, 0), stats: direct?.stats() ?? null };
}

/** Allocation and free through the wrapper when the stack never runs dry: the fast path's cost. */
function pageContender(name: string, wrap: boolean): Contender {
  return {
    name,
    setup() {
      const raw = new StackPages(1024);
      const pages: PageAllocator = wrap ? new DirectReclaim(raw, new ShrinkerRegistry()) : raw;
      return (ops) => {
        let sum = 0;
        for (let i = 0; i < ops; i++) {
          const pfn = pages.allocPages(0);
          pages.freePages(pfn, 0);
          sum = (sum + pfn) | 0;
        }
        return sum;
      };
    },
  };
}

function directReclaim(ctx: SuiteContext): void {
  const pages = ctx.quick ? 4096 : 16_384;
  const steps = pressureSteps(ctx.seed, ctx.quick ? 50_000 : 200_000);
  const workload = `app + 3 page caches on ${pages} pages, ${steps.kind.length} steps`;
  const bare = runPressure(pages, steps, false);
  ctx.progress("direct reclaim", 1, 2);
  const wrapped = runPressure(pages, steps, true);
  ctx.progress("direct reclaim", 2, 2);
  for (const [system, o] of [
    ["Int32Array page stack", bare],
    ["DirectReclaim(page stack)", wrapped],
  ] as const) {
    ctx.record({ system, workload, metric: "alloc success", value: (o.succeeded / o.attempts) * 100, unit: "%", note: `${o.attempts - o.succeeded} of ${o.attempts} failed; caches end with ${o.cachePages} pages` });
  }
  const s = wrapped.stats!;
  ctx.record({ system: "DirectReclaim(page stack)", workload, metric: "slow paths", value: s.slowPath, unit: "count", note: `${s.reclaimRounds} reclaim rounds freed ${s.reclaimed} pages; ${s.succeededAfterReclaim} succeeded after reclaim` });
}

/**
 * Memory pressure with reclaim through `@mmkit/shrinker`: five ListLru caches (dentry, inode,
 * pte-cache, xfs-buf, frag-cache) of different sizes and `seeks` under 20 reclaim requests, with
 * the objects each gives up against what `do_shrink_slab`'s formula predicts; the time of a shrink
 * pass (beside calling the five `count`s directly), of a 1% reclaim, and of one ListLru object scan
 * (beside the Int32Array stack floor); and an application's allocation success rate on a page stack
 * shared with three page caches, with and without `DirectReclaim`.
 */
const suite: Suite = {
  name: "pressure",
  description: "Memory pressure with reclaim: 5 shrinker caches of different sizes/seeks under reclaim requests (freed vs the 4/seeks formula), shrink-pass time, ListLru scan cost, DirectReclaim success rate vs a bare page stack",
  default: true,
  run(ctx) {
    proportionality(ctx);
    ladder(ctx);

    for (const priority of [12, 6]) {
      const trace = tracePasses(ctx.quick, priority);
      ctx.time(`one shrink pass, 5 caches, priority ${priority}`, [passFloor(ctx.quick, priority, trace), shrinkPassContender(ctx.quick, priority)], {
        floor: "callbacks called directly",
        ops: ctx.quick ? 32 : 128,
        note: `steady state: ${trace.scanned.toFixed(0)} objects scanned per pass`,
      });
    }
    ctx.time("LRU object scan", [stackFloor(), lruScanContender(true), lruScanContender(false)], { floor: "Int32Array stack", note: "per object: one reclaimed and re-cached" });
    ctx.time("order-0 alloc+free, never dry", [pageContender("Int32Array page stack", false), pageContender("DirectReclaim(page stack)", true)], { floor: "Int32Array page stack", note: "the wrapper's fast path" });
    // After the timings: a probe runs the code over ProbingArena's proxy arrays (see the scale suite).
    lruLines(ctx);

    directReclaim(ctx);
  },
};

export default suite;
