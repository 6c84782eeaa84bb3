import { ErrorCode, MemoryMap, MetadataArena, MmkitError, describeValue } from "@mmkit/physmem";
import fc from "fast-check";
import { describe, expect, test } from "vitest";
import {
  BuddyAllocator,
  FaultInjector,
  MigrateType,
  fragmentationIndex,
  minFreeKbytes,
  unusableFreeIndex,
  zoneBatchsize,
  zoneHighsize,
  zoneWatermarks,
} from "@mmkit/buddy";
import { HOSTILE_VALUES, refuse as refuseWith, same, sweepPosition } from "@mmkit/test-support";

/**
 * Adversarial bad-input sweep. Every public method and constructor option of `@mmkit/buddy`
 * (src/index.ts and the README) is called, in a non-trivial state, with each hostile value in each
 * argument position. Each call is either legitimate (the comment by its domain says why) and then
 * behaves exactly like the call with the value it stands for, or it throws an `MmkitError` with a
 * documented code whose message names the value, and leaves the allocator as it was: every
 * observable figure, `check()`, and a follow-up run of operations (which also sees hidden state:
 * the fault injector's counters, the per-CPU fast-path counters) are compared with an untouched twin.
 *
 * Swept: `new BuddyAllocator(map, options)` and every option; `allocPages(order, options)` and
 * every allocation option; `freePages(pfn, order)`; `cpu(i)`; through a front `allocPages`,
 * `freePages` and every allocation option; `freePageCount`, `managedPages`, `perCpuPageCount`,
 * `allocatedPageCount`, `watermarks`, `freeLists`, `largestFreeOrder` (node); `perCpuLimits(cpu,
 * node)`; `pageblockMigratetype(pfn)`, `blockOf(pfn)`; `unusableFreeIndex` / `fragmentationIndex`
 * (order, node); `setFaultInjection(options)` and every fault-injection setting; `FaultInjector`
 * (options, `shouldFail(order, atomic)`); the pure `unusableFreeIndex`, `fragmentationIndex`,
 * `minFreeKbytes`, `zoneWatermarks`, `zoneBatchsize`, `zoneHighsize`. Methods without arguments
 * (`drainAll`, `buddyinfo`, `formatBuddyinfo`, `pagetypeinfo`, `formatPagetypeinfo`, `counters`,
 * `resetCounters`, `check`, a front's `drain`, the getters) have no position to sweep; the
 * snapshot and the follow-up call them.
 */

const PAGE = 4096;
// node 0: [0, 40) and [48, 64) with a hole [40, 48) between; node 1: [64, 128).
const RANGES: [number, number, number][] = [
  [0, 40, 0],
  [48, 64, 0],
  [64, 128, 1],
];
const MAP = new MemoryMap({ ranges: RANGES.map(([s, e, node]) => ({ base: s * PAGE, size: (e - s) * PAGE, node })) });
const inRam = (pfn: number): boolean => RANGES.some(([s, e]) => pfn >= s && pfn < e);

const HOSTILE: readonly unknown[] = HOSTILE_VALUES.map(([, v]) => v);
const label = (v: unknown): string => (Array.isArray(v) ? "[]" : typeof v === "bigint" ? `${v}n` : typeof v === "string" ? JSON.stringify(v) : v !== null && typeof v === "object" ? "{}" : Object.is(v, -0) ? "-0" : String(v));

interface World {
  b: BuddyAllocator;
  arena: MetadataArena;
  /** Live blocks [pfn, order]. */
  live: [number, number][];
}

const OPTIONS = {
  maxOrder: 4,
  pageblockOrder: 2,
  cpus: 2,
  pcpBatch: 2,
  pcpHigh: 6,
  minFreeKbytes: 0,
  defaultMigratetype: MigrateType.Movable,
  // Armed: every third allocation of order >= 2 fails, so a call that consumed a decision shows.
  faultInjection: { probability: 100, interval: 3, minOrder: 2, seed: 7 },
};

/**
 * Blocks live at 0 (order 0, Unmovable: its pageblock was stolen), 32 (order 2), 36 (order 0, via
 * cpu 0), 64 (order 3), 72 (order 1, via cpu 1); 38 was freed and merged into a free order-1 block;
 * 37 sits on cpu 0's list, 74 on cpu 1's; one order-2 request failed by injection.
 */
function world(prefix: readonly Op[] = []): World {
  const arena = new MetadataArena();
  const b = new BuddyAllocator(MAP, { ...OPTIONS, arena });
  const live: [number, number][] = [];
  const keep = (pfn: number, order: number): void => {
    if (pfn >= 0) live.push([pfn, order]);
  };
  keep(b.allocPages(2), 2);
  keep(b.allocPages(3, { node: 1 }), 3);
  keep(b.cpu(1).allocPages(1), 1);
  keep(b.cpu(0).allocPages(0), 0);
  keep(b.allocPages(0, { migratetype: MigrateType.Unmovable }), 0);
  keep(b.allocPages(2), 2); // injected failure: -1
  const freed = b.allocPages(0);
  b.freePages(freed, 0);
  const cached = b.cpu(0).allocPages(0);
  b.cpu(0).freePages(cached, 0);
  for (const op of prefix) apply(b, live, op);
  return { b, arena, live };
}

type Op = { kind: "alloc"; order: number; cpu: number; mt: number } | { kind: "free"; pick: number; cpu: number } | { kind: "drain"; cpu: number };

function apply(b: BuddyAllocator, live: [number, number][], op: Op): void {
  if (op.kind === "alloc") {
    const pfn = op.cpu < 0 ? b.allocPages(op.order, { migratetype: op.mt as MigrateType }) : b.cpu(op.cpu).allocPages(op.order);
    if (pfn >= 0) live.push([pfn, op.order]);
  } else if (op.kind === "free") {
    if (live.length === 0) return;
    const [pfn, order] = live.splice(op.pick % live.length, 1)[0]!;
    if (op.cpu < 0) b.freePages(pfn, order);
    else b.cpu(op.cpu).freePages(pfn, order);
  } else if (op.cpu < 0) b.drainAll();
  else b.cpu(op.cpu).drain();
}

/** Everything the allocator shows. */
function snapshot(b: BuddyAllocator, arena?: MetadataArena): unknown {
  const blocks: string[] = [];
  const pageblocks: number[] = [];
  for (const r of b.map.ranges) {
    for (let p = r.startPfn; p < r.endPfn; ) {
      const i = b.blockOf(p);
      blocks.push(`${i.pfn}/${i.order}/${i.state}/${i.migratetype}/${i.node}`);
      p = i.pfn + 2 ** i.order;
    }
    for (let p = r.startPfn; p < r.endPfn; p += 2 ** b.pageblockOrder) pageblocks.push(b.pageblockMigratetype(p));
  }
  const nodes = b.map.nodes.map((n) => n.id);
  const perNode = [undefined, ...nodes].map((n) => ({
    free: b.freePageCount(n),
    managed: b.managedPages(n),
    pcp: b.perCpuPageCount(n),
    allocated: b.allocatedPageCount(n),
    largest: b.largestFreeOrder(n),
    lists: b.freeLists(n),
    indices: Array.from({ length: b.maxOrder + 1 }, (_, o) => [b.unusableFreeIndex(o, n), b.fragmentationIndex(o, n)]),
  }));
  return {
    blocks,
    pageblocks,
    perNode,
    watermarks: nodes.map((n) => b.watermarks(n)),
    buddyinfo: b.formatBuddyinfo(),
    pagetypeinfo: b.formatPagetypeinfo(),
    counters: b.counters(),
    cpus: Array.from({ length: b.cpus }, (_, c) => ({ pages: b.cpu(c).pages, node: b.cpu(c).node, limits: b.perCpuLimits(c) })),
    fault: b.faultInjection,
    metadata: arena === undefined ? undefined : { bytes: arena.bytes, byLabel: arena.byLabel() },
  };
}

/**
 * A fixed run of operations after the call under test, whose results depend on everything the
 * allocator holds, hidden state included (the injector's interval counter, the list order).
 */
function followUp(w: World): unknown {
  const b = w.b;
  const got: number[] = [];
  for (let i = 0; i < 3; i++) {
    for (const order of [0, 1, 2, 3]) {
      got.push(b.allocPages(order), b.cpu(0).allocPages(order), b.cpu(1).allocPages(order, { migratetype: MigrateType.Reclaimable }));
    }
  }
  for (const [k, pfn] of got.entries()) if (pfn >= 0 && k % 2 === 0) b.cpu(k % 3 === 0 ? 0 : 1).freePages(pfn, Math.floor(k / 3) % 4);
  b.cpu(1).drain();
  b.check();
  return { got, after: snapshot(b, w.arena) };
}

const OMIT = Symbol("omitted");
/** What a call with a hostile value must do: behave as the call with `as` there, or throw. */
type Outcome = { as: unknown } | { code: string; text: string };
type Domain = (v: unknown) => Outcome;

const isInt = (v: unknown): v is number => typeof v === "number" && Number.isSafeInteger(v);
const canon = (v: unknown): unknown => (Object.is(v, -0) ? 0 : v);
const refuse = (code: string, text: string): Outcome => ({ code, text });
const INVALID = ErrorCode.InvalidArgument;
const RANGE = ErrorCode.OutOfRange;

/** An integer in [min, max]: -0 is 0 (the same number); `optional`: undefined means the default. */
function int(min: number, max: number, optional = false): Domain {
  return (v) => {
    if (v === undefined && optional) return { as: OMIT };
    if (!isInt(v)) return refuse(INVALID, describeValue(v));
    if (v < min || v > max) return refuse(RANGE, describeValue(v));
    return { as: canon(v) };
  };
}

/** A node id (the map has nodes 0 and 1); undefined, where optional, means all nodes or the default. */
function node(optional: boolean): Domain {
  return (v) => {
    const r = int(0, 1023, optional)(v);
    if ("as" in r && r.as !== OMIT && r.as !== 0 && r.as !== 1) return refuse(RANGE, `node ${describeValue(v)} is not a node`);
    return r;
  };
}

/** A boolean option; undefined is the default (false), anything else is refused. */
const bool: Domain = (v) => (v === undefined ? { as: OMIT } : typeof v === "boolean" ? { as: v } : refuse(INVALID, describeValue(v)));

/** An options bag: undefined and {} are "no options"; an array or a primitive is refused. */
const bag: Domain = (v) => {
  if (v === undefined) return { as: OMIT };
  if (Array.isArray(v)) return refuse(INVALID, "an array");
  if (v !== null && typeof v === "object") return { as: OMIT };
  return refuse(INVALID, describeValue(v));
};

/** A pfn: an integer, else refused; integers outside RAM (holes included) are ERR_NOT_RAM. */
const pfn: Domain = (v) => (!isInt(v) ? refuse(INVALID, describeValue(v)) : !inRam(v) ? refuse(ErrorCode.NotRam, `pfn ${v} is not RAM`) : { as: canon(v) });

/** fail_page_alloc's probability: a number (fractions are fine: a percentage) in [0, 100]. */
const probability: Domain = (v) =>
  typeof v !== "number" || Number.isNaN(v) ? refuse(INVALID, describeValue(v)) : !(v >= 0 && v <= 100) ? refuse(RANGE, describeValue(v)) : { as: canon(v) };

/** The fault-injection settings: options object, with `probability` required. */
const faultBag: Domain = (v) => {
  if (Array.isArray(v)) return refuse(INVALID, "an array");
  if (v !== null && typeof v === "object") return refuse(INVALID, "probability must be a percentage in [0, 100], got undefined"); // {}: no probability
  return refuse(INVALID, describeValue(v));
};

const FAULT_FIELDS: [string, Domain][] = [
  ["interval", int(1, 2 ** 31 - 1, true)],
  ["times", int(-1, Number.MAX_SAFE_INTEGER, true)], // -1: no limit
  ["space", int(0, Number.MAX_SAFE_INTEGER, true)],
  ["minOrder", int(0, 31, true)],
  ["ignoreBlocking", bool],
  ["seed", int(0, 2 ** 32 - 1, true)],
];

const ALLOC_FIELDS: [string, Domain][] = [
  ["migratetype", int(0, 2, true)],
  ["node", node(true)],
  ["thisNode", bool],
  ["highPriority", bool],
  ["atomic", bool],
  ["noWatermarks", bool],
  ["watermark", (v) => (v === undefined ? { as: OMIT } : v === "min" || v === "low" || v === "high" ? { as: v } : refuse(INVALID, describeValue(v)))],
];

/** `{ [name]: v }`, or `{}` when the value stands for an omitted field. */
const field = (name: string, v: unknown): Record<string, unknown> => (v === OMIT ? {} : { [name]: v });
/** The arguments without trailing omitted ones. */
const trim = (args: unknown[]): unknown[] => {
  const out = [...args];
  while (out.length > 0 && out[out.length - 1] === OMIT) out.pop();
  return out;
};
const invoke = (target: object, method: string, args: unknown[]): unknown => Reflect.apply((target as Record<string, (...a: unknown[]) => unknown>)[method]!, target, trim(args));

interface Case {
  name: string;
  /** Good arguments for the world. */
  args: (w: World) => unknown[];
  call: (w: World, args: unknown[]) => unknown;
  /** One domain per swept position. */
  domains: Domain[];
}

const m = (method: string, args: (w: World) => unknown[], domains: Domain[]): Case => ({ name: method, args, domains, call: (w, a) => invoke(w.b, method, a) });
const front = (cpu: number, method: string, args: (w: World) => unknown[], domains: Domain[]): Case => ({ name: `cpu(${cpu}).${method}`, args, domains, call: (w, a) => invoke(w.b.cpu(cpu), method, a) });
const allocOption = (name: string, d: Domain, via: "allocator" | 0 | 1): Case => ({
  name: `${via === "allocator" ? "allocPages" : `cpu(${via}).allocPages`}(0, { ${name} })`,
  args: () => [OMIT],
  domains: [d],
  call: (w, a) => (via === "allocator" ? w.b.allocPages(0, field(name, a[0])) : w.b.cpu(via).allocPages(0, field(name, a[0]))),
});

const ORDER = int(0, 4); // maxOrder 4
const CASES: Case[] = [
  m("allocPages", () => [0, OMIT], [ORDER, bag]),
  m("freePages", () => [72, 1], [pfn, ORDER]), // 72 is a live order-1 block
  m("cpu", () => [0], [int(0, 1)]),
  front(0, "allocPages", () => [0, OMIT], [ORDER, bag]),
  front(1, "allocPages", () => [1, OMIT], [ORDER, bag]),
  front(0, "freePages", () => [36, 0], [pfn, ORDER]), // 36: live, order 0, allocated through cpu 0
  front(1, "freePages", () => [72, 1], [pfn, ORDER]),
  ...["freePageCount", "managedPages", "perCpuPageCount", "allocatedPageCount", "watermarks", "freeLists", "largestFreeOrder"].map((name) => m(name, () => [OMIT], [node(true)])),
  m("perCpuLimits", () => [0, OMIT], [int(0, 1), node(true)]),
  m("pageblockMigratetype", () => [0], [pfn]),
  m("blockOf", () => [0], [pfn]),
  m("unusableFreeIndex", () => [2, OMIT], [ORDER, node(true)]),
  m("fragmentationIndex", () => [2, OMIT], [ORDER, node(true)]),
  // null disarms (documented); undefined is not "no settings": the argument is required.
  m("setFaultInjection", () => [null], [(v) => (v === null ? { as: null } : v === undefined ? refuse(INVALID, "undefined") : faultBag(v))]),
  { name: "setFaultInjection({ probability })", args: () => [30], domains: [probability], call: (w, a) => w.b.setFaultInjection({ probability: a[0] as number }) },
  ...FAULT_FIELDS.map(([name, d]): Case => ({ name: `setFaultInjection({ ${name} })`, args: () => [OMIT], domains: [d], call: (w, a) => w.b.setFaultInjection({ probability: 30, ...field(name, a[0]) }) })),
  ...ALLOC_FIELDS.flatMap(([name, d]) => [allocOption(name, d, "allocator"), allocOption(name, d, 0), allocOption(name, d, 1)]),
  allocOption("cpu", int(0, 1, true), "allocator"),
  // A front is already bound to its CPU: any cpu option there is refused.
  allocOption("cpu", (v) => (v === undefined ? { as: OMIT } : refuse(INVALID, `options.cpu is not accepted here (got ${describeValue(v)})`)), 1),
];

/**
 * `value` with every -0 made 0. -0 is legitimately 0 (`-0 === 0`); a setting given as -0 may be
 * echoed back as -0 (`faultInjection.times`) and arithmetic on it may give -0 (`zoneWatermarks`),
 * which is the same number, not a difference.
 */
function norm(value: unknown): unknown {
  if (Object.is(value, -0)) return 0;
  if (Array.isArray(value)) return value.map(norm);
  if (value !== null && typeof value === "object") return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, norm(v)]));
  return value;
}

/** A return value as the sweep compares it: an allocator by its snapshot, an injector by its settings. */
function comparable(value: unknown): unknown {
  return norm(value instanceof BuddyAllocator ? snapshot(value) : value instanceof FaultInjector ? { options: value.options, timesLeft: value.timesLeft } : value);
}

type Result = { value: unknown } | { code: unknown; message: string; typed: boolean };
function outcome(fn: () => unknown): Result {
  try {
    const value = fn();
    return { value: comparable(value) };
  } catch (e) {
    return { code: (e as MmkitError).code, message: (e as Error).message, typed: e instanceof MmkitError };
  }
}

/** Asserts that `fn` throws an MmkitError with `code` whose message contains `text`. */
function expectRefused(fn: () => unknown, code: string, text: string): void {
  const r = outcome(fn);
  expect(r, `expected ${code} naming ${text}`).toMatchObject({ typed: true, code, message: expect.stringContaining(text) });
}

/** Runs the case with `v` at `pos` on a world (after `prefix`) and checks the outcome against its domain. */
function sweepOne(c: Case, pos: number, v: unknown, prefix: readonly Op[] = []): void {
  const subject = { make: () => world(prefix), state: (w: World) => snapshot(w.b, w.arena), check: (w: World) => w.b.check(), followUp, result: comparable };
  const want = c.domains[pos]!(v);
  sweepPosition(subject, c, pos, v, "code" in want ? refuseWith(want.code, want.text) : same(want.as, "a legitimate spelling"), `${c.name}: position ${pos}`);
}

describe("the sweep's world", () => {
  test("is the state the cases below name", () => {
    const w = world();
    expect(w.live).toEqual([
      [32, 2],
      [64, 3],
      [72, 1],
      [36, 0],
      [0, 0],
    ]);
    expect(w.b.blockOf(37)).toMatchObject({ pfn: 37, order: 0, state: "per-cpu" });
    expect(w.b.blockOf(74)).toMatchObject({ pfn: 74, order: 1, state: "per-cpu" });
    expect(w.b.blockOf(39)).toMatchObject({ pfn: 38, order: 1, state: "free" });
    expect(w.b.counters().injectedFailures).toBe(1);
    w.b.check();
  });
});

describe.each(CASES)("$name", (c) => {
  const positions = c.domains.map((_, pos) => pos);
  test.each(positions.flatMap((pos) => HOSTILE.map((v) => [pos, label(v), v] as const)))("argument %i = %s", (pos, _label, v) => sweepOne(c, pos, v));
});

describe("addresses that are not a live block's start, double frees, wrong orders", () => {
  const frees: [string, (w: World, pfn: unknown, order: unknown) => unknown][] = [
    ["allocator", (w, p, o) => w.b.freePages(p as number, o as number)],
    ["cpu(0)", (w, p, o) => w.b.cpu(0).freePages(p as number, o as number)],
    ["cpu(1)", (w, p, o) => w.b.cpu(1).freePages(p as number, o as number)],
  ];
  const cases: [string, number, number, string, string][] = [
    ["inside the live order-2 block at 32", 34, 1, ErrorCode.NotAllocated, "pfn 34 was never handed out: it is inside the order-2 block allocated at pfn 32"],
    ["inside the live order-3 block at 64", 65, 0, ErrorCode.NotAllocated, "pfn 65 was never handed out: it is inside the order-3 block allocated at pfn 64"],
    ["the last page of the live order-1 block at 72", 73, 0, ErrorCode.NotAllocated, "pfn 73 was never handed out: it is inside the order-1 block allocated at pfn 72"],
    ["a freed page that merged (double free)", 38, 0, ErrorCode.DoubleFree, "double free: pfn 38 (order 1) is already free, on the free lists"],
    ["the buddy of a freed page, inside the merged block", 39, 0, ErrorCode.DoubleFree, "double free: pfn 39 is inside the free order-1 block at pfn 38"],
    ["a page on cpu 0's list (double free)", 37, 0, ErrorCode.DoubleFree, "double free: pfn 37 (order 0) is already free, on a per-CPU list"],
    ["a block on cpu 1's list (double free)", 74, 1, ErrorCode.DoubleFree, "double free: pfn 74 (order 1) is already free, on a per-CPU list"],
    ["a free order-4 block", 80, 4, ErrorCode.DoubleFree, "double free: pfn 80 (order 4) is already free, on the free lists"],
    ["the live order-2 block at a smaller order", 32, 1, ErrorCode.WrongSize, "pfn 32 was allocated at order 2, freed at order 1"],
    ["the live order-2 block at a larger order", 32, 3, ErrorCode.WrongSize, "pfn 32 was allocated at order 2, freed at order 3"],
    ["the live order-1 block at an order it is not aligned to", 72, 4, ErrorCode.NotAligned, "pfn 72 is not aligned to order 4"],
    ["the live order-3 block at order 0", 64, 0, ErrorCode.WrongSize, "pfn 64 was allocated at order 3, freed at order 0"],
    ["the live order-0 page at order 2 (aligned)", 0, 2, ErrorCode.WrongSize, "pfn 0 was allocated at order 0, freed at order 2"],
    ["a hole", 44, 0, ErrorCode.NotRam, "pfn 44 is not RAM"],
    ["beyond the map", 128, 0, ErrorCode.NotRam, "pfn 128 is not RAM"],
  ];
  test.each(frees.flatMap(([via, free]) => cases.map((k) => [via, ...k, free] as const)))("through %s: %s", (_via, _name, p, o, code, text, free) => {
    const w = world();
    const twin = world();
    const before = snapshot(w.b, w.arena);
    expectRefused(() => free(w, p, o), code, text);
    expect(snapshot(w.b, w.arena)).toEqual(before);
    w.b.check();
    expect(followUp(w)).toEqual(followUp(twin));
  });

  test("blockOf inside a live block is legitimate: it names the block", () => {
    const w = world();
    expect(w.b.blockOf(34)).toEqual({ pfn: 32, order: 2, state: "allocated", migratetype: MigrateType.Movable, node: 0 });
    expect(w.b.blockOf(71)).toEqual({ pfn: 64, order: 3, state: "allocated", migratetype: MigrateType.Movable, node: 1 });
  });

  test("the hot paths' BigInt refusals name the value", () => {
    const w = world();
    expectRefused(() => w.b.cpu(0).freePages(36n as unknown as number, 0), INVALID, "pfn must be an integer, got 36n");
    expectRefused(() => w.b.cpu(0).freePages(36, 0n as unknown as number), INVALID, "order must be an integer, got 0n");
    expectRefused(() => w.b.cpu(0).allocPages(0n as unknown as number), INVALID, "order must be an integer, got 0n");
    expectRefused(() => w.b.freePages(72n as unknown as number, 1), INVALID, "pfn must be an integer, got 72n");
    expectRefused(() => w.b.allocPages(1n as unknown as number), INVALID, "order must be an integer, got 1n");
  });
});

describe("constructor", () => {
  const build = (map: unknown, options: unknown): BuddyAllocator => new BuddyAllocator(map as MemoryMap, options as object);
  const ctorCases: [string, (v: unknown) => unknown, Domain][] = [
    ["map", (v) => build(v === OMIT ? undefined : v, {}), (v) => refuse(INVALID, `needs a MemoryMap, got ${describeValue(v)}`)],
    ["options", (v) => (v === OMIT ? new BuddyAllocator(MAP) : build(MAP, v)), bag],
    // An arena must be an ArrayFactory; nothing hostile is one.
    ["arena", (v) => build(MAP, field("arena", v)), (v) => (v === undefined ? { as: OMIT } : refuse(INVALID, `arena must be an ArrayFactory (a MetadataArena or one with its methods), got ${describeValue(v)}`))],
    ["maxOrder", (v) => build(MAP, field("maxOrder", v)), int(0, 20, true)],
    ["pageblockOrder", (v) => build(MAP, field("pageblockOrder", v)), int(0, 10, true)],
    ["cpus", (v) => build(MAP, field("cpus", v)), int(1, 1024, true)],
    ["cpuNodes", (v) => build(MAP, field("cpuNodes", v)), (v) => (v === undefined ? { as: OMIT } : refuse(INVALID, `cpuNodes must be an array of 1 node ids, got ${describeValue(v)}`))],
    ["pcpBatch", (v) => build(MAP, field("pcpBatch", v)), int(1, 2 ** 20, true)],
    ["pcpHigh", (v) => build(MAP, field("pcpHigh", v)), int(1, 2 ** 30, true)],
    ["minFreeKbytes", (v) => build(MAP, field("minFreeKbytes", v)), int(0, 2 ** 40, true)],
    ["watermarkScaleFactor", (v) => build(MAP, field("watermarkScaleFactor", v)), int(1, 3000, true)],
    ["groupByMobility", (v) => build(MAP, field("groupByMobility", v)), bool],
    ["stealWholeBlocks", (v) => build(MAP, field("stealWholeBlocks", v)), bool],
    ["defaultMigratetype", (v) => build(MAP, field("defaultMigratetype", v)), int(0, 2, true)],
    ["faultInjection", (v) => build(MAP, field("faultInjection", v)), (v) => (v === undefined ? { as: OMIT } : faultBag(v))],
    ["faultInjection.probability", (v) => build(MAP, { faultInjection: v === OMIT ? {} : { probability: v } }), probability],
    ...FAULT_FIELDS.map(([name, d]): [string, (v: unknown) => unknown, Domain] => [`faultInjection.${name}`, (v) => build(MAP, { faultInjection: { probability: 30, ...field(name, v) } }), d]),
  ];
  test.each(ctorCases.flatMap(([name, make, d]) => HOSTILE.map((v) => [name, label(v), make, d, v] as const)))("%s = %s", (_name, _label, make, d, v) => {
    const want = d(v);
    if ("code" in want) expectRefused(() => make(v), want.code, want.text);
    else expect(outcome(() => make(v))).toEqual(outcome(() => make(want.as)));
  });
});

describe("FaultInjector", () => {
  const injector = (): FaultInjector => new FaultInjector({ probability: 50, interval: 2, times: 5, space: 3, minOrder: 1, seed: 11 });
  const state = (f: FaultInjector): unknown => ({ options: f.options, timesLeft: f.timesLeft, injected: f.injected });
  const run = (f: FaultInjector): boolean[] => Array.from({ length: 24 }, (_, i) => f.shouldFail(i % 5, i % 3 === 0));
  const calls: [string, number, Domain][] = [
    ["order", 0, int(0, 63)],
    ["atomic", 1, (v) => (typeof v === "boolean" ? { as: v } : refuse(INVALID, `atomic must be a boolean, got ${describeValue(v)}`))],
  ];
  test.each(calls.flatMap(([name, pos, d]) => HOSTILE.map((v) => [name, label(v), pos, d, v] as const)))("shouldFail %s = %s", (_name, _label, pos, d, v) => {
    const f = injector();
    const twin = injector();
    f.shouldFail(2, false); // a step in, so the counters are not at their start
    twin.shouldFail(2, false);
    const before = state(f);
    const args: unknown[] = [1, false];
    args[pos] = v;
    const want = d(v);
    if ("code" in want) {
      expectRefused(() => invoke(f, "shouldFail", args), want.code, want.text);
      expect(state(f)).toEqual(before);
    } else {
      const same = [...args];
      same[pos] = want.as;
      expect(invoke(f, "shouldFail", args)).toBe(invoke(twin, "shouldFail", same));
    }
    expect(run(f)).toEqual(run(twin));
  });

  const ctor: [string, (v: unknown) => unknown, Domain][] = [
    ["options", (v) => new FaultInjector(v as never), faultBag],
    ["probability", (v) => new FaultInjector({ probability: v as number }), probability],
    ...FAULT_FIELDS.map(([name, d]): [string, (v: unknown) => unknown, Domain] => [name, (v) => new FaultInjector({ probability: 30, ...field(name, v) }), d]),
  ];
  test.each(ctor.flatMap(([name, make, d]) => HOSTILE.map((v) => [name, label(v), make, d, v] as const)))("new FaultInjector: %s = %s", (_name, _label, make, d, v) => {
    const want = d(v);
    if ("code" in want) expectRefused(() => make(v), want.code, want.text);
    else expect(outcome(() => make(v))).toEqual(outcome(() => make(want.as)));
  });
});

describe("pure functions", () => {
  const pow2: Domain = (v) => (isInt(v) && v > 0 && 2 ** Math.round(Math.log2(v)) === v ? { as: v } : refuse(INVALID, `pageSize must be a power of two, got ${describeValue(v)}`));
  // An array of block counts; [] is legitimate (nothing is free: index 1000, extfrag 0).
  const blocks: Domain = (v) => (Array.isArray(v) ? { as: v } : refuse(INVALID, `blocksPerOrder must be an array of block counts, got ${describeValue(v)}`));
  const fns: [string, (...a: unknown[]) => unknown, unknown[], Domain[]][] = [
    ["unusableFreeIndex", unusableFreeIndex as never, [1, [4, 0, 1]], [int(0, 63), blocks]],
    ["fragmentationIndex", fragmentationIndex as never, [3, [8, 0, 0, 0]], [int(0, 63), blocks]],
    ["minFreeKbytes", minFreeKbytes as never, [65536], [int(0, Number.MAX_SAFE_INTEGER)]],
    // zoneManaged 0, so that a totalManaged of -0 (0) is still legitimate.
    ["zoneWatermarks", zoneWatermarks as never, [1024, 0, 262144, 10], [int(0, Number.MAX_SAFE_INTEGER), int(0, 262144), int(0, Number.MAX_SAFE_INTEGER), int(1, 3000)]],
    ["zoneBatchsize", zoneBatchsize as never, [262144, 4096], [int(0, Number.MAX_SAFE_INTEGER), pow2]],
    ["zoneHighsize", zoneHighsize as never, [1286, 63, 1], [int(0, Number.MAX_SAFE_INTEGER), int(0, Number.MAX_SAFE_INTEGER), int(0, Number.MAX_SAFE_INTEGER)]],
  ];
  test.each(fns.flatMap(([name, fn, good, ds]) => ds.flatMap((d, pos) => HOSTILE.map((v) => [name, pos, label(v), fn, good, d, v] as const))))("%s argument %i = %s", (_name, pos, _label, fn, good, d, v) => {
    const args = [...good];
    args[pos] = v;
    const want = d(v);
    if ("code" in want) expectRefused(() => fn(...args), want.code, want.text);
    else {
      const same = [...good];
      same[pos] = want.as;
      expect(outcome(() => fn(...args))).toEqual(outcome(() => fn(...same)));
    }
  });

  test("element and length checks of blocksPerOrder, and values that used to hang or lie", () => {
    expectRefused(() => unusableFreeIndex(1, [4, Number.NaN, 1]), INVALID, "blocksPerOrder[1] must be an integer, got NaN");
    expectRefused(() => fragmentationIndex(1, [4, -1]), RANGE, "blocksPerOrder[1] must be in [0, 9007199254740991], got -1");
    expectRefused(() => fragmentationIndex(1, new Array<number>(65).fill(0)), RANGE, "blocksPerOrder.length must be in [0, 64], got 65");
    expect(unusableFreeIndex(2, new Int32Array([4, 0, 1]))).toBe(500); // a typed array is an array of counts
    expectRefused(() => minFreeKbytes(Infinity), INVALID, "lowmemKbytes must be an integer, got Infinity"); // used to loop forever
    expectRefused(() => zoneWatermarks(1024, 262145, 262144, 10), RANGE, "zoneManaged must be in [0, 262144], got 262145");
  });
});

describe("random hostile calls after random operations (fast-check, fixed seed)", () => {
  const opArb: fc.Arbitrary<Op> = fc.oneof(
    { weight: 5, arbitrary: fc.record({ kind: fc.constant("alloc" as const), order: fc.nat(4), cpu: fc.integer({ min: -1, max: 1 }), mt: fc.nat(2) }) },
    { weight: 4, arbitrary: fc.record({ kind: fc.constant("free" as const), pick: fc.nat(), cpu: fc.integer({ min: -1, max: 1 }) }) },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant("drain" as const), cpu: fc.integer({ min: -1, max: 1 }) }) },
  );
  const hostileArb: fc.Arbitrary<unknown> = fc.oneof(
    fc.constantFrom(...HOSTILE),
    fc.double(),
    fc.integer({ min: -1000, max: 1000 }),
    fc.bigInt(),
    fc.string({ maxLength: 3 }),
    fc.constantFrom(true, false, "min", "high", Symbol("s")),
  );
  const sweepable = CASES.flatMap((c) => c.domains.map((_, pos) => [c, pos] as const));

  test("each call is the call it stands for, or a typed refusal that changes nothing", () => {
    fc.assert(
      fc.property(fc.array(opArb, { maxLength: 25 }), fc.constantFrom(...sweepable), hostileArb, (prefix, [c, pos], v) => {
        // Symbols print as their type: describeValue gives "symbol".
        sweepOne(c, pos, v, prefix);
      }),
      { numRuns: 400, seed: 0x5eed },
    );
  });
});
