/**
 * Adversarial bad-input sweep: every public function and method of `@mmkit/shrinker` (the registry,
 * `ListLru` in both modes, `DirectReclaim`, the scan arithmetic), every argument position, each
 * hostile value, against a world in a non-trivial state: a registry on two nodes with a NUMA-aware
 * page cache, a fake dentry cache, a non-aware cache, a shrinker whose count misbehaves (warnings),
 * one unregistered (a free slot), deferred work from earlier passes; the page cache's indexed
 * `ListLru`; a map-mode `ListLru` with deletions; a `DirectReclaim` that has reclaimed.
 *
 * Each call is either legitimate (the reason is written next to it, and it does exactly what the
 * canonical call does on a twin world) or a typed `MmkitError` with a documented code and a message
 * naming the value, after which everything observable is what it was.
 */
import fc from "fast-check";
import { describe, expect, test } from "vitest";
import { ErrorCode, MetadataArena, MmkitError, describeValue } from "@mmkit/physmem";
import {
  DirectReclaim,
  ListLru,
  LruWalk,
  ShrinkerErrorCode,
  ShrinkerRegistry,
  nextDeferred,
  scanBatches,
  scanDelta,
  totalScan,
  type PageAllocator,
  type ShrinkControl,
  type Shrinker,
} from "@mmkit/shrinker";
import { FakeCache } from "./helpers.js";
import { HOSTILE_VALUES, expectCallOutcome, type CallOutcome } from "@mmkit/test-support";

/** Codes the README documents for misuse. */
const DOCUMENTED = new Set<string>([ErrorCode.InvalidArgument, ErrorCode.OutOfRange, ShrinkerErrorCode.AlreadyRegistered, ShrinkerErrorCode.NotRegistered]);

const HOSTILE = HOSTILE_VALUES;
const MAX = Number.MAX_SAFE_INTEGER;

/** A fresh copy of a hostile value (objects by identity: the twin needs its own). */
function fresh(name: string, v: unknown): unknown {
  return name === "{}" ? {} : name === "[]" ? [] : v;
}

/**
 * Order-0 pages 0..63 on a stack, strict about frees the way a real page allocator is: a pfn it did
 * not hand out is `ERR_NOT_ALLOCATED`, another order `ERR_WRONG_SIZE` (DirectReclaim passes such
 * misuse through to it, as documented). Typed arrays: what it holds is exactly comparable.
 */
class StrictPages implements PageAllocator {
  readonly stack = new Int32Array(64);
  readonly out = new Uint8Array(64);
  top = 64;
  readonly log: string[] = [];
  constructor() {
    for (let i = 0; i < 64; i++) this.stack[i] = 63 - i;
  }
  allocPages(order: number): number {
    this.log.push(`alloc ${order}`);
    if (order !== 0 || this.top === 0) return -1;
    const pfn = this.stack[--this.top]!;
    this.out[pfn] = 1;
    return pfn;
  }
  freePages(pfn: number, order: number): void {
    if (!(pfn >= 0 && pfn < 64 && this.out[pfn] === 1)) throw new MmkitError(ErrorCode.NotAllocated, `pfn ${pfn} was not handed out`);
    if (order !== 0) throw new MmkitError(ErrorCode.WrongSize, `pfn ${pfn} was handed out with order 0, freed with order ${order}`);
    this.log.push(`free ${pfn}`);
    this.out[pfn] = 0;
    this.stack[this.top++] = pfn;
  }
}

function build() {
  const arena = new MetadataArena();
  const pages = new StrictPages();
  const registry = new ShrinkerRegistry({ nodes: 2, arena, warningLimit: 8 });
  // The page cache: 40 pages on an indexed ListLru, on node pfn % 2.
  const lru = new ListLru<number>({ nodes: 2, universe: 64, arena });
  for (let i = 0; i < 40; i++) {
    const pfn = pages.allocPages(0);
    lru.add(pfn, pfn % 2);
  }
  lru.rotate(0);
  const pageCache: Shrinker = {
    name: "page-cache",
    numaAware: true,
    batch: 4,
    count: (sc) => lru.count(sc.nid),
    scan: (sc) => lru.shrinkWalk(sc, (pfn) => (pages.freePages(pfn, 0), LruWalk.Removed)),
  };
  const dentries = new FakeCache("dentries", [100, 50], { numaAware: true, batch: 16 });
  const plain = new FakeCache("plain", 30, { seeks: 0 });
  const broken: Shrinker = { name: "broken", count: () => Number.NaN, scan: () => 0 };
  const gone = new FakeCache("gone", 10);
  for (const s of [gone, pageCache, dentries, plain, broken]) registry.register(s);
  registry.unregister(gone);
  registry.shrink({ nid: 0, priority: 2 });
  registry.shrink({ nid: 1, priority: 4 });
  const direct = new DirectReclaim(pages, registry, { minTarget: 4 });
  const held: number[] = [];
  // Take pages until one allocation has had to reclaim (the passes above gave some back already).
  while (direct.stats().slowPath === 0) held.push(direct.allocPages(0));
  // Any values as items, some deleted and rotated.
  const map = new ListLru<unknown>({ nodes: 2, capacity: 4, arena });
  for (const [item, nid] of [[0, 0], [100, 0], [101, 1], ["a", 1], [102, 0], [103, 1]] as const) map.add(item, nid);
  map.del(101);
  map.rotate(0);
  const world = { arena, pages, registry, lru, pageCache, dentries, plain, broken, gone, direct, held, map };
  expect(direct.stats().slowPath).toBeGreaterThan(0);
  expect(registry.warnings().length).toBeGreaterThan(0);
  expect(held.every((p) => p >= 0)).toBe(true);
  checkAll(world);
  return world;
}
type World = ReturnType<typeof build>;

function checkAll(w: World): void {
  w.registry.check();
  w.lru.check();
  w.map.check();
}

function lruState<T>(l: ListLru<T>) {
  return { size: l.size, counts: [l.count(0), l.count(1)], items: [l.items(0), l.items(1)], lastWalkVisited: l.lastWalkVisited };
}

/** Everything observable, without calling any shrinker callback. */
function snapshot(w: World) {
  return {
    registry: {
      size: w.registry.size,
      warningCount: w.registry.warningCount,
      walking: w.registry.walking,
      names: w.registry.shrinkers().map((s) => s.name),
      stats: w.registry.stats(),
      warnings: w.registry.warnings(),
    },
    lru: lruState(w.lru),
    map: lruState(w.map),
    direct: w.direct.stats(),
    pages: { free: Array.from(w.pages.stack.subarray(0, w.pages.top)), log: w.pages.log.slice() },
    caches: [w.dentries, w.plain].map((c) => ({ objects: c.objects.slice(), calls: c.calls.length, counts: c.counts })),
    metadata: w.arena.byLabel(),
  };
}

/** -0 and 0 are one number; a -0 handed in may be kept as given (stats show it), so twins compare with -0 read as 0. */
function zeroed(x: unknown): unknown {
  if (Object.is(x, -0)) return 0;
  if (Array.isArray(x)) return x.map(zeroed);
  if (x !== null && typeof x === "object" && !(x instanceof Error)) return Object.fromEntries(Object.entries(x).map(([k, v]) => [k, zeroed(v)]));
  return x;
}

type Outcome = CallOutcome<World>;
const refuse = (code: string, mentions: string): Outcome => ({ code, mentions });
const legit = (why: string, same: (w: World) => unknown): Outcome => ({ why, same });
/** DirectReclaim's documented pass-through: the wrapped allocator's own error. */
const wrapped = (code: string, mentions: string): Outcome => ({ code, mentions, wrapped: true });


function expectOutcome(call: (w: World) => unknown, outcome: Outcome): void {
  expectCallOutcome({ make: build, state: snapshot, check: checkAll, result: zeroed }, call, outcome, DOCUMENTED);
}

/**
 * An integer argument checked with physmem's `requireInteger(value, label, min, max)`: not a safe
 * integer is ERR_INVALID_ARGUMENT, outside [min, max] ERR_OUT_OF_RANGE; a legitimate value must be
 * listed in `legit` with its reason (the table fails otherwise).
 */
function intArg(label: string, min: number, max: number, legitCases: Record<string, Outcome> = {}) {
  return (name: string, v: unknown): Outcome => {
    if (name in legitCases) return legitCases[name]!;
    if (typeof v !== "number" || !Number.isSafeInteger(v)) return refuse(ErrorCode.InvalidArgument, `${label} must be an integer, got ${describeValue(v)}`);
    if (v < min || v > max) return refuse(ErrorCode.OutOfRange, `${label} must be in [${min}, ${max}], got ${describeValue(v)}`);
    throw new Error(`test table: ${label} = ${name} is accepted: list it as legitimate, with the reason`);
  };
}

/** A fresh valid shrinker with one field replaced. */
function withField(field: keyof Shrinker, v: unknown): Shrinker {
  return { name: "new", count: () => 5, scan: () => 0, [field]: v } as Shrinker;
}

// ---------------------------------------------------------------------------------------------
// ShrinkerRegistry

describe("ShrinkerRegistry", () => {
  test.each(HOSTILE)("register(%s)", (name, v) => {
    const outcome =
      name === "{}" || name === "[]"
        ? refuse(ErrorCode.InvalidArgument, "shrinker name must be a non-empty string, got undefined")
        : refuse(ErrorCode.InvalidArgument, `shrinker must be an object, got ${describeValue(v)}`);
    expectOutcome((w) => w.registry.register(fresh(name, v) as Shrinker), outcome);
  });

  test.each(HOSTILE)("register({ name: %s })", (name, v) => {
    const outcome =
      typeof v === "string"
        ? legit("a non-empty string is a name", (t) => t.registry.register(withField("name", v)))
        : refuse(ErrorCode.InvalidArgument, `shrinker name must be a non-empty string, got ${describeValue(v)}`);
    expectOutcome((w) => w.registry.register(withField("name", fresh(name, v))), outcome);
  });

  test.each(HOSTILE)("register({ count: %s }) and register({ scan: %s })", (name, v) => {
    expectOutcome((w) => w.registry.register(withField("count", fresh(name, v))), refuse(ErrorCode.InvalidArgument, `shrinker "new" needs count and scan functions, got count ${describeValue(v)}`));
    expectOutcome((w) => w.registry.register(withField("scan", fresh(name, v))), refuse(ErrorCode.InvalidArgument, `shrinker "new" needs count and scan functions, got scan ${describeValue(v)}`));
  });

  test.each(HOSTILE)("register({ seeks: %s })", (name, v) => {
    const outcome = intArg('shrinker "new" seeks', 0, 2 ** 20, {
      undefined: legit("not given: DEFAULT_SEEKS", (t) => t.registry.register(withField("seeks", 2))),
      null: legit("`??`: null is not given", (t) => t.registry.register(withField("seeks", 2))),
      "-0": legit("-0 is 0: trim half every pass", (t) => t.registry.register(withField("seeks", 0))),
    })(name, v);
    expectOutcome((w) => w.registry.register(withField("seeks", fresh(name, v))), outcome);
  });

  test.each(HOSTILE)("register({ batch: %s })", (name, v) => {
    const outcome = intArg('shrinker "new" batch', 0, 2 ** 40, {
      undefined: legit("not given: SHRINK_BATCH", (t) => t.registry.register(withField("batch", 128))),
      null: legit("`??`: null is not given", (t) => t.registry.register(withField("batch", 128))),
      "-0": legit("-0 is 0, which means SHRINK_BATCH as in the kernel", (t) => t.registry.register(withField("batch", 128))),
    })(name, v);
    expectOutcome((w) => w.registry.register(withField("batch", fresh(name, v))), outcome);
  });

  test.each(HOSTILE)("register({ numaAware: %s })", (name, v) => {
    const outcome =
      name === "undefined" || name === "null"
        ? legit("not given (`??`): not NUMA-aware", (t) => t.registry.register(withField("numaAware", false)))
        : refuse(ErrorCode.InvalidArgument, `shrinker "new" numaAware must be a boolean, got ${describeValue(v)}`);
    expectOutcome((w) => w.registry.register(withField("numaAware", fresh(name, v))), outcome);
  });

  test("register twice, unregister twice, and the stats of a stranger", () => {
    expectOutcome((w) => w.registry.register(w.dentries), refuse(ShrinkerErrorCode.AlreadyRegistered, 'shrinker "dentries" is registered already'));
    expectOutcome((w) => w.registry.unregister(w.gone), refuse(ShrinkerErrorCode.NotRegistered, 'shrinker "gone" is not registered'));
    expectOutcome((w) => w.registry.stats(w.gone), refuse(ShrinkerErrorCode.NotRegistered, 'shrinker "gone" is not registered'));
    expectOutcome((w) => w.registry.debugScan(w.gone, 0, 1), refuse(ShrinkerErrorCode.NotRegistered, 'shrinker "gone" is not registered'));
  });

  test("a stranger whose name is a BigInt used to throw a TypeError from JSON.stringify", () => {
    const stranger = () => ({ name: BigInt(7), count: () => 0, scan: () => 0 }) as unknown as Shrinker;
    expectOutcome((w) => w.registry.unregister(stranger()), refuse(ShrinkerErrorCode.NotRegistered, "shrinker object is not registered"));
    expectOutcome((w) => w.registry.stats(stranger()), refuse(ShrinkerErrorCode.NotRegistered, "shrinker object is not registered"));
    expectOutcome((w) => w.registry.countFile(stranger()), refuse(ShrinkerErrorCode.NotRegistered, "shrinker object is not registered"));
    expectOutcome((w) => w.registry.debugScan(stranger(), 0, 1), refuse(ShrinkerErrorCode.NotRegistered, "shrinker object is not registered"));
  });

  test.each(HOSTILE)("unregister / stats / countFile / debugScan of %s", (name, v) => {
    const printed = typeof v === "object" && v !== null ? "object" : describeValue(v);
    const notRegistered = refuse(ShrinkerErrorCode.NotRegistered, `shrinker ${printed} is not registered`);
    expectOutcome((w) => w.registry.unregister(fresh(name, v) as Shrinker), notRegistered);
    expectOutcome(
      (w) => w.registry.stats(fresh(name, v) as Shrinker),
      name === "undefined" ? legit("stats() with no shrinker: all of them", (t) => t.registry.stats()) : notRegistered,
    );
    expectOutcome((w) => w.registry.countFile(fresh(name, v) as Shrinker), notRegistered);
    expectOutcome((w) => w.registry.debugScan(fresh(name, v) as Shrinker, 0, 1), notRegistered);
  });

  test.each(HOSTILE)("isRegistered(%s) is false", (name, v) => {
    expectOutcome((w) => w.registry.isRegistered(fresh(name, v) as Shrinker), legit("a predicate: not registered", () => false));
  });

  test.each(HOSTILE)("shrink(%s)", (name, v) => {
    const outcome =
      name === "{}" || name === "[]"
        ? refuse(ErrorCode.InvalidArgument, "nid must be an integer, got undefined")
        : refuse(ErrorCode.InvalidArgument, `shrink request must be an object, got ${describeValue(v)}`);
    expectOutcome((w) => w.registry.shrink(fresh(name, v) as never), outcome);
  });

  test.each(HOSTILE)("shrink({ nid: %s, priority: 3 })", (name, v) => {
    const outcome = intArg("nid", 0, 1, { "-0": legit("-0 is node 0", (t) => t.registry.shrink({ nid: 0, priority: 3 })) })(name, v);
    expectOutcome((w) => w.registry.shrink({ nid: v as number, priority: 3 }), outcome);
  });

  test.each(HOSTILE)("shrink({ nid: 1, priority: %s })", (name, v) => {
    const outcome = intArg("priority", 0, 12, { "-0": legit("-0 is priority 0", (t) => t.registry.shrink({ nid: 1, priority: 0 })) })(name, v);
    expectOutcome((w) => w.registry.shrink({ nid: 1, priority: v as number }), outcome);
  });

  test.each(HOSTILE)("reclaim(target = %s)", (name, v) => {
    const outcome = intArg("target", 0, MAX, {
      "-0": legit("-0 is a target of 0: no pass", (t) => t.registry.reclaim(0)),
      MAX_SAFE_INTEGER: legit("a target it cannot reach: all 13 priorities on every node", (t) => t.registry.reclaim(MAX)),
    })(name, v);
    expectOutcome((w) => w.registry.reclaim(v as number), outcome);
  });

  test.each(HOSTILE)("reclaim(64, nid = %s)", (name, v) => {
    const outcome = intArg("nid", 0, 1, {
      undefined: legit("no nid: every node", (t) => t.registry.reclaim(64)),
      "-0": legit("-0 is node 0", (t) => t.registry.reclaim(64, 0)),
    })(name, v);
    expectOutcome((w) => w.registry.reclaim(64, v as number), outcome);
  });

  test.each(HOSTILE)("debugScan(dentries, nid = %s, 8)", (name, v) => {
    const outcome = intArg("nid", 0, 1, { "-0": legit("-0 is node 0", (t) => t.registry.debugScan(t.dentries, 0, 8)) })(name, v);
    expectOutcome((w) => w.registry.debugScan(w.dentries, v as number, 8), outcome);
  });

  test.each(HOSTILE)("debugScan(dentries, 1, nrToScan = %s)", (name, v) => {
    expectOutcome((w) => w.registry.debugScan(w.dentries, 1, v as number), intArg("nrToScan", 1, 2 ** 50)(name, v));
  });

  test("methods without parameters ignore extra arguments", () => {
    const calls: [(w: World, v: unknown) => unknown, (w: World) => unknown][] = [
      // The shrinkers are objects with closures over their world: compare them by name.
      [(w, v) => (w.registry.shrinkers as (x: unknown) => Shrinker[])(v).map((s) => s.name), (w) => w.registry.shrinkers().map((s) => s.name)],
      [(w, v) => (w.registry.debugDump as (x: unknown) => unknown)(v), (w) => w.registry.debugDump()],
      [(w, v) => (w.registry.warnings as (x: unknown) => unknown)(v), (w) => w.registry.warnings()],
      [(w, v) => (w.registry.clearWarnings as (x: unknown) => unknown)(v), (w) => w.registry.clearWarnings()],
      [(w, v) => (w.registry.check as (x: unknown) => unknown)(v), (w) => w.registry.check()],
      [(w, v) => (w.lru.check as (x: unknown) => unknown)(v), (w) => w.lru.check()],
      [(w, v) => (w.direct.stats as (x: unknown) => unknown)(v), (w) => w.direct.stats()],
    ];
    for (const [call, plain] of calls) {
      for (const [name, v] of HOSTILE) expectOutcome((w) => call(w, fresh(name, v)), legit("JS ignores arguments a method does not declare", plain));
    }
  });
});

// ---------------------------------------------------------------------------------------------
// ListLru

/** A walk callback that keeps everything: rotates multiples of 3, skips the rest. */
const keep = (item: unknown) => (typeof item === "number" && item % 3 === 0 ? LruWalk.Rotate : LruWalk.Skip);

describe("ListLru (indexed: universe 64)", () => {
  test.each(HOSTILE)("add(item = %s, 0)", (name, v) => {
    const outcome = intArg("item", 0, 63, { "-0": legit("-0 is item 0", (t) => t.lru.add(0, 0)) })(name, v);
    expectOutcome((w) => w.lru.add(v as number, 0), outcome);
  });

  test.each(HOSTILE)("add(63, nid = %s)", (name, v) => {
    const outcome = intArg("nid", 0, 1, { "-0": legit("-0 is node 0", (t) => t.lru.add(63, 0)) })(name, v);
    expectOutcome((w) => w.lru.add(63, v as number), outcome);
  });

  test.each(HOSTILE)("del / rotate / has / nodeOf (%s)", (name, v) => {
    // A value that cannot be an item is on no list: false / -1, as documented for an item on none.
    const zero = name === "-0";
    expectOutcome((w) => w.lru.del(v as number), zero ? legit("-0 is item 0", (t) => t.lru.del(0)) : legit("on no list", () => false));
    expectOutcome((w) => w.lru.rotate(v as number), zero ? legit("-0 is item 0", (t) => t.lru.rotate(0)) : legit("on no list", () => false));
    expectOutcome((w) => w.lru.has(v as number), zero ? legit("-0 is item 0", (t) => t.lru.has(0)) : legit("on no list", () => false));
    expectOutcome((w) => w.lru.nodeOf(v as number), zero ? legit("-0 is item 0", (t) => t.lru.nodeOf(0)) : legit("on no list", () => -1));
  });

  test.each(HOSTILE)("count / items (nid = %s)", (name, v) => {
    expectOutcome((w) => w.lru.count(v as number), intArg("nid", 0, 1, { "-0": legit("-0 is node 0", (t) => t.lru.count(0)) })(name, v));
    expectOutcome((w) => w.lru.items(v as number), intArg("nid", 0, 1, { "-0": legit("-0 is node 0", (t) => t.lru.items(0)) })(name, v));
  });

  test.each(HOSTILE)("walk(nid = %s)", (name, v) => {
    expectOutcome((w) => w.lru.walk(v as number, keep, 5), intArg("nid", 0, 1, { "-0": legit("-0 is node 0", (t) => t.lru.walk(0, keep, 5)) })(name, v));
  });

  test.each(HOSTILE)("walk(1, callback = %s)", (name, v) => {
    expectOutcome((w) => w.lru.walk(1, fresh(name, v) as never, 5), refuse(ErrorCode.InvalidArgument, `walk callback must be a function, got ${describeValue(v)}`));
  });

  test.each(HOSTILE)("walk(1, keep, nrToWalk = %s)", (name, v) => {
    const outcome = intArg("nrToWalk", 0, MAX, {
      undefined: legit("not given: the whole list", (t) => t.lru.walk(1, keep)),
      "-0": legit("-0 is 0 items", (t) => t.lru.walk(1, keep, 0)),
      MAX_SAFE_INTEGER: legit("more than there are: the whole list", (t) => t.lru.walk(1, keep)),
    })(name, v);
    expectOutcome((w) => w.lru.walk(1, keep, v as number), outcome);
  });

  const sc = (nid: unknown, nrToScan: unknown) => ({ nid, nrToScan, priority: 0, nrScanned: 0 }) as ShrinkControl;

  test.each(HOSTILE)("shrinkWalk(sc = %s)", (name, v) => {
    const outcome =
      name === "{}" || name === "[]"
        ? refuse(ErrorCode.InvalidArgument, "nrToScan must be an integer, got undefined")
        : refuse(ErrorCode.InvalidArgument, `shrink control must be an object, got ${describeValue(v)}`);
    expectOutcome((w) => w.lru.shrinkWalk(fresh(name, v) as never, keep), outcome);
  });

  test.each(HOSTILE)("shrinkWalk({ nid: %s, nrToScan: 3 })", (name, v) => {
    const outcome = intArg("nid", 0, 1, { "-0": legit("-0 is node 0", (t) => t.lru.shrinkWalk(sc(0, 3), keep)) })(name, v);
    expectOutcome((w) => w.lru.shrinkWalk(sc(v, 3), keep), outcome);
  });

  test.each(HOSTILE)("shrinkWalk({ nid: 1, nrToScan: %s })", (name, v) => {
    const outcome = intArg("nrToScan", 0, MAX, {
      "-0": legit("-0 is 0 items", (t) => t.lru.shrinkWalk(sc(1, 0), keep)),
      MAX_SAFE_INTEGER: legit("more than there are: the whole list", (t) => t.lru.shrinkWalk(sc(1, MAX), keep)),
    })(name, v);
    expectOutcome((w) => w.lru.shrinkWalk(sc(1, v), keep), outcome);
  });

  test("shrinkWalk without nrToScan used to walk the whole list; it is refused", () => {
    expectOutcome((w) => w.lru.shrinkWalk({ nid: 1 } as never, () => LruWalk.Removed), refuse(ErrorCode.InvalidArgument, "nrToScan must be an integer, got undefined"));
  });

  test.each(HOSTILE)("shrinkWalk(sc, callback = %s)", (name, v) => {
    expectOutcome((w) => w.lru.shrinkWalk(sc(1, 3), fresh(name, v) as never), refuse(ErrorCode.InvalidArgument, `walk callback must be a function, got ${describeValue(v)}`));
  });

  test("a walk callback answering junk: typed error naming the answer; the items before it stay handled", () => {
    // Documented: "that item is left in place; items handled before it stay handled".
    const w = build();
    const before = w.lru.items(1);
    let n = 0;
    expect(() => w.lru.walk(1, () => (n++ === 0 ? LruWalk.Rotate : (BigInt(2) as never)))).toThrow(expect.objectContaining({ code: ErrorCode.InvalidArgument, message: expect.stringContaining("got 2n") }));
    expect(w.lru.items(1)).toEqual([...before.slice(1), before[0]]);
    w.lru.check();
  });
});

describe("ListLru (map mode: any value is an item)", () => {
  test.each(HOSTILE)("add(%s, 1)", (name, v) => {
    // Any value can be an item (numbers by value, objects by identity); -0 is the number 0, on node 0 already.
    const outcome = name === "-0" ? legit("-0 is item 0, listed already", (t) => t.map.add(0, 1)) : legit("a new item", (t) => t.map.add(fresh(name, v), 1));
    expectOutcome((w) => w.map.add(fresh(name, v), 1), outcome);
  });

  test.each(HOSTILE)('add("z", nid = %s)', (name, v) => {
    expectOutcome((w) => w.map.add("z", v as number), intArg("nid", 0, 1, { "-0": legit("-0 is node 0", (t) => t.map.add("z", 0)) })(name, v));
  });

  test.each(HOSTILE)("del / rotate / has / nodeOf (%s)", (name, v) => {
    const zero = name === "-0";
    expectOutcome((w) => w.map.del(fresh(name, v)), zero ? legit("-0 is item 0", (t) => t.map.del(0)) : legit("not listed", () => false));
    expectOutcome((w) => w.map.rotate(fresh(name, v)), zero ? legit("-0 is item 0", (t) => t.map.rotate(0)) : legit("not listed", () => false));
    expectOutcome((w) => w.map.has(fresh(name, v)), zero ? legit("-0 is item 0", () => true) : legit("not listed", () => false));
    expectOutcome((w) => w.map.nodeOf(fresh(name, v)), zero ? legit("-0 is item 0", () => 0) : legit("not listed", () => -1));
  });

  test("a deleted item: del and rotate say false; adding it again is fine", () => {
    expectOutcome((w) => [w.map.del(101), w.map.rotate(101), w.map.has(101)], legit("on no list", () => [false, false, false]));
    expectOutcome((w) => w.map.add(100, 1), legit("on a list already: false, nothing changes (list_lru_add)", () => false));
  });
});

// ---------------------------------------------------------------------------------------------
// DirectReclaim

describe("DirectReclaim", () => {
  test.each(HOSTILE)("allocPages(order = %s)", (name, v) => {
    const outcome = intArg("order", 0, 52, { "-0": legit("-0 is order 0", (t) => t.direct.allocPages(0)) })(name, v);
    expectOutcome((w) => w.direct.allocPages(v as number), outcome);
  });

  test.each(HOSTILE)("freePages(pfn = %s, 0)", (name, v) => {
    const outcome = intArg("pfn", 0, MAX, {
      "-0": legit("-0 is pfn 0", (t) => t.direct.freePages(0, 0)),
      // A well-formed pfn the wrapped allocator never handed out: its error, passed through (documented).
      MAX_SAFE_INTEGER: wrapped(ErrorCode.NotAllocated, `pfn ${MAX} was not handed out`),
    })(name, v);
    expectOutcome((w) => w.direct.freePages(v as number, 0), outcome);
  });

  test.each(HOSTILE)("freePages(held page, order = %s)", (name, v) => {
    const outcome = intArg("order", 0, 52, { "-0": legit("-0 is order 0", (t) => t.direct.freePages(t.held[3]!, 0)) })(name, v);
    expectOutcome((w) => w.direct.freePages(w.held[3]!, v as number), outcome);
  });

  test("the wrong order and a double free are the wrapped allocator's to report, and pass through", () => {
    expectOutcome((w) => w.direct.freePages(w.held[3]!, 1), wrapped(ErrorCode.WrongSize, "freed with order 1"));
    expectOutcome(
      (w) => {
        w.direct.freePages(w.held[3]!, 0);
        w.direct.freePages(w.held[3]!, 0);
      },
      legit("the second free is the wrapped allocator's error", (t) => {
        t.direct.freePages(t.held[3]!, 0);
        t.pages.freePages(t.held[3]!, 0);
      }),
    );
  });
});

// ---------------------------------------------------------------------------------------------
// The scan arithmetic (pure functions: legitimate results compare with ===, which takes -0 as 0)

describe("scan arithmetic", () => {
  type Fn = (...args: number[]) => unknown;
  const cases: [string, Fn, number[], [string, number, number][]][] = [
    ["scanDelta", scanDelta as Fn, [1000, 2, 2], [["freeable", 0, 2 ** 50], ["priority", 0, 12], ["seeks", 0, 2 ** 20]]],
    ["totalScan", totalScan as Fn, [1000, 80, 3, 2], [["freeable", 0, 2 ** 50], ["deferred", 0, 2 ** 52], ["priority", 0, 12], ["seeks", 0, 2 ** 20]]],
    ["nextDeferred", nextDeferred as Fn, [80, 250, 256, 1000], [["deferred", 0, 2 ** 52], ["delta", 0, 2 ** 52], ["scanned", 0, 2 ** 52], ["freeable", 0, 2 ** 50]]],
    ["scanBatches", scanBatches as Fn, [300, 1000, 128], [["total", 0, 2 ** 52], ["freeable", 0, 2 ** 50], ["batch", 1, 2 ** 40]]],
  ];
  for (const [fn, f, good, params] of cases) {
    params.forEach(([param, min, max], i) => {
      test.each(HOSTILE)(`${fn} ${param} = %s`, (name, v) => {
        const args: unknown[] = good.slice();
        args[i] = v;
        const run = () => f(...(args as number[]));
        if (name === "-0" && min === 0) {
          // -0 is 0.
          const zero = good.slice();
          zero[i] = 0;
          const got = run();
          const want = f(...zero);
          expect(Array.isArray(want) ? (got as number[]).every((x, k) => x === (want as number[])[k]) && (got as number[]).length === want.length : got === want).toBe(true);
          return;
        }
        const outcome =
          typeof v !== "number" || !Number.isSafeInteger(v)
            ? { code: ErrorCode.InvalidArgument, message: expect.stringContaining(`${fn} ${param} must be an integer, got ${describeValue(v)}`) }
            : { code: ErrorCode.OutOfRange, message: expect.stringContaining(`${fn} ${param} must be in [${min}, ${max}], got ${describeValue(v)}`) };
        if (typeof v === "number" && Number.isSafeInteger(v) && v >= min && v <= max) throw new Error("test table: a legitimate value");
        expect(run).toThrow(MmkitError);
        expect(run).toThrow(expect.objectContaining(outcome));
      });
    });
  }

  test("scanBatches with a batch of 0 or a negative one used to loop forever; too many batches is refused", () => {
    expect(() => scanBatches(1, 1, 0)).toThrow(expect.objectContaining({ code: ErrorCode.OutOfRange, message: expect.stringContaining("scanBatches batch must be in [1, 1099511627776], got 0") }));
    expect(() => scanBatches(2 ** 40, 2 ** 40, 1)).toThrow(expect.objectContaining({ code: ErrorCode.OutOfRange, message: expect.stringContaining(`scanBatches(${2 ** 40}, ${2 ** 40}, 1) would list ${2 ** 40} batches, more than 1048576`) }));
    expect(scanBatches(2 ** 20, 10, 1).length).toBe(2 ** 20); // the most it lists
  });

  test("the largest safe integer as a count used to give an inexact answer; counts stop at 2^50", () => {
    expect(scanDelta(2 ** 50, 0, 1)).toBe(2 ** 52); // exact
    expect(() => scanDelta(MAX, 0, 2)).toThrow(expect.objectContaining({ code: ErrorCode.OutOfRange, message: expect.stringContaining(`got ${MAX}`) }));
  });
});

// ---------------------------------------------------------------------------------------------
// Constructors

describe("constructors", () => {
  function expectConstruct(make: () => unknown, outcome: { code: string; mentions: string } | { why: string }): void {
    if ("why" in outcome) {
      expect(make).not.toThrow();
      return;
    }
    let error: unknown;
    try {
      make();
    } catch (e) {
      error = e;
    }
    expect(error, "expected a typed error").toBeInstanceOf(MmkitError);
    expect(DOCUMENTED.has((error as MmkitError).code)).toBe(true);
    expect((error as MmkitError).code).toBe(outcome.code);
    expect((error as MmkitError).message).toContain(outcome.mentions);
  }
  const objectOrAbsent = (name: string) => name === "undefined" || name === "{}" || name === "[]";
  /** requireInteger as an option: `??` makes null "not given". */
  const intOption = (label: string, min: number, max: number, name: string, v: unknown, legitNames: string[] = []) => {
    if (name === "undefined" || name === "null" || legitNames.includes(name)) return { why: "not given, or a value in range" };
    if (typeof v !== "number" || !Number.isSafeInteger(v)) return { code: ErrorCode.InvalidArgument, mentions: `${label} must be an integer, got ${describeValue(v)}` };
    return { code: ErrorCode.OutOfRange, mentions: `${label} must be in [${min}, ${max}], got ${describeValue(v)}` };
  };

  test.each(HOSTILE)("new ShrinkerRegistry(%s) and its options", (name, v) => {
    expectConstruct(() => new ShrinkerRegistry(fresh(name, v) as never), objectOrAbsent(name) ? { why: "no options: the defaults" } : { code: ErrorCode.InvalidArgument, mentions: `registry options must be an object, got ${describeValue(v)}` });
    expectConstruct(() => new ShrinkerRegistry({ nodes: v as number }), intOption("nodes", 1, 1024, name, v));
    expectConstruct(() => new ShrinkerRegistry({ warningLimit: v as number }), intOption("warningLimit", 0, 2 ** 20, name, v, ["-0"]));
    expectConstruct(() => new ShrinkerRegistry({ maxScanCalls: v as number }), intOption("maxScanCalls", 1, Number.MAX_SAFE_INTEGER, name, v, ["MAX_SAFE_INTEGER"]));
    expectConstruct(() => new ShrinkerRegistry({ onWarning: fresh(name, v) as never }), name === "undefined" ? { why: "no observer" } : { code: ErrorCode.InvalidArgument, mentions: `onWarning must be a function, got ${describeValue(v)}` });
    expectConstruct(() => new ShrinkerRegistry({ arena: fresh(name, v) as never }), name === "undefined" || name === "null" ? { why: "the default arena" } : { code: ErrorCode.InvalidArgument, mentions: `arena must be an ArrayFactory (a MetadataArena or one with its methods), got ${describeValue(v)}` });
  });

  test.each(HOSTILE)("new ListLru(%s) and its options", (name, v) => {
    const maxSlots = 2 ** 29 - 1 - 1024;
    expectConstruct(() => new ListLru(fresh(name, v) as never), objectOrAbsent(name) ? { why: "no options: the defaults" } : { code: ErrorCode.InvalidArgument, mentions: `list-lru options must be an object, got ${describeValue(v)}` });
    expectConstruct(() => new ListLru({ nodes: v as number }), intOption("nodes", 1, 1024, name, v));
    expectConstruct(() => new ListLru({ capacity: v as number }), intOption("capacity", 0, maxSlots, name, v, ["-0"]));
    // universe is checked `=== undefined`: null is a value, and not an integer.
    expectConstruct(() => new ListLru({ universe: v as number }), name === "undefined" ? { why: "map mode" } : typeof v === "number" && Number.isSafeInteger(v) ? { code: ErrorCode.OutOfRange, mentions: `universe must be in [1, ${maxSlots}], got ${describeValue(v)}` } : { code: ErrorCode.InvalidArgument, mentions: `universe must be an integer, got ${describeValue(v)}` });
    expectConstruct(() => new ListLru({ arena: fresh(name, v) as never }), name === "undefined" || name === "null" ? { why: "the default arena" } : { code: ErrorCode.InvalidArgument, mentions: `arena must be an ArrayFactory (a MetadataArena or one with its methods), got ${describeValue(v)}` });
  });

  test.each(HOSTILE)("new DirectReclaim with %s in each position", (name, v) => {
    const pages = new StrictPages();
    const registry = new ShrinkerRegistry({ nodes: 2 });
    expectConstruct(() => new DirectReclaim(fresh(name, v) as never, registry), { code: ErrorCode.InvalidArgument, mentions: `pages must have allocPages and freePages, got ${describeValue(v)}` });
    expectConstruct(() => new DirectReclaim(pages, fresh(name, v) as never), { code: ErrorCode.InvalidArgument, mentions: `registry must be a ShrinkerRegistry, got ${describeValue(v)}` });
    expectConstruct(() => new DirectReclaim(pages, registry, fresh(name, v) as never), objectOrAbsent(name) ? { why: "no options: the defaults" } : { code: ErrorCode.InvalidArgument, mentions: `direct reclaim options must be an object, got ${describeValue(v)}` });
    expectConstruct(() => new DirectReclaim(pages, registry, { maxRetries: v as number }), intOption("maxRetries", 0, 2 ** 20, name, v, ["-0"]));
    expectConstruct(() => new DirectReclaim(pages, registry, { minTarget: v as number }), intOption("minTarget", 1, MAX, name, v, ["MAX_SAFE_INTEGER"]));
    // nid is checked `=== undefined`: null is a value, and not an integer.
    expectConstruct(
      () => new DirectReclaim(pages, registry, { nid: v as number }),
      name === "undefined" || name === "-0" ? { why: "every node, or node 0" } : typeof v === "number" && Number.isSafeInteger(v) ? { code: ErrorCode.OutOfRange, mentions: `nid must be in [0, 1], got ${describeValue(v)}` } : { code: ErrorCode.InvalidArgument, mentions: `nid must be an integer, got ${describeValue(v)}` },
    );
  });
});

// ---------------------------------------------------------------------------------------------
// Random hostile calls after random operations.

type PrefixOp =
  | { kind: "shrink"; nid: number; priority: number }
  | { kind: "reclaim"; target: number }
  | { kind: "alloc" }
  | { kind: "free"; pick: number }
  | { kind: "lru"; item: number }
  | { kind: "churn"; register: boolean; objects: number };

const prefixArb: fc.Arbitrary<PrefixOp[]> = fc.array(
  fc.oneof(
    fc.record({ kind: fc.constant("shrink" as const), nid: fc.integer({ min: 0, max: 1 }), priority: fc.integer({ min: 0, max: 12 }) }),
    fc.record({ kind: fc.constant("reclaim" as const), target: fc.integer({ min: 0, max: 200 }) }),
    fc.record({ kind: fc.constant("alloc" as const) }),
    fc.record({ kind: fc.constant("free" as const), pick: fc.nat() }),
    fc.record({ kind: fc.constant("lru" as const), item: fc.integer({ min: 0, max: 63 }) }),
    fc.record({ kind: fc.constant("churn" as const), register: fc.boolean(), objects: fc.integer({ min: 0, max: 5000 }) }),
  ),
  { maxLength: 30 },
);

/** Refused wherever they go (the tables above give -0, -1, undefined and the largest safe integer). */
const ALWAYS_REFUSED = HOSTILE.filter(([name]) => !["-0", "-1", "undefined", "MAX_SAFE_INTEGER", "{}", "[]"].includes(name));

const TARGETS: [string, (w: World, v: unknown) => unknown, string][] = [
  ["shrink.nid", (w, v) => w.registry.shrink({ nid: v as number, priority: 0 }), "nid"],
  ["shrink.priority", (w, v) => w.registry.shrink({ nid: 0, priority: v as number }), "priority"],
  ["reclaim.target", (w, v) => w.registry.reclaim(v as number), "target"],
  ["reclaim.nid", (w, v) => w.registry.reclaim(100, v as number), "nid"],
  ["debugScan.nid", (w, v) => w.registry.debugScan(w.dentries, v as number, 5), "nid"],
  ["debugScan.nrToScan", (w, v) => w.registry.debugScan(w.dentries, 0, v as number), "nrToScan"],
  ["register.seeks", (w, v) => w.registry.register(withField("seeks", v)), "seeks"],
  ["register.batch", (w, v) => w.registry.register(withField("batch", v)), "batch"],
  ["lru.add.item", (w, v) => w.lru.add(v as number, 0), "item"],
  ["lru.add.nid", (w, v) => w.lru.add(5, v as number), "nid"],
  ["lru.count", (w, v) => w.lru.count(v as number), "nid"],
  ["lru.walk.nrToWalk", (w, v) => w.lru.walk(0, () => LruWalk.Removed, v as number), "nrToWalk"],
  ["lru.shrinkWalk.nrToScan", (w, v) => w.lru.shrinkWalk({ nid: 0, nrToScan: v as number, priority: 0, nrScanned: 0 }, () => LruWalk.Removed), "nrToScan"],
  ["direct.allocPages", (w, v) => w.direct.allocPages(v as number), "order"],
  ["direct.freePages.pfn", (w, v) => w.direct.freePages(v as number, 0), "pfn"],
  ["direct.freePages.order", (w, v) => w.direct.freePages(w.held[0]!, v as number), "order"],
  ["scanDelta", (_w, v) => scanDelta(1000, v as number, 2), "priority"],
  ["scanBatches", (_w, v) => scanBatches(500, 100, v as number), "batch"],
];

describe("random hostile calls after random operations", () => {
  test("every target, every always-refused value", () => {
    fc.assert(
      fc.property(prefixArb, fc.constantFrom(...TARGETS), fc.constantFrom(...ALWAYS_REFUSED), (ops, [, call, label], [, v]) => {
        if (v === null && (label === "seeks" || label === "batch")) return; // `??`: a null shrinker field is "not given"
        const w = build();
        const extra: FakeCache[] = [];
        for (const op of ops) {
          if (op.kind === "shrink") w.registry.shrink({ nid: op.nid, priority: op.priority });
          else if (op.kind === "reclaim") w.registry.reclaim(op.target);
          else if (op.kind === "alloc") {
            const p = w.direct.allocPages(0);
            if (p >= 0) w.held.push(p);
          } else if (op.kind === "free" && w.held.length > 1) w.direct.freePages(w.held.splice(1 + (op.pick % (w.held.length - 1)), 1)[0]!, 0);
          else if (op.kind === "lru") w.lru.del(op.item); // the page leaves the cache (and is never freed: a leak, not misuse)
          else if (op.kind === "churn") {
            if (op.register || extra.length === 0) {
              const c = new FakeCache(`extra-${extra.length}`, [op.objects, op.objects >> 1], { numaAware: op.objects % 2 === 0 });
              extra.push(c);
              w.registry.register(c);
            } else w.registry.unregister(extra.pop()!);
          }
        }
        checkAll(w);
        const before = snapshot(w);
        let error: unknown;
        try {
          call(w, v);
        } catch (e) {
          error = e;
        }
        expect(error).toBeInstanceOf(MmkitError);
        expect([ErrorCode.InvalidArgument, ErrorCode.OutOfRange]).toContain((error as MmkitError).code);
        expect((error as MmkitError).message).toContain(label);
        expect((error as MmkitError).message).toContain(`got ${describeValue(v)}`);
        expect(snapshot(w)).toEqual(before);
        checkAll(w);
      }),
      { seed: 0x5421, numRuns: 150 },
    );
  });
});
