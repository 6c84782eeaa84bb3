import fc from "fast-check";
import { describe, expect, test } from "vitest";
import {
  DirectMap,
  ErrorCode,
  MemoryBacking,
  MemoryFailure,
  MemoryMap,
  MetadataArena,
  MiB,
  MmkitError,
  PhysicalMemory,
  ProbingArena,
  Protection,
  describeValue,
  formatBytes,
  isPowerOfTwo,
  log2Exact,
  requireArrayFactory,
  requireInteger,
  requirePowerOfTwo,
} from "@mmkit/physmem";
import { HOSTILE_FACTORIES, expectMmkitError as expectRefused, refuse, returns, same, sweepPosition, type SweepVerdict } from "@mmkit/test-support";

// Every public method and constructor option of @mmkit/physmem (src/index.ts and the README):
//
//   MemoryMap        new MemoryMap({ pageSize, ranges: [{ base, size, node }] }), MemoryMap.uniform(size,
//                    { nodes, holeBytes, pageSize }), rangeIndexOf, pfnValid, nodeOf, node, isContiguousRam,
//                    requireRam, pfnToAddress, addressToPfn, describe, [Symbol.iterator], presentPages,
//                    spannedPages, presentBytes, nodes, ranges
//   MemoryBacking    new MemoryBacking(map, { shared, maxBytes }), bytes, pages, buffer
//   DirectMap        new DirectMap(map, { arena, largestLeaf, collapse }), setProtection, setReadOnly,
//                    setDefault, setInvalid, splitToPages, collapse, protection, leafPages, counters, meminfo, check
//   MemoryFailure    new MemoryFailure(map), subscribe, poison, isPoisoned, unpoison, poisonedPfns, count
//   PhysicalMemory   new PhysicalMemory({ pageSize, ranges, backing, maxBackingBytes, directMap, arena }),
//                    bytes, poison, pageSize
//   MetadataArena    new MetadataArena({ shared }), uint8 ... float64, allocate, release, labelBytes, byLabel,
//                    seal, unseal, sealWhile, bytes, peakBytes, allocations, sealed
//   ProbingArena     new ProbingArena({ shared }), begin, end, measure, recording
//   validators       requireInteger, requirePowerOfTwo, isPowerOfTwo, log2Exact, requireArrayFactory,
//                    describeValue, formatBytes, MmkitError
//
// Each argument position of each of them gets every hostile value below, against a machine in a
// non-trivial state (split direct map, poisoned pages, live and released arena arrays, written bytes).
// Each call is either refused with an MmkitError (code, message naming the value as describeValue
// prints it, nothing changed) or legitimate, with the reason written next to its verdict.

const HOSTILE = HOSTILE_FACTORIES;
const MAX = Number.MAX_SAFE_INTEGER;

type Rule = (label: string, value: unknown) => SweepVerdict;


/**
 * What `requireInteger(value, name, min, max)` does with a hostile value: a non-integer is
 * ERR_INVALID_ARGUMENT, an integer outside [min, max] ERR_OUT_OF_RANGE, -0 is 0. Anything else in
 * range must have its verdict in `over` (so every legitimate case says why).
 */
function integer(name: string, min: number, max: number, over: Record<string, SweepVerdict> = {}): Rule {
  return (label, v) => {
    const o = over[label];
    if (o !== undefined) return o;
    if (typeof v !== "number" || !Number.isSafeInteger(v)) return refuse(ErrorCode.InvalidArgument, `${name} must be an integer, got ${describeValue(v)}`);
    if (v < min || v > max) return refuse(ErrorCode.OutOfRange, `${name} must be in [${min}, ${max}], got ${describeValue(v)}`);
    if (Object.is(v, -0)) return same(0, "-0 is 0");
    throw new Error(`no verdict for ${name} = ${label}`);
  };
}
/** Every hostile value is refused with `code` and a message `prefix` + the value. */
const always = (code: string, prefix: string): Rule => (_, v) => refuse(code, `${prefix}${describeValue(v)}`);
/**
 * An options object: undefined takes the default (a default parameter; with `nullIsAbsent`, an
 * option read with `??`, null too), an object or array with no options set is legitimate, anything
 * else is refused.
 */
function optionsObject(what: string, notGiven: SweepVerdict, emptyObject: SweepVerdict, nullIsAbsent = false): Rule {
  return (label, v) => {
    if (label === "undefined" || (nullIsAbsent && label === "null")) return notGiven;
    if (label === "{}" || label === "[]") return emptyObject;
    return refuse(ErrorCode.InvalidArgument, `${what} must be an object, got ${describeValue(v)}`);
  };
}
/** A boolean option read with `??`: undefined and null are "not given". */
function booleanOption(name: string, dflt: boolean): Rule {
  return (label, v) =>
    label === "undefined" || label === "null" ? same(dflt, "not given (?? treats null as absent)") : refuse(ErrorCode.InvalidArgument, `${name} must be a boolean, got ${describeValue(v)}`);
}
/** A predicate over pfns: -0 is 0, anything else here is no pfn of RAM. */
const pfnQuery = (no: unknown): Rule => (label) => (label === "-0" ? same(0, "-0 is 0") : returns(no, "a query: anything but an integer pfn of RAM is not RAM"));
/** Bounds of requireInteger / requirePowerOfTwo are the caller's constants: compared as JS compares. */
function bound(value: number, side: "min" | "max", other: number, dflt: number): Rule {
  return (label, v) => {
    if (label === "undefined") return same(dflt, "undefined is the default bound");
    const lo = side === "min" ? v : other;
    const hi = side === "max" ? v : other;
    // Relational compares coerce (null and [] as 0, "3" as 3, 1n as 1); one that is NaN admits nothing.
    const inRange = (value as unknown as number) >= (lo as number) && (value as unknown as number) <= (hi as number);
    return inRange
      ? returns(value, "a bound is the caller's constant, compared as JS compares it")
      : refuse(ErrorCode.OutOfRange, `must be in [${describeValue(lo)}, ${describeValue(hi)}], got ${value}`);
  };
}

// ---- the machine ---------------------------------------------------------------------------

/** 4 MiB of RAM on node 0, a 4 MiB hole, 4 MiB on node 1: pfns 0-1023 and 2048-3071. */
const RANGES = [
  { base: 0, size: 4 * MiB, node: 0 },
  { base: 8 * MiB, size: 4 * MiB, node: 1 },
];

interface World {
  arena: MetadataArena;
  probe: ProbingArena;
  map: MemoryMap;
  backing: MemoryBacking;
  dm: DirectMap;
  failures: MemoryFailure;
  heard: string[];
  machine: PhysicalMemory;
  live: Int32Array;
  freed: Uint8Array;
}

type Op =
  | { op: "protect"; pfn: number; count: number; prot: number }
  | { op: "split"; pfn: number; count: number }
  | { op: "collapse"; pfn: number }
  | { op: "poison"; pfn: number }
  | { op: "unpoison"; pfn: number }
  | { op: "alloc"; length: number }
  | { op: "release"; nth: number }
  | { op: "write"; address: number; byte: number };

function world(prefix: readonly Op[] = []): World {
  const arena = new MetadataArena();
  const probe = new ProbingArena();
  probe.int32(32, "probe table");
  const map = new MemoryMap({ ranges: RANGES });
  const backing = new MemoryBacking(map);
  backing.bytes(4096, 4).set([1, 2, 3, 4]);
  const dm = new DirectMap(map, { arena });
  dm.setReadOnly(10, 3);
  dm.setInvalid(600, 1);
  dm.splitToPages(2100, 2);
  dm.setDefault(11);
  const failures = new MemoryFailure(map);
  const heard: string[] = [];
  failures.subscribe((e) => heard.push(`${e.pfn}@${e.node}/${e.source}`));
  failures.poison(7, "test");
  failures.poison(2100);
  failures.unpoison(2100);
  const machine = new PhysicalMemory({ ranges: [{ base: 0, size: MiB }], backing: "array" });
  machine.bytes(8, 2).set([9, 9]);
  machine.poison(3);
  const live = arena.int32(16, "sweep live");
  const freed = arena.uint8(8, "sweep freed");
  arena.release(freed);
  const extra: Float64Array[] = [];
  for (const o of prefix) {
    if (o.op === "protect") dm.setProtection(o.pfn, o.count, o.prot);
    else if (o.op === "split") dm.splitToPages(o.pfn, o.count);
    else if (o.op === "collapse") dm.collapse(o.pfn);
    else if (o.op === "poison") failures.poison(o.pfn, "prefix");
    else if (o.op === "unpoison") failures.unpoison(o.pfn);
    else if (o.op === "alloc") extra.push(arena.float64(o.length, "prefix"));
    else if (o.op === "release") {
      if (extra.length > 0) arena.release(extra.splice(o.nth % extra.length, 1)[0]!);
    } else backing.bytes(o.address, 1)[0] = o.byte;
  }
  return { arena, probe, map, backing, dm, failures, heard, machine, live, freed };
}

/** Everything the machine exposes: compared with toEqual before and after every call. */
function state(w: World): unknown {
  const pfns = [0, 10, 11, 12, 13, 20, 21, 30, 40, 600, 1023, 1500, 2048, 2100, 2101, 2200, 3071];
  return {
    arena: { bytes: w.arena.bytes, peak: w.arena.peakBytes, allocations: w.arena.allocations, sealed: w.arena.sealed, byLabel: w.arena.byLabel() },
    probe: { bytes: w.probe.bytes, allocations: w.probe.allocations, sealed: w.probe.sealed, recording: w.probe.recording },
    map: { ranges: w.map.ranges, nodes: w.map.nodes, describe: w.map.describe() },
    dm: { counters: w.dm.counters(), protection: pfns.map((p) => w.dm.protection(p)), leaves: pfns.map((p) => w.dm.leafPages(p)) },
    failures: { count: w.failures.count, poisoned: w.failures.poisonedPfns(), heard: [...w.heard] },
    backing: [...w.backing.bytes(4096, 8)],
    machine: { bytes: [...w.machine.bytes(0, 16)], poisoned: w.machine.failures.poisonedPfns(), dm: w.machine.directMap.counters() },
    live: w.live.length,
  };
}
function check(w: World): void {
  w.dm.check();
  w.machine.directMap.check();
}

// ---- the sweep -------------------------------------------------------------------------------

interface Entry {
  name: string;
  /** Canonical, valid arguments; each position in turn is replaced by a hostile value. */
  args: (w: World) => unknown[];
  /** Calls the method; returns something comparable with toEqual (no functions, no live views). */
  call: (w: World, args: unknown[]) => unknown;
  /** One rule per argument position. */
  rules: Rule[];
}

const view = (v: Uint8Array): number[] => [...v];
const RO = Protection.ReadOnly;

const ENTRIES: Entry[] = [
  // ---- MemoryMap
  {
    name: "new MemoryMap({ pageSize, ranges: [{ base, size, node }] })",
    args: () => [4096, 0, MiB, 0],
    call: (_, [pageSize, base, size, node]) => new MemoryMap({ pageSize, ranges: [{ base, size, node }] } as never).describe(),
    rules: [
      (label, v) =>
        label === "undefined" || label === "null"
          ? same(4096, "not given: 4 KiB pages")
          : refuse(ErrorCode.InvalidArgument, `pageSize must be a power of two, got ${describeValue(v)}`),
      integer("ranges[0].base", 0, 2 ** 53, { MAX_SAFE_INTEGER: refuse(ErrorCode.NotAligned, "ranges[0].base 9007199254740991 is not a multiple of the page size 4096") }),
      integer("ranges[0].size", 1, 2 ** 53, { MAX_SAFE_INTEGER: refuse(ErrorCode.NotAligned, "ranges[0].size 9007199254740991 is not a multiple of the page size 4096") }),
      integer("ranges[0].node", 0, 1023, { undefined: same(0, "not given: node 0"), null: same(0, "not given (??): node 0") }),
    ],
  },
  {
    name: "new MemoryMap(options)",
    args: () => [{ ranges: RANGES }],
    call: (_, [options]) => new MemoryMap(options as never).describe(),
    rules: [
      (label, v) =>
        label === "{}" || label === "[]"
          ? refuse(ErrorCode.InvalidArgument, "ranges must be an array of RAM ranges, got undefined")
          : refuse(ErrorCode.InvalidArgument, `memory map options must be an object, got ${describeValue(v)}`),
    ],
  },
  {
    name: "new MemoryMap({ ranges })",
    args: () => [RANGES],
    call: (_, [ranges]) => new MemoryMap({ ranges } as never).describe(),
    rules: [(label, v) => (label === "[]" ? refuse(ErrorCode.InvalidArgument, "a memory map needs at least one RAM range") : refuse(ErrorCode.InvalidArgument, `ranges must be an array of RAM ranges, got ${describeValue(v)}`))],
  },
  {
    name: "new MemoryMap({ ranges: [range] })",
    args: () => [{ base: 0, size: MiB }],
    call: (_, [range]) => new MemoryMap({ ranges: [range] } as never).describe(),
    rules: [
      (label, v) =>
        label === "{}" || label === "[]"
          ? refuse(ErrorCode.InvalidArgument, "ranges[0].base must be an integer, got undefined")
          : refuse(ErrorCode.InvalidArgument, `ranges[0] must be an object, got ${describeValue(v)}`),
    ],
  },
  {
    name: "MemoryMap.uniform(size, { nodes, holeBytes, pageSize })",
    args: () => [8 * MiB, 2, 4096, 4096],
    call: (_, [size, nodes, holeBytes, pageSize]) => MemoryMap.uniform(size as number, { nodes, holeBytes, pageSize } as never).describe(),
    rules: [
      integer("size", 1, 2 ** 53, {
        MAX_SAFE_INTEGER: returns(
          "node 0: [mem 0x0-0xfffffffffefff] 1099511627775 pages\nnode 1: [mem 0x10000000000000-0x1fffffffffefff] 1099511627775 pages",
          "2^53 - 1 bytes is a valid size: two nodes of whole pages, no memory per page",
        ),
      }),
      integer("nodes", 1, 1024, { undefined: same(1, "not given: one node"), null: same(1, "not given (??): one node") }),
      integer("holeBytes", 0, 2 ** 53, {
        undefined: same(0, "not given: no hole"),
        null: same(0, "not given (??): no hole"),
        MAX_SAFE_INTEGER: refuse(ErrorCode.NotAligned, "holeBytes 9007199254740991 is not a multiple of the page size 4096"),
      }),
      (label, v) =>
        label === "undefined" || label === "null" ? same(4096, "not given: 4 KiB pages") : refuse(ErrorCode.InvalidArgument, `pageSize must be a power of two, got ${describeValue(v)}`),
    ],
  },
  {
    name: "MemoryMap.uniform(8 MiB, options)",
    args: () => [{}],
    call: (_, [options]) => MemoryMap.uniform(8 * MiB, options as never).describe(),
    rules: [optionsObject("uniform options", same({}, "not given: defaults"), same({}, "an object (or array) with no options set"))],
  },
  { name: "map.rangeIndexOf(pfn)", args: () => [5], call: (w, [p]) => w.map.rangeIndexOf(p as number), rules: [pfnQuery(-1)] },
  { name: "map.pfnValid(pfn)", args: () => [5], call: (w, [p]) => w.map.pfnValid(p as number), rules: [pfnQuery(false)] },
  { name: "map.nodeOf(pfn)", args: () => [2050], call: (w, [p]) => w.map.nodeOf(p as number), rules: [pfnQuery(-1)] },
  { name: "map.node(id)", args: () => [1], call: (w, [id]) => w.map.node(id as number)?.presentPages, rules: [(label) => (label === "-0" ? same(0, "-0 is 0") : returns(undefined, "a query: no node has that id"))] },
  {
    name: "map.isContiguousRam(pfn, count)",
    args: () => [5, 3],
    call: (w, [p, n]) => w.map.isContiguousRam(p as number, n as number),
    rules: [pfnQuery(false), integer("count", 1, MAX, { MAX_SAFE_INTEGER: returns(false, "a run longer than any range is not contiguous RAM") })],
  },
  {
    name: "map.requireRam(pfn, name)",
    args: () => [2050, "pfn"],
    call: (w, [p, n]) => w.map.requireRam(p, n as string),
    rules: [
      integer("pfn", 0, 2 ** 53, { MAX_SAFE_INTEGER: refuse(ErrorCode.NotRam, "pfn 9007199254740991 is not RAM") }),
      () => returns(1, "the name only labels an error message"),
    ],
  },
  { name: "map.pfnToAddress(pfn)", args: () => [5], call: (w, [p]) => w.map.pfnToAddress(p as number), rules: [integer("pfn", 0, 2 ** 53 / 4096)] },
  {
    name: "map.addressToPfn(address)",
    args: () => [20000],
    call: (w, [a]) => w.map.addressToPfn(a as number),
    rules: [integer("address", 0, MAX, { MAX_SAFE_INTEGER: returns(2199023255551, "any byte address has a pfn, RAM or not") })],
  },

  // ---- MemoryBacking
  {
    name: "new MemoryBacking(map, { shared, maxBytes })",
    args: (w) => [w.map, false, 64 * MiB],
    call: (_, [map, shared, maxBytes]) => new MemoryBacking(map as MemoryMap, { shared, maxBytes } as never).totalBytes,
    rules: [
      always(ErrorCode.InvalidArgument, "map must be a MemoryMap, got "),
      booleanOption("shared", false),
      integer("maxBytes", 0, MAX, {
        undefined: same(undefined, "not given: no limit of our own"),
        "-0": refuse(ErrorCode.BackingTooLarge, "backing 8388608 bytes of RAM exceeds maxBytes 0"),
        MAX_SAFE_INTEGER: returns(8 * MiB, "a limit above the RAM backs it"),
      }),
    ],
  },
  {
    name: "new MemoryBacking(map, options)",
    args: (w) => [w.map, {}],
    call: (_, [map, options]) => new MemoryBacking(map as MemoryMap, options as never).shared,
    rules: [always(ErrorCode.InvalidArgument, "map must be a MemoryMap, got "), optionsObject("backing options", same({}, "not given: defaults"), same({}, "an object (or array) with no options set"))],
  },
  {
    name: "backing.bytes(address, length)",
    args: () => [4096, 4],
    call: (w, [a, n]) => view(w.backing.bytes(a as number, n as number)),
    rules: [
      integer("address", 0, MAX, { MAX_SAFE_INTEGER: refuse(ErrorCode.NotRam, "address 9007199254740991 is not RAM") }),
      integer("length", 0, MAX, { MAX_SAFE_INTEGER: refuse(ErrorCode.NotRam, "view of 9007199254740991 bytes at address 4096 crosses the end of its RAM range") }),
    ],
  },
  {
    name: "backing.pages(pfn, count)",
    args: () => [1, 1],
    call: (w, [p, n]) => view(w.backing.pages(p as number, n as number)).slice(0, 8),
    rules: [
      integer("pfn", 0, MAX, { MAX_SAFE_INTEGER: refuse(ErrorCode.NotRam, "(pfn 9007199254740991, count 1)") }),
      integer("count", 1, MAX, { undefined: same(1, "not given: one page"), MAX_SAFE_INTEGER: refuse(ErrorCode.NotRam, "(pfn 1, count 9007199254740991)") }),
    ],
  },
  { name: "backing.buffer(index)", args: () => [1], call: (w, [i]) => w.backing.buffer(i as number).byteLength, rules: [integer("index", 0, 1)] },

  // ---- DirectMap
  {
    name: "new DirectMap(map, { arena, largestLeaf, collapse })",
    args: (w) => [w.map, w.arena, "2M", false],
    call: (_, [map, arena, largestLeaf, collapse]) => new DirectMap(map as MemoryMap, { arena, largestLeaf, collapse } as never).counters(),
    rules: [
      always(ErrorCode.InvalidArgument, "map must be a MemoryMap, got "),
      (label, v) =>
        label === "undefined" || label === "null"
          ? same(undefined, "not given: a private arena")
          : refuse(ErrorCode.InvalidArgument, `arena must be an ArrayFactory (a MetadataArena or one with its methods), got ${describeValue(v)}`),
      (label, v) => (label === "undefined" || label === "null" ? same("1G", "not given: 1 GiB leaves") : refuse(ErrorCode.InvalidArgument, `largestLeaf must be "1G", "2M" or "4K", got ${describeValue(v)}`)),
      booleanOption("collapse", false),
    ],
  },
  {
    name: "new DirectMap(map, options)",
    args: (w) => [w.map, {}],
    call: (_, [map, options]) => new DirectMap(map as MemoryMap, options as never).counters(),
    rules: [always(ErrorCode.InvalidArgument, "map must be a MemoryMap, got "), optionsObject("direct map options", same({}, "not given: defaults"), same({}, "an object (or array) with no options set"))],
  },
  {
    name: "dm.setProtection(pfn, count, protection)",
    args: () => [20, 2, RO],
    call: (w, [p, n, prot]) => w.dm.setProtection(p as number, n as number, prot as number),
    rules: [
      integer("pfn", 0, MAX, { MAX_SAFE_INTEGER: refuse(ErrorCode.NotRam, "(pfn 9007199254740991, count 2)") }),
      integer("count", 1, MAX, { MAX_SAFE_INTEGER: refuse(ErrorCode.NotRam, "(pfn 20, count 9007199254740991)") }),
      integer("protection", 0, 7),
    ],
  },
  ...(["setReadOnly", "setDefault", "setInvalid", "splitToPages"] as const).map(
    (method): Entry => ({
      name: `dm.${method}(pfn, count)`,
      args: () => [2200, 2],
      call: (w, [p, n]) => w.dm[method](p as number, n as number),
      rules: [
        integer("pfn", 0, MAX, { MAX_SAFE_INTEGER: refuse(ErrorCode.NotRam, "(pfn 9007199254740991, count 2)") }),
        integer("count", 1, MAX, { undefined: same(1, "not given: one page"), MAX_SAFE_INTEGER: refuse(ErrorCode.NotRam, "(pfn 2200, count 9007199254740991)") }),
      ],
    }),
  ),
  { name: "dm.collapse(pfn)", args: () => [2100], call: (w, [p]) => w.dm.collapse(p as number), rules: [integer("pfn", 0, MAX, { MAX_SAFE_INTEGER: refuse(ErrorCode.NotRam, "(pfn 9007199254740991, count 1)") })] },
  { name: "dm.protection(pfn)", args: () => [10], call: (w, [p]) => w.dm.protection(p as number), rules: [integer("pfn", 0, MAX, { MAX_SAFE_INTEGER: returns(-1, "beyond RAM: not mapped") })] },
  { name: "dm.leafPages(pfn)", args: () => [10], call: (w, [p]) => w.dm.leafPages(p as number), rules: [integer("pfn", 0, MAX, { MAX_SAFE_INTEGER: returns(0, "beyond RAM: no leaf") })] },

  // ---- MemoryFailure
  { name: "new MemoryFailure(map)", args: (w) => [w.map], call: (_, [map]) => new MemoryFailure(map as MemoryMap).count, rules: [always(ErrorCode.InvalidArgument, "map must be a MemoryMap, got ")] },
  {
    name: "failures.subscribe(handler)",
    args: () => [() => {}],
    call: (w, [h]) => typeof w.failures.subscribe(h as never),
    rules: [always(ErrorCode.InvalidArgument, "memory-failure handler must be a function, got ")],
  },
  {
    name: "failures.poison(pfn, source)",
    args: () => [8, "test"],
    call: (w, [p, s]) => w.failures.poison(p as number, s as string),
    rules: [
      integer("pfn", 0, 2 ** 53, { MAX_SAFE_INTEGER: refuse(ErrorCode.NotRam, "pfn 9007199254740991 is not RAM") }),
      (label, v) =>
        label === "undefined"
          ? same("mce", 'not given: "mce"')
          : label === '"3"'
            ? same("3", "any string is a free-form source")
            : refuse(ErrorCode.InvalidArgument, `memory-failure source must be a string, got ${describeValue(v)}`),
    ],
  },
  { name: "failures.isPoisoned(pfn)", args: () => [7], call: (w, [p]) => w.failures.isPoisoned(p as number), rules: [(label) => (label === "-0" ? same(0, "-0 is 0") : returns(false, "a query: no such pfn is poisoned"))] },
  { name: "failures.unpoison(pfn)", args: () => [7], call: (w, [p]) => w.failures.unpoison(p as number), rules: [integer("pfn", 0, 2 ** 53, { MAX_SAFE_INTEGER: refuse(ErrorCode.NotRam, "pfn 9007199254740991 is not RAM") })] },

  // ---- PhysicalMemory
  {
    name: "new PhysicalMemory({ backing, maxBackingBytes, directMap, arena, pageSize })",
    args: (w) => ["array", 64 * MiB, { largestLeaf: "2M" }, w.arena, 4096],
    call: (_, [backing, maxBackingBytes, directMap, arena, pageSize]) => {
      const m = new PhysicalMemory({ ranges: [{ base: 0, size: MiB }], backing, maxBackingBytes, directMap, arena, pageSize } as never);
      return { backed: m.backing?.totalBytes ?? 0, dm: m.directMap.counters(), pageSize: m.pageSize };
    },
    rules: [
      (label, v) =>
        label === "undefined" || label === "null" ? same("none", 'not given: "none"') : refuse(ErrorCode.InvalidArgument, `backing must be "array", "shared" or "none", got ${describeValue(v)}`),
      integer("maxBackingBytes", 0, MAX, {
        undefined: same(undefined, "not given: no limit of our own"),
        "-0": refuse(ErrorCode.BackingTooLarge, "backing 1048576 bytes of RAM exceeds maxBytes 0"),
        MAX_SAFE_INTEGER: same(64 * MiB, "any limit above the 1 MiB of RAM backs it"),
      }),
      optionsObject("directMap options", same({}, "not given (?? treats null as absent): default direct map"), same({}, "an object (or array) with no options set"), true),
      (label, v) =>
        label === "undefined" || label === "null"
          ? same(undefined, "not given: the direct map's own arena")
          : refuse(ErrorCode.InvalidArgument, `arena must be an ArrayFactory (a MetadataArena or one with its methods), got ${describeValue(v)}`),
      (label, v) =>
        label === "undefined" || label === "null" ? same(4096, "not given: 4 KiB pages") : refuse(ErrorCode.InvalidArgument, `pageSize must be a power of two, got ${describeValue(v)}`),
    ],
  },
  {
    name: "new PhysicalMemory(options)",
    args: () => [{ ranges: [{ base: 0, size: MiB }] }],
    call: (_, [options]) => new PhysicalMemory(options as never).pageSize,
    rules: [
      (label, v) =>
        label === "{}" || label === "[]"
          ? refuse(ErrorCode.InvalidArgument, "ranges must be an array of RAM ranges, got undefined")
          : refuse(ErrorCode.InvalidArgument, `memory map options must be an object, got ${describeValue(v)}`),
    ],
  },
  {
    name: "machine.bytes(address, length)",
    args: () => [8, 2],
    call: (w, [a, n]) => view(w.machine.bytes(a as number, n as number)),
    rules: [
      integer("address", 0, MAX, { MAX_SAFE_INTEGER: refuse(ErrorCode.NotRam, "address 9007199254740991 is not RAM") }),
      integer("length", 0, MAX, { MAX_SAFE_INTEGER: refuse(ErrorCode.NotRam, "view of 9007199254740991 bytes at address 8") }),
    ],
  },
  {
    name: "machine.poison(pfn, source)",
    args: () => [4, "test"],
    call: (w, [p, s]) => w.machine.poison(p as number, s as string),
    rules: [
      integer("pfn", 0, 2 ** 53, { MAX_SAFE_INTEGER: refuse(ErrorCode.NotRam, "pfn 9007199254740991 is not RAM") }),
      (label, v) =>
        label === "undefined"
          ? same("mce", 'not given: "mce"')
          : label === '"3"'
            ? same("3", "any string is a free-form source")
            : refuse(ErrorCode.InvalidArgument, `memory-failure source must be a string, got ${describeValue(v)}`),
    ],
  },

  // ---- MetadataArena and ProbingArena
  {
    name: "new MetadataArena({ shared })",
    args: () => [false],
    call: (_, [shared]) => new MetadataArena({ shared } as never).shared,
    rules: [booleanOption("shared", false)],
  },
  {
    name: "new MetadataArena(options)",
    args: () => [{}],
    call: (_, [options]) => new MetadataArena(options as never).shared,
    rules: [optionsObject("arena options", same({}, "not given: defaults"), same({}, "an object (or array) with no options set"))],
  },
  {
    name: "new ProbingArena(options)",
    args: () => [{}],
    call: (_, [options]) => new ProbingArena(options as never).shared,
    rules: [optionsObject("arena options", same({}, "not given: defaults"), same({}, "an object (or array) with no options set"))],
  },
  ...(["int32", "float64", "uint8"] as const).map(
    (kind): Entry => ({
      name: `arena.${kind}(length, label)`,
      args: () => [4, "sweep"],
      call: (w, [n, label]) => w.arena[kind](n as number, label as string).length,
      rules: [
        (labelOf, v) =>
          labelOf === "-0"
            ? same(0, "-0 is 0: an empty array")
            : labelOf === "MAX_SAFE_INTEGER"
              ? refuse(ErrorCode.BackingTooLarge, `cannot allocate ${kind}[9007199254740991]`)
              : refuse(ErrorCode.InvalidArgument, `array length must be a non-negative integer, got ${describeValue(v)}`),
        (labelOf, v) => (labelOf === '"3"' ? same("3", "any string is a label") : refuse(ErrorCode.InvalidArgument, `array label must be a string, got ${describeValue(v)}`)),
      ],
    }),
  ),
  {
    name: "arena.allocate(kind, length, label)",
    args: () => ["int16", 4, "sweep"],
    call: (w, [kind, n, label]) => w.arena.allocate(kind as never, n as number, label as string).length,
    rules: [
      always(ErrorCode.InvalidArgument, "unknown array kind "),
      (label, v) =>
        label === "-0"
          ? same(0, "-0 is 0: an empty array")
          : label === "MAX_SAFE_INTEGER"
            ? refuse(ErrorCode.BackingTooLarge, "cannot allocate int16[9007199254740991]")
            : refuse(ErrorCode.InvalidArgument, `array length must be a non-negative integer, got ${describeValue(v)}`),
      (label, v) => (label === '"3"' ? same("3", "any string is a label") : refuse(ErrorCode.InvalidArgument, `array label must be a string, got ${describeValue(v)}`)),
    ],
  },
  {
    name: "arena.release(array)",
    args: (w) => [w.live],
    call: (w, [a]) => w.arena.release(a as never),
    rules: [(_, v) => refuse(ErrorCode.NotAllocated, `cannot release ${describeValue(v)}: not an array this arena handed out`)],
  },
  { name: "arena.labelBytes(label)", args: () => ["sweep live"], call: (w, [l]) => w.arena.labelBytes(l as string), rules: [() => returns(0, "a query: no array has that label")] },
  { name: "arena.sealWhile(fn)", args: () => [() => 1], call: (w, [fn]) => w.arena.sealWhile(fn as never), rules: [always(ErrorCode.InvalidArgument, "sealWhile needs a function, got ")] },
  { name: "probe.measure(fn)", args: () => [() => 1], call: (w, [fn]) => w.probe.measure(fn as never).lines, rules: [always(ErrorCode.InvalidArgument, "measure needs a function, got ")] },
  {
    name: "requireArrayFactory(value, name)",
    args: (w) => [w.arena, "arena"],
    call: (w, [a, n]) => requireArrayFactory(a, n as string) === w.arena,
    rules: [
      always(ErrorCode.InvalidArgument, "arena must be an ArrayFactory (a MetadataArena or one with its methods), got "),
      () => returns(true, "the name only labels an error message"),
    ],
  },

  // ---- validators and helpers
  {
    name: "requireInteger(value, name, min, max)",
    args: () => [5, "n", 0, 10],
    call: (_, [v, n, lo, hi]) => requireInteger(v, n as string, lo as number, hi as number),
    rules: [integer("n", 0, 10), () => returns(5, "the name only labels an error message"), bound(5, "min", 10, 0), bound(5, "max", 0, MAX)],
  },
  {
    name: "requirePowerOfTwo(value, name, min, max)",
    args: () => [8, "n", 1, 16],
    call: (_, [v, n, lo, hi]) => requirePowerOfTwo(v, n as string, lo as number, hi as number),
    rules: [always(ErrorCode.InvalidArgument, "n must be a power of two, got "), () => returns(8, "the name only labels an error message"), bound(8, "min", 16, 1), bound(8, "max", 1, 2 ** 52)],
  },
  { name: "isPowerOfTwo(value)", args: () => [8], call: (_, [v]) => isPowerOfTwo(v as number), rules: [() => returns(false, "a predicate: none of these is a power of two in [1, 2^52]")] },
  {
    name: "log2Exact(value)",
    args: () => [8],
    call: (_, [v]) => log2Exact(v as number),
    rules: [
      (label, v) =>
        label === "0.5"
          ? returns(-1, "0.5 is 2^-1, a power of two a double holds")
          : label === "2**53"
            ? returns(53, "2^53 is a power of two a double holds")
            : refuse(ErrorCode.InvalidArgument, `log2Exact needs a power of two, got ${describeValue(v)}`),
    ],
  },
  {
    name: "formatBytes(bytes)",
    args: () => [2048],
    call: (_, [b]) => formatBytes(b as number),
    rules: [
      (label, v) => {
        const printed: Record<string, string> = {
          NaN: "NaN B",
          "-0": "0 B",
          "-1": "-1 B",
          "0.5": "0.5 B",
          "2**53": "8 PiB",
          Infinity: "Infinity B",
          "-Infinity": "-Infinity B",
          MAX_SAFE_INTEGER: "8 PiB",
        };
        const text = printed[label];
        return text !== undefined ? returns(text, "any number prints (deltas, averages, and NaN or infinities as themselves)") : refuse(ErrorCode.InvalidArgument, `bytes must be a number, got ${describeValue(v)}`);
      },
    ],
  },
  {
    name: "describeValue(value)",
    args: () => [1],
    call: (_, [v]) => describeValue(v),
    rules: [
      (label) =>
        returns(
          ({ NaN: "NaN", "-0": "-0", "-1": "-1", "0.5": "0.5", "2**53": "9007199254740992", Infinity: "Infinity", "-Infinity": "-Infinity", undefined: "undefined", null: "null", '"3"': '"3"', "{}": "object", "[]": "object", "1n": "1n", MAX_SAFE_INTEGER: "9007199254740991" } as Record<string, string>)[label],
          "the printer every error message uses: total, never throws",
        ),
    ],
  },
];

/** One hostile value in one position of one entry, against a world built from `prefix` (a -0 result counts as 0). */
function runCase(entry: Entry, pos: number, label: string, make: () => unknown, prefix: readonly Op[] = []): void {
  const value = make();
  const subject = { make: () => world(prefix), state, check };
  sweepPosition(subject, entry, pos, value, entry.rules[pos]!(label, value), `${entry.name} with ${label} in position ${pos}`);
}

describe("every public method, every argument position, every hostile value", () => {
  for (const entry of ENTRIES) {
    test(entry.name, () => {
      // The canonical call is valid, so each refusal below is the hostile value's doing.
      const w = world();
      entry.call(w, entry.args(w));
      check(w);
      for (let pos = 0; pos < entry.rules.length; pos++) {
        for (const [label, make] of HOSTILE) runCase(entry, pos, label, make);
      }
    });
  }
});

describe("misuse of live and freed things", () => {
  test("arena: double release, an array inside a live one, a copy of the right size, a prototype key as kind", () => {
    const w = world();
    const before = state(w);
    expectRefused(() => w.arena.release(w.freed), ErrorCode.NotAllocated, "cannot release object", "double release");
    expectRefused(() => w.arena.release(w.live.subarray(1)), ErrorCode.NotAllocated, "not an array this arena handed out", "subarray of a live array");
    expectRefused(() => w.arena.release(new Int32Array(16)), ErrorCode.NotAllocated, "not an array this arena handed out", "same size, not ours");
    expectRefused(() => w.arena.release(new MetadataArena().int32(16, "sweep live")), ErrorCode.NotAllocated, "not an array this arena handed out", "another arena's array");
    expectRefused(() => w.arena.allocate("toString" as never, 4, "x"), ErrorCode.InvalidArgument, 'unknown array kind "toString"', "prototype key");
    expectRefused(() => w.arena.allocate("constructor" as never, 4, "x"), ErrorCode.InvalidArgument, 'unknown array kind "constructor"', "prototype key");
    expect(state(w)).toEqual(before);
    w.arena.sealWhile(() => expectRefused(() => w.arena.int32(-1, "x"), ErrorCode.ArenaSealed, "int32[-1]", "sealed"));
    expect(w.arena.sealed).toBe(false);
  });

  test("memory failure: poisoning twice and unpoisoning twice answer false and change nothing", () => {
    const w = world();
    const before = state(w);
    expect(w.failures.poison(7)).toBe(false); // the kernel's "already hardware poisoned"
    expect(w.failures.unpoison(2100)).toBe(false);
    expect(state(w)).toEqual(before);
    expectRefused(() => w.failures.poison(1500), ErrorCode.NotRam, "pfn 1500 is not RAM", "a hole");
    expect(state(w)).toEqual(before);
  });

  test("direct map and backing: runs that reach into the hole or past the end", () => {
    const w = world();
    const before = state(w);
    expectRefused(() => w.dm.setReadOnly(1020, 10), ErrorCode.NotRam, "pages [1020, 1030) are not all RAM", "into the hole");
    expectRefused(() => w.dm.splitToPages(3070, 4), ErrorCode.NotRam, "pages [3070, 3074)", "past the end");
    expectRefused(() => w.dm.collapse(1500), ErrorCode.NotRam, "pfn 1500", "a hole");
    expectRefused(() => w.backing.bytes(4 * MiB - 2, 4), ErrorCode.NotRam, "crosses the end of its RAM range", "across the end of a range");
    expectRefused(() => w.backing.pages(1023, 2), ErrorCode.NotRam, "(pfn 1023, count 2)", "pages across the hole");
    expectRefused(() => w.map.isContiguousRam(1020, 0), ErrorCode.OutOfRange, "count must be in [1, 9007199254740991], got 0", "an empty run");
    expect(w.map.isContiguousRam(1020, 4)).toBe(true);
    expect(w.map.isContiguousRam(1020, 5)).toBe(false);
    expect(state(w)).toEqual(before);
    check(w);
  });

  test("isPowerOfTwo is exact where log2 rounds (it said true for 2^52 + 1 and 2^53 - 1)", () => {
    for (let k = 40; k <= 52; k++) {
      expect(isPowerOfTwo(2 ** k)).toBe(true);
      expect(isPowerOfTwo(2 ** k + 1)).toBe(false);
      expect(isPowerOfTwo(2 ** k - 1)).toBe(false);
    }
    expect(isPowerOfTwo(Number.MAX_SAFE_INTEGER)).toBe(false);
    expectRefused(() => requirePowerOfTwo(2 ** 52 + 1, "granule"), ErrorCode.InvalidArgument, "granule must be a power of two, got 4503599627370497", "near 2^52");
    expectRefused(() => log2Exact(2 ** 50 + 1), ErrorCode.InvalidArgument, "got 1125899906842625", "log2Exact near 2^50");
    expect(log2Exact(2 ** -1074)).toBe(-1074);
  });

  test("uniform: a hole that is not whole pages, or that pushes the map past 2^53", () => {
    expectRefused(() => MemoryMap.uniform(8 * MiB, { nodes: 2, holeBytes: 100 }), ErrorCode.NotAligned, "holeBytes 100", "unaligned hole");
    expectRefused(() => MemoryMap.uniform(2 ** 52, { nodes: 3, holeBytes: 2 ** 52 }), ErrorCode.OutOfRange, `holeBytes ${2 ** 52}`, "beyond 2^53");
  });

  test("an error constructor takes whatever it is given and never throws", () => {
    for (const [, make] of HOSTILE) {
      const v = make();
      const e = new MmkitError(v as string, "message");
      expect(Object.is(e.code, v)).toBe(true);
      expect(e.name).toBe("MmkitError");
    }
  });
});

describe("model: a random history, then a random hostile call", () => {
  const pfnRun = fc.oneof(fc.integer({ min: 0, max: 1000 }), fc.integer({ min: 2048, max: 3048 }));
  const op: fc.Arbitrary<Op> = fc.oneof(
    fc.record({ op: fc.constant("protect" as const), pfn: pfnRun, count: fc.integer({ min: 1, max: 20 }), prot: fc.integer({ min: 0, max: 7 }) }),
    fc.record({ op: fc.constant("split" as const), pfn: pfnRun, count: fc.integer({ min: 1, max: 20 }) }),
    fc.record({ op: fc.constant("collapse" as const), pfn: pfnRun }),
    fc.record({ op: fc.constant("poison" as const), pfn: pfnRun }),
    fc.record({ op: fc.constant("unpoison" as const), pfn: pfnRun }),
    fc.record({ op: fc.constant("alloc" as const), length: fc.integer({ min: 0, max: 100 }) }),
    fc.record({ op: fc.constant("release" as const), nth: fc.nat() }),
    fc.record({ op: fc.constant("write" as const), address: fc.integer({ min: 0, max: 4 * MiB - 1 }), byte: fc.integer({ min: 0, max: 255 }) }),
  );
  test("refused calls change nothing; legitimate ones do what their twin does", () => {
    fc.assert(
      fc.property(fc.array(op, { maxLength: 12 }), fc.nat(), fc.nat(), fc.integer({ min: 0, max: HOSTILE.length - 1 }), (prefix, e, p, h) => {
        const entry = ENTRIES[e % ENTRIES.length]!;
        const [label, make] = HOSTILE[h]!;
        runCase(entry, p % entry.rules.length, label, make, prefix);
      }),
      { seed: 20240611, numRuns: 300 },
    );
  });
});
