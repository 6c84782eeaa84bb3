import fc from "fast-check";
import { describe, expect, test } from "vitest";
import { ErrorCode, MetadataArena, MmkitError, describeValue } from "@mmkit/physmem";
import {
  DescriptorRouter,
  MAX_INDEX,
  MapleDescriptorTable,
  MapleTree,
  MemdescType,
  MemmapTable,
  decodeMisc,
  encodeMemdesc,
  encodeMisc,
  isMemdesc,
  memdescHandle,
  memdescType,
  memdescTypeName,
  physToDesc,
  type DescriptorOwner,
  type MapleSnapshot,
  type MapleView,
} from "@mmkit/memdesc-lookup";
import { HOSTILE_FACTORIES, expectMmkitError as expectRefused, refuse, returns, same, sweepPosition, type SweepVerdict } from "@mmkit/test-support";

// Every public method and constructor option of @mmkit/memdesc-lookup (src/index.ts and the README):
//
//   MapleTree            new MapleTree({ arena }), MapleTree.from(entries, options), store, insert, erase,
//                        eraseRange, allocRange, allocRangeRev, bulkLoad, snapshot, check, dispose, size,
//                        count, height, nodeCount, metadataBytes, nodeBytes, liveSnapshots, arena
//   MapleView (tree and  load, loadMany, loadRange, find, findPrev, emptyArea, emptyAreaRev, cursor, entries
//    MapleSnapshot)      (snapshot also: release, released, size, epoch)
//   MapleCursor          next, reset, [Symbol.iterator], index, max
//   memdesc              encodeMemdesc, memdescType, memdescHandle, memdescTypeName, isMemdesc, encodeMisc,
//                        decodeMisc, MemdescType, MiscSubtype, MEMDESC_ALIGN, MAX_MEMDESC_HANDLE
//   MemmapTable          new MemmapTable({ pages, startPfn, bytesPerPage, arena }), set, clear, get, range,
//                        check, metadataBytes, name
//   MapleDescriptorTable new MapleDescriptorTable({ arena, tree }), set, clear, get, range, check, metadataBytes
//   physToDesc           physToDesc(table, address, pageSize, owners)
//   DescriptorRouter     new DescriptorRouter(table, { pageSize }), setOwner, ownerOf, physToDesc, memoryFailure
//
// test/bad-input.test.ts and test/maple-load-many.test.ts pin hand-picked misuse of the tree; this
// sweep gives every argument position of every method above each hostile value, against a tree
// with live and erased ranges and a live snapshot, and tables with live and cleared descriptors.

const HOSTILE = HOSTILE_FACTORIES;
const MAX = Number.MAX_SAFE_INTEGER;

type Rule = (label: string, value: unknown) => SweepVerdict;

const dv = describeValue;

/** What requireIndex does: a non-integer is ERR_INVALID_ARGUMENT, outside [0, 2^53 - 1] ERR_OUT_OF_RANGE, -0 is 0. */
function index(name: string, over: Record<string, SweepVerdict> = {}): Rule {
  return (label, v) => {
    const o = over[label];
    if (o !== undefined) return o;
    if (typeof v !== "number" || !Number.isInteger(v)) return refuse(ErrorCode.InvalidArgument, `${name} must be an integer index, got ${dv(v)}`);
    if (v < 0 || v > MAX_INDEX) return refuse(ErrorCode.OutOfRange, `${name} must be in [0, ${MAX_INDEX}], got ${dv(v)}`);
    if (Object.is(v, -0)) return same(0, "-0 is 0");
    throw new Error(`no verdict for ${name} = ${label}`);
  };
}
/** A stored value: any finite number (-0 kept as is); anything else is refused. */
const value: Rule = (label, v) =>
  typeof v === "number" && Number.isFinite(v) ? same(v, `${label} is a finite number, a value like any other`) : refuse(ErrorCode.InvalidArgument, `value must be a finite number, got ${dv(v)}`);
/** The size of a gap search in the window [0, 5000]. */
const size: Rule = (_, v) => {
  if (typeof v !== "number" || !Number.isInteger(v)) return refuse(ErrorCode.InvalidArgument, `size must be an integer, got ${dv(v)}`);
  if (v < 1) return refuse(ErrorCode.OutOfRange, `size must be at least 1, got ${dv(v)}`);
  return refuse(ErrorCode.OutOfRange, `size ${v} does not fit the window [0, 5000] of 5001 indices`);
};
const always = (code: string, prefix: string): Rule => (_, v) => refuse(code, `${prefix}${dv(v)}`);
/** An options object: undefined takes the default parameter, an empty object or array sets nothing. */
function options(what: string, notGiven: SweepVerdict, empty: SweepVerdict): Rule {
  return (label, v) => (label === "undefined" ? notGiven : label === "{}" || label === "[]" ? empty : refuse(ErrorCode.InvalidArgument, `${what} must be an object, got ${dv(v)}`));
}
const ARENA_REFUSED = "arena must be an ArrayFactory (a MetadataArena or one with its methods), got ";
/** An `arena` option read with `??`: undefined and null mean "a private arena". */
const arenaOption: Rule = (label, v) =>
  label === "undefined" || label === "null" ? same(undefined, "not given (?? treats null as absent): a private arena") : refuse(ErrorCode.InvalidArgument, `${ARENA_REFUSED}${dv(v)}`);
/** An `out` object to fill: any object (an array too) is filled; anything else is refused. */
const outObject = (notGiven?: SweepVerdict): Rule => (label, v) =>
  label === "undefined" && notGiven !== undefined
    ? notGiven
    : label === "{}" || label === "[]"
      ? same({ firstPfn: 0, lastPfn: 0 }, "any object, an array too, can be filled")
      : refuse(ErrorCode.InvalidArgument, `out must be an object to fill, got ${dv(v)}`);
/** A pfn of a MemmapTable covering [0, 63]. */
function page(name: string, over: Record<string, SweepVerdict> = {}): Rule {
  return (label, v) => {
    const o = over[label];
    if (o !== undefined) return o;
    if (typeof v !== "number" || !Number.isSafeInteger(v)) return refuse(ErrorCode.InvalidArgument, `${name} must be an integer, got ${dv(v)}`);
    if (Object.is(v, -0)) return same(0, "-0 is 0");
    return refuse(ErrorCode.OutOfRange, `${name} ${v} is outside the memmap [0, 63]`);
  };
}

// ---- the world -------------------------------------------------------------------------------

const SLAB = encodeMemdesc(MemdescType.Slab, 0x100);
const FILE = encodeMemdesc(MemdescType.File, 0x200);
const ANON = encodeMemdesc(MemdescType.Anon, 0x300);

interface World {
  arena: MetadataArena;
  tree: MapleTree;
  snap: MapleSnapshot;
  gone: MapleSnapshot;
  empty: MapleTree;
  mt: MapleDescriptorTable;
  mm64: MemmapTable;
  mm8: MemmapTable;
  owners: Map<number, DescriptorOwner>;
  router: DescriptorRouter;
  heard: string[];
}

type Op =
  | { op: "store"; first: number; len: number; value: number }
  | { op: "erase"; index: number }
  | { op: "eraseRange"; first: number; len: number }
  | { op: "snapshot" }
  | { op: "release"; nth: number }
  | { op: "set"; first: number; len: number; memdesc: number }
  | { op: "clear"; pfn: number };

function world(prefix: readonly Op[] = []): World {
  const arena = new MetadataArena();
  const tree = new MapleTree({ arena });
  for (let i = 0; i < 120; i++) tree.store(i * 10, i * 10 + 4, i);
  for (let i = 0; i < 120; i += 3) tree.erase(i * 10 + 2); // erased: every third range
  const gone = tree.snapshot();
  const snap = tree.snapshot();
  tree.store(1000, 1099, 77); // after the snapshot: copies the nodes on its path
  tree.erase(51);
  gone.release();
  const empty = new MapleTree({ arena });
  const mt = new MapleDescriptorTable({ arena });
  const mm64 = new MemmapTable({ pages: 64, bytesPerPage: 64, arena });
  const mm8 = new MemmapTable({ pages: 64, bytesPerPage: 8, arena });
  for (const t of [mt, mm64, mm8]) {
    t.set(8, 15, SLAB);
    t.set(16, 16, FILE);
    t.set(30, 39, ANON);
    t.clear(35); // freed
    t.set(40, 47, FILE);
    t.set(44, 45, SLAB); // cuts the file descriptor in three
  }
  mt.set(110, 117, SLAB);
  const heard: string[] = [];
  const owners = new Map<number, DescriptorOwner>([[MemdescType.Slab, { name: "slab", memoryFailure: (d) => heard.push(`slab ${d.firstPfn}-${d.lastPfn}`) }]]);
  const router = new DescriptorRouter(mt);
  router.setOwner(MemdescType.Slab, owners.get(MemdescType.Slab)!);
  router.setOwner(MemdescType.File, { name: "page cache" });
  const extra: MapleSnapshot[] = [];
  for (const o of prefix) {
    if (o.op === "store") tree.store(o.first, o.first + o.len, o.value);
    else if (o.op === "erase") tree.erase(o.index);
    else if (o.op === "eraseRange") tree.eraseRange(o.first, o.first + o.len);
    else if (o.op === "snapshot") extra.push(tree.snapshot());
    else if (o.op === "release") {
      if (extra.length > 0) extra.splice(o.nth % extra.length, 1)[0]!.release();
    } else if (o.op === "set") for (const t of [mt, mm64, mm8]) t.set(o.first, o.first + o.len, o.memdesc);
    else for (const t of [mt, mm64, mm8]) t.clear(o.pfn);
  }
  return { arena, tree, snap, gone, empty, mt, mm64, mm8, owners, router, heard };
}

/** Everything the world exposes: compared with toEqual before and after every call. */
function state(w: World): unknown {
  const table = (t: MemmapTable | MapleDescriptorTable) =>
    Array.from({ length: 64 }, (_, p) => {
      const out = { firstPfn: -1, lastPfn: -1 };
      t.range(p, out);
      return [t.get(p), out.firstPfn, out.lastPfn];
    });
  return {
    arena: { bytes: w.arena.bytes, peak: w.arena.peakBytes, allocations: w.arena.allocations, byLabel: w.arena.byLabel() },
    tree: { entries: [...w.tree.entries()], size: w.tree.size, height: w.tree.height, nodes: w.tree.nodeCount, nodeBytes: w.tree.nodeBytes, bytes: w.tree.metadataBytes, snapshots: w.tree.liveSnapshots },
    snap: { entries: [...w.snap.entries()], size: w.snap.size, released: w.gone.released },
    empty: { size: w.empty.size, nodes: w.empty.nodeCount },
    mt: table(w.mt),
    mtTree: [...w.mt.tree.entries()],
    mm64: table(w.mm64),
    mm8: table(w.mm8),
    owners: Array.from({ length: 16 }, (_, t) => w.router.ownerOf(t)?.name),
    heard: [...w.heard],
  };
}
function check(w: World): void {
  w.tree.check();
  w.empty.check();
  w.mt.check();
  w.mm64.check();
  w.mm8.check();
}

// ---- the sweep -------------------------------------------------------------------------------

interface Entry {
  name: string;
  args: (w: World) => unknown[];
  call: (w: World, args: unknown[]) => unknown;
  rules: Rule[];
}

const entryOf = (r: { first: number; last: number; value: number } | undefined) => r && { first: r.first, last: r.last, value: r.value };
const pfnRange = (r: boolean, out: { firstPfn: number; lastPfn: number }) => [r, { firstPfn: out.firstPfn, lastPfn: out.lastPfn }];
/** A clear's memdesc with the range it wrote into `out` (just the memdesc when `out` was not given). */
const clearedRange = (memdesc: number, out: unknown) => (out !== null && typeof out === "object" ? [memdesc, { firstPfn: (out as { firstPfn: number }).firstPfn, lastPfn: (out as { lastPfn: number }).lastPfn }] : memdesc);

/** The read methods, on the live tree and on the live snapshot alike. */
function viewEntries(which: "tree" | "snap"): Entry[] {
  const v = (w: World): MapleView => w[which];
  return [
    { name: `${which}.load(index)`, args: () => [21], call: (w, [i]) => v(w).load(i as number), rules: [index("index", { MAX_SAFE_INTEGER: returns(undefined, "nothing stored at the top") })] },
    {
      name: `${which}.loadRange(index, out)`,
      args: () => [21, { first: 0, last: 0, value: 0 }],
      call: (w, [i, out]) => entryOf(v(w).loadRange(i as number, out as never)),
      rules: [
        index("index", { MAX_SAFE_INTEGER: returns(undefined, "nothing stored at the top") }),
        (label, x) =>
          label === "undefined"
            ? same(undefined, "not given: a new object")
            : label === "{}" || label === "[]"
              ? same({}, "any object, an array too, can be filled")
              : refuse(ErrorCode.InvalidArgument, `out must be an object to fill, got ${dv(x)}`),
      ],
    },
    {
      name: `${which}.loadMany(indices, out, count)`,
      args: () => [[21, 25, 31, 1050, 5], new Float64Array(5).fill(-7), 5],
      call: (w, [i, out, n]) => Array.from(v(w).loadMany(i as number[], out as Float64Array, n as number)),
      rules: [
        (label, x) => (label === "[]" ? refuse(ErrorCode.OutOfRange, "count 5 exceeds indices (0) or out (5)") : refuse(ErrorCode.InvalidArgument, `indices must be an array of indices, got ${dv(x)}`)),
        always(ErrorCode.InvalidArgument, "out must be a Float64Array, got "),
        (label, x) =>
          label === "undefined"
            ? same(5, "not given: the length of indices")
            : label === "-0"
              ? same(0, "-0 is 0: nothing looked up")
              : label === "2**53" || label === "MAX_SAFE_INTEGER"
                ? refuse(ErrorCode.OutOfRange, `count ${x} exceeds indices (5) or out (5)`)
                : refuse(ErrorCode.InvalidArgument, `count must be a non-negative integer, got ${dv(x)}`),
      ],
    },
    {
      name: `${which}.find(index, max)`,
      args: () => [21, 5000],
      call: (w, [i, m]) => entryOf(v(w).find(i as number, m as number)),
      rules: [
        index("index", { MAX_SAFE_INTEGER: returns(undefined, "nothing at or after the top") }),
        index("max", { undefined: same(MAX_INDEX, "not given: the top"), MAX_SAFE_INTEGER: same(undefined, "the top, as when not given") }),
      ],
    },
    {
      name: `${which}.findPrev(index, min)`,
      args: () => [500, 0],
      call: (w, [i, m]) => entryOf(v(w).findPrev(i as number, m as number)),
      rules: [
        index("index", { MAX_SAFE_INTEGER: same(MAX_INDEX, "the top is an index: the last range of all") }),
        index("min", { undefined: same(0, "not given: 0"), MAX_SAFE_INTEGER: returns(undefined, "a floor above the index: nothing") }),
      ],
    },
    ...(["emptyArea", "emptyAreaRev"] as const).map(
      (method): Entry => ({
        name: `${which}.${method}(min, max, size)`,
        args: () => [0, 5000, 3],
        call: (w, [lo, hi, n]) => v(w)[method](lo as number, hi as number, n as number),
        rules: [
          index("min", { MAX_SAFE_INTEGER: refuse(ErrorCode.InvalidArgument, "min 9007199254740991 must not exceed max 5000") }),
          index("max", { MAX_SAFE_INTEGER: same(MAX_INDEX, "the whole index space is a window") }),
          size,
        ],
      }),
    ),
    {
      name: `${which}.cursor(min, max)`,
      args: () => [0, 5000],
      call: (w, [lo, hi]) => {
        const c = v(w).cursor(lo as number, hi as number);
        return [entryOf(c.next()), entryOf(c.next()), c.index];
      },
      rules: [
        index("min", { undefined: same(0, "not given: 0"), MAX_SAFE_INTEGER: returns([undefined, undefined, MAX_INDEX], "a window that starts past its end (as find's limit): nothing to visit") }),
        index("max", { undefined: same(MAX_INDEX, "not given: the top"), MAX_SAFE_INTEGER: same(undefined, "the top, as when not given") }),
      ],
    },
    {
      name: `${which}.entries(min, max)`,
      args: () => [0, 5000],
      call: (w, [lo, hi]) => [...v(w).entries(lo as number, hi as number)].length,
      rules: [
        index("min", { undefined: same(0, "not given: 0"), MAX_SAFE_INTEGER: returns(0, "a window that starts past its end: nothing to visit") }),
        index("max", { undefined: same(MAX_INDEX, "not given: the top"), MAX_SAFE_INTEGER: same(undefined, "the top, as when not given") }),
      ],
    },
  ];
}

const ENTRIES: Entry[] = [
  // ---- MapleTree
  { name: "new MapleTree({ arena })", args: (w) => [w.arena], call: (_, [arena]) => new MapleTree({ arena } as never).metadataBytes, rules: [arenaOption] },
  {
    name: "new MapleTree(options)",
    args: () => [{}],
    call: (_, [o]) => new MapleTree(o as never).metadataBytes,
    rules: [options("maple tree options", same({}, "not given: defaults"), same({}, "an object (or array) with no options set"))],
  },
  {
    name: "MapleTree.from(entries, options)",
    args: (w) => [[{ first: 1, last: 5, value: 9 }], { arena: w.arena }],
    call: (_, [e, o]) => [...MapleTree.from(e as never, o as never).entries()],
    rules: [
      (label, x) => (label === "[]" ? same([], "no entries: an empty tree") : refuse(ErrorCode.InvalidArgument, `entries must be an iterable of { first, last, value }, got ${dv(x)}`)),
      options("maple tree options", same({}, "not given: defaults"), same({}, "an object (or array) with no options set")),
    ],
  },
  {
    name: "MapleTree.from([entry])",
    args: () => [{ first: 1, last: 5, value: 9 }],
    call: (w, [e]) => [...MapleTree.from([e] as never, { arena: w.arena }).entries()],
    rules: [
      (label, x) =>
        label === "{}" || label === "[]"
          ? refuse(ErrorCode.InvalidArgument, "firsts[0] must be an integer index, got undefined")
          : refuse(ErrorCode.InvalidArgument, `entries[0] must be { first, last, value }, got ${dv(x)}`),
    ],
  },
  {
    name: "tree.store(first, last, value)",
    args: () => [2000, 2009, 5],
    call: (w, [f, l, x]) => w.tree.store(f as number, l as number, x as number),
    rules: [index("first", { MAX_SAFE_INTEGER: refuse(ErrorCode.InvalidArgument, "first 9007199254740991 must not exceed last 2009") }), index("last", { MAX_SAFE_INTEGER: same(MAX_INDEX, "a range up to the top") }), value],
  },
  {
    name: "tree.insert(first, last, value)",
    args: () => [2000, 2009, 5],
    call: (w, [f, l, x]) => w.tree.insert(f as number, l as number, x as number),
    rules: [index("first", { MAX_SAFE_INTEGER: refuse(ErrorCode.InvalidArgument, "first 9007199254740991 must not exceed last 2009") }), index("last", { MAX_SAFE_INTEGER: same(MAX_INDEX, "a range up to the top") }), value],
  },
  { name: "tree.erase(index)", args: () => [20], call: (w, [i]) => w.tree.erase(i as number), rules: [index("index", { MAX_SAFE_INTEGER: returns(undefined, "empty there: nothing to erase") })] },
  {
    name: "tree.erase(index, out)",
    args: () => [20, { first: 0, last: 0, value: 0 }],
    call: (w, [i, out]) => [w.tree.erase(i as number, out as never), out !== null && typeof out === "object" ? entryOf(out as never) : out],
    rules: [
      index("index", { MAX_SAFE_INTEGER: returns([undefined, { first: 0, last: 0, value: 0 }], "empty there: nothing to erase, out untouched") }),
      (label, x) =>
        label === "undefined"
          ? same(undefined, "not given: the range is not reported")
          : label === "{}" || label === "[]"
            ? same({ first: 0, last: 0, value: 0 }, "any object, an array too, can be filled")
            : refuse(ErrorCode.InvalidArgument, `out must be an object to fill, got ${dv(x)}`),
    ],
  },
  {
    name: "tree.eraseRange(first, last)",
    args: () => [20, 45],
    call: (w, [f, l]) => w.tree.eraseRange(f as number, l as number),
    rules: [index("first", { MAX_SAFE_INTEGER: refuse(ErrorCode.InvalidArgument, "first 9007199254740991 must not exceed last 45") }), index("last", { MAX_SAFE_INTEGER: same(MAX_INDEX, "empties up to the top") })],
  },
  ...(["allocRange", "allocRangeRev"] as const).map(
    (method): Entry => ({
      name: `tree.${method}(min, max, size, value)`,
      args: () => [0, 5000, 3, 9],
      call: (w, [lo, hi, n, x]) => w.tree[method](lo as number, hi as number, n as number, x as number),
      rules: [index("min", { MAX_SAFE_INTEGER: refuse(ErrorCode.InvalidArgument, "min 9007199254740991 must not exceed max 5000") }), index("max", { MAX_SAFE_INTEGER: same(MAX_INDEX, "the whole index space is a window") }), size, value],
    }),
  ),
  {
    name: "tree.bulkLoad(firsts, lasts, values) on a tree that holds ranges",
    args: () => [[1], [2], [3]],
    call: (w, [f, l, x]) => w.tree.bulkLoad(f as never, l as never, x as never),
    rules: [0, 1, 2].map(() => () => refuse(ErrorCode.InvalidState, `bulkLoad needs an empty tree, this one holds`)),
  },
  {
    name: "empty.bulkLoad(firsts, lasts, values)",
    args: () => [[1, 10], [5, 12], [7, 8]],
    call: (w, [f, l, x]) => {
      w.empty.bulkLoad(f as never, l as never, x as never);
      return [...w.empty.entries()];
    },
    rules: (["firsts", "lasts", "values"] as const).map(
      (column): Rule =>
        (label, x) =>
          label === "[]"
            ? refuse(ErrorCode.InvalidArgument, `bulkLoad needs three columns of one length, got ${column === "firsts" ? "0, 2, 2" : column === "lasts" ? "2, 0, 2" : "2, 2, 0"}`)
            : refuse(ErrorCode.InvalidArgument, `bulkLoad's ${column} must be an array-like column, got ${dv(x)}`),
    ),
  },
  {
    name: "empty.bulkLoad([first, 10], [last, 12], [value, 8])",
    args: () => [1, 5, 7],
    call: (w, [f, l, x]) => {
      w.empty.bulkLoad([f, 10] as never, [l, 12] as never, [x, 8] as never);
      return [...w.empty.entries()];
    },
    rules: [
      index("firsts[0]", { MAX_SAFE_INTEGER: refuse(ErrorCode.InvalidArgument, "firsts[0] 9007199254740991 exceeds lasts[0] 5") }),
      index("lasts[0]", { MAX_SAFE_INTEGER: refuse(ErrorCode.Overlap, "range 1 [10, 12] overlaps or precedes the range before it (ending at 9007199254740991)") }),
      value,
    ],
  },
  ...viewEntries("tree"),
  ...viewEntries("snap"),
  {
    name: "cursor.reset(index)",
    args: () => [25],
    call: (w, [i]) => {
      const c = w.tree.cursor(0, 5000);
      c.reset(i as number);
      return [c.index, entryOf(c.next())];
    },
    rules: [index("index", { MAX_SAFE_INTEGER: returns([MAX_INDEX, undefined], "past the window: the cursor is done") })],
  },

  // ---- memdesc
  {
    name: "encodeMemdesc(type, handle)",
    args: () => [5, 0x100],
    call: (_, [t, h]) => encodeMemdesc(t as number, h as number),
    rules: [
      (label, x) =>
        typeof x !== "number" || !Number.isInteger(x)
          ? refuse(ErrorCode.InvalidArgument, `memdesc type must be an integer, got ${dv(x)}`)
          : label === "-0"
            ? same(0, "-0 is 0")
            : refuse(ErrorCode.OutOfRange, `memdesc type must be in [0, 15], got ${x}`),
      (label, x) =>
        typeof x !== "number" || !Number.isInteger(x)
          ? refuse(ErrorCode.InvalidArgument, `memdesc handle must be an integer, got ${dv(x)}`)
          : label === "-0"
            ? same(0, "-0 is 0")
            : refuse(ErrorCode.OutOfRange, `memdesc handle must be in [0, 9007199254740976], got ${x}`),
    ],
  },
  {
    name: "memdescType(memdesc)",
    args: () => [SLAB],
    call: (_, [d]) => memdescType(d as number),
    rules: [
      (label, x) =>
        label === "-0"
          ? same(0, "-0 is 0")
          : label === "-1"
            ? returns(-1, "-1 is what the tables return for no descriptor: no type")
            : label === "MAX_SAFE_INTEGER"
              ? returns(15, "2^53 - 1 is a memdesc of type 15")
              : refuse(ErrorCode.InvalidArgument, `memdesc must be a non-negative integer (or -1 for none), got ${dv(x)}`),
    ],
  },
  {
    name: "memdescHandle(memdesc)",
    args: () => [SLAB],
    call: (_, [d]) => memdescHandle(d as number),
    rules: [
      (label, x) =>
        label === "-0"
          ? same(0, "-0 is 0")
          : label === "MAX_SAFE_INTEGER"
            ? returns(2 ** 53 - 16, "2^53 - 1 is a memdesc over the largest handle")
            : refuse(ErrorCode.InvalidArgument, `memdesc must be a non-negative integer, got ${dv(x)}`),
    ],
  },
  {
    name: "memdescTypeName(type)",
    args: () => [5],
    call: (_, [t]) => memdescTypeName(t as number),
    rules: [
      (label, x) =>
        typeof x !== "number"
          ? refuse(ErrorCode.InvalidArgument, `memdesc type must be a number, got ${dv(x)}`)
          : label === "-0"
            ? same(0, "-0 is 0")
            : returns(`invalid-${x}`, "a name for reports: a number that is no type tag is named invalid-<n>"),
    ],
  },
  { name: "isMemdesc(value)", args: () => [SLAB], call: (_, [x]) => isMemdesc(x), rules: [(label) => (label === "-0" || label === "MAX_SAFE_INTEGER" ? returns(true, "an integer in [0, 2^53 - 1]") : returns(false, "a predicate"))] },
  {
    name: "encodeMisc(subtype, order, mappable)",
    args: () => [4, 2, false],
    call: (_, [s, o, m]) => encodeMisc(s as number, o as number, m as boolean),
    rules: [
      (label, x) => (label === "-0" ? same(0, "-0 is 0") : refuse(ErrorCode.OutOfRange, `misc subtype must be in [0, 127], got ${dv(x)}`)),
      (label, x) => (label === "-0" ? same(0, "-0 is 0") : label === "undefined" ? same(0, "not given: order 0") : refuse(ErrorCode.OutOfRange, `misc order must be in [0, 63], got ${dv(x)}`)),
      (label, x) => (label === "undefined" ? same(false, "not given: not mappable") : refuse(ErrorCode.InvalidArgument, `misc mappable must be a boolean, got ${dv(x)}`)),
    ],
  },
  { name: "decodeMisc(memdesc)", args: () => [encodeMisc(4, 2)], call: (_, [d]) => decodeMisc(d as number), rules: [(label, x) => (label === "-0" ? same(0, "-0 is 0") : refuse(ErrorCode.InvalidArgument, `not a misc memdesc: ${dv(x)}`))] },

  // ---- MemmapTable
  {
    name: "new MemmapTable({ pages, startPfn, bytesPerPage, arena })",
    args: (w) => [8, 0, 64, w.arena],
    call: (_, [pages, startPfn, bytesPerPage, arena]) => new MemmapTable({ pages, startPfn, bytesPerPage, arena } as never).metadataBytes,
    rules: [
      (label, x) =>
        label === "MAX_SAFE_INTEGER"
          ? refuse(ErrorCode.BackingTooLarge, "a memmap of 9007199254740991 pages at 64 bytes per page")
          : refuse(ErrorCode.InvalidArgument, `pages must be a positive integer, got ${dv(x)}`),
      (label, x) =>
        label === "undefined" || label === "null" ? same(0, "not given (??): pfn 0") : label === "-0" ? same(0, "-0 is 0") : refuse(ErrorCode.InvalidArgument, `startPfn must be a non-negative integer, got ${dv(x)}`),
      (label, x) => (label === "undefined" || label === "null" ? same(64, "not given (??): 64 bytes") : refuse(ErrorCode.InvalidArgument, `bytesPerPage must be a multiple of 8 in [8, 256], got ${dv(x)}`)),
      arenaOption,
    ],
  },
  {
    name: "new MemmapTable(options)",
    args: () => [{ pages: 8 }],
    call: (_, [o]) => new MemmapTable(o as never).metadataBytes,
    rules: [(label, x) => (label === "{}" || label === "[]" ? refuse(ErrorCode.InvalidArgument, "pages must be a positive integer, got undefined") : refuse(ErrorCode.InvalidArgument, `memmap options must be an object, got ${dv(x)}`))],
  },
  ...(["mm64", "mm8"] as const).flatMap((t): Entry[] => [
    {
      name: `${t}.set(firstPfn, lastPfn, memdesc)`,
      args: () => [20, 23, ANON],
      call: (w, [f, l, d]) => w[t].set(f as number, l as number, d as number),
      rules: [
        page("firstPfn"),
        page("lastPfn", { "-0": refuse(ErrorCode.InvalidArgument, "firstPfn 20 must not exceed lastPfn 0") }),
        (label, x) => (label === "-0" || label === "MAX_SAFE_INTEGER" ? same(x, "an integer in [0, 2^53 - 1] is a memdesc") : refuse(ErrorCode.InvalidArgument, `memdesc must be a non-negative integer, got ${dv(x)}`)),
      ],
    },
    { name: `${t}.clear(pfn)`, args: () => [10], call: (w, [p]) => w[t].clear(p as number), rules: [page("pfn")] },
    {
      name: `${t}.clear(pfn, out)`,
      args: () => [10, { firstPfn: 0, lastPfn: 0 }],
      call: (w, [p, out]) => clearedRange(w[t].clear(p as number, out as never), out),
      rules: [page("pfn"), outObject(same(undefined, "not given: the range is not reported"))],
    },
    { name: `${t}.get(pfn)`, args: () => [10], call: (w, [p]) => w[t].get(p as number), rules: [page("pfn")] },
    {
      name: `${t}.range(pfn, out)`,
      args: () => [41, { firstPfn: 0, lastPfn: 0 }],
      call: (w, [p, out]) => pfnRange(w[t].range(p as number, out as never), out as never),
      rules: [page("pfn"), outObject()],
    },
  ]),

  // ---- MapleDescriptorTable
  {
    name: "new MapleDescriptorTable({ arena, tree })",
    args: (w) => [w.arena, undefined],
    call: (_, [arena, tree]) => new MapleDescriptorTable({ arena, tree } as never).metadataBytes,
    rules: [arenaOption, (label, x) => (label === "undefined" || label === "null" ? same(undefined, "not given (??): a new tree") : refuse(ErrorCode.InvalidArgument, `tree must be a MapleTree, got ${dv(x)}`))],
  },
  {
    name: "new MapleDescriptorTable(options)",
    args: () => [{}],
    call: (_, [o]) => new MapleDescriptorTable(o as never).metadataBytes,
    rules: [options("maple descriptor table options", same({}, "not given: defaults"), same({}, "an object (or array) with no options set"))],
  },
  {
    name: "mt.set(firstPfn, lastPfn, memdesc)",
    args: () => [200, 203, ANON],
    call: (w, [f, l, d]) => w.mt.set(f as number, l as number, d as number),
    rules: [
      index("first", { MAX_SAFE_INTEGER: refuse(ErrorCode.InvalidArgument, "first 9007199254740991 must not exceed last 203") }),
      index("last", { MAX_SAFE_INTEGER: same(MAX, "a descriptor up to the top pfn") }),
      (label, x) => (label === "-0" || label === "MAX_SAFE_INTEGER" ? same(x, "an integer in [0, 2^53 - 1] is a memdesc") : refuse(ErrorCode.InvalidArgument, `memdesc must be a non-negative integer, got ${dv(x)}`)),
    ],
  },
  { name: "mt.clear(pfn)", args: () => [110], call: (w, [p]) => w.mt.clear(p as number), rules: [index("index", { MAX_SAFE_INTEGER: returns(-1, "no descriptor there") })] },
  {
    name: "mt.clear(pfn, out)",
    args: () => [110, { firstPfn: 0, lastPfn: 0 }],
    call: (w, [p, out]) => clearedRange(w.mt.clear(p as number, out as never), out),
    rules: [index("index", { MAX_SAFE_INTEGER: returns([-1, { firstPfn: 0, lastPfn: 0 }], "no descriptor there: out untouched") }), outObject(same(undefined, "not given: the range is not reported"))],
  },
  { name: "mt.get(pfn)", args: () => [110], call: (w, [p]) => w.mt.get(p as number), rules: [index("index", { MAX_SAFE_INTEGER: returns(-1, "no descriptor there") })] },
  {
    name: "mt.range(pfn, out)",
    args: () => [41, { firstPfn: 0, lastPfn: 0 }],
    call: (w, [p, out]) => pfnRange(w.mt.range(p as number, out as never), out as never),
    rules: [index("index", { MAX_SAFE_INTEGER: returns([false, { firstPfn: 0, lastPfn: 0 }], "no descriptor there: out untouched") }), outObject()],
  },

  // ---- physToDesc and DescriptorRouter
  {
    name: "physToDesc(table, address, pageSize, owners)",
    args: (w) => [w.mt, 111 * 4096 + 5, 4096, w.owners],
    call: (_, [t, a, ps, o]) => {
      const d = physToDesc(t as never, a as number, ps as number, o as never);
      return d && { ...d, owner: d.owner?.name };
    },
    rules: [
      always(ErrorCode.InvalidArgument, "table must be a DescriptorTable, got "),
      (label, x) =>
        label === "-0"
          ? same(0, "-0 is 0")
          : label === "MAX_SAFE_INTEGER"
            ? returns(undefined, "no descriptor that high")
            : refuse(ErrorCode.InvalidArgument, `address must be a non-negative integer, got ${dv(x)}`),
      (label, x) => (label === "undefined" ? same(4096, "not given: 4 KiB pages") : refuse(ErrorCode.InvalidArgument, `pageSize must be a power of two, got ${dv(x)}`)),
      (label, x) =>
        label === "undefined" || label === "null" ? same(undefined, "not given (null too, as owners?.get reads it): no owners") : refuse(ErrorCode.InvalidArgument, `owners must be a Map from memdesc type to owner, got ${dv(x)}`),
    ],
  },
  {
    name: "new DescriptorRouter(table, options)",
    args: (w) => [w.mt, {}],
    call: (_, [t, o]) => new DescriptorRouter(t as never, o as never).pageSize,
    rules: [always(ErrorCode.InvalidArgument, "table must be a DescriptorTable, got "), options("router options", same({}, "not given: defaults"), same({}, "an object (or array) with no options set"))],
  },
  {
    name: "new DescriptorRouter(table, { pageSize })",
    args: () => [8192],
    call: (w, [ps]) => new DescriptorRouter(w.mt, { pageSize: ps } as never).physToDesc(111 * 8192)?.firstPfn,
    rules: [(label, x) => (label === "undefined" || label === "null" ? same(4096, "not given (??): 4 KiB pages") : refuse(ErrorCode.InvalidArgument, `pageSize must be a power of two, got ${dv(x)}`))],
  },
  {
    name: "router.setOwner(type, owner)",
    args: () => [MemdescType.Anon, { name: "anon" }],
    call: (w, [t, o]) => w.router.setOwner(t as number, o as never),
    rules: [
      (label, x) => (label === "-0" ? same(0, "-0 is 0") : refuse(ErrorCode.OutOfRange, `memdesc type must be in [0, 15], got ${dv(x)}`)),
      always(ErrorCode.InvalidArgument, "owner must be an object with a name, got "),
    ],
  },
  {
    name: "router.setOwner(type, { name, memoryFailure })",
    args: () => ["anon", () => {}],
    call: (w, [name, mf]) => w.router.setOwner(MemdescType.Anon, { name, memoryFailure: mf } as never),
    rules: [
      (label, x) => (label === '"3"' ? same("3", "any string is a name") : refuse(ErrorCode.InvalidArgument, "owner must be an object with a name, got object")),
      (label, x) => (label === "undefined" ? same(undefined, "not given: the owner is not told") : refuse(ErrorCode.InvalidArgument, `owner "anon"'s memoryFailure must be a function, got ${dv(x)}`)),
    ],
  },
  { name: "router.ownerOf(type)", args: () => [MemdescType.Slab], call: (w, [t]) => w.router.ownerOf(t as number)?.name, rules: [(label) => (label === "-0" ? same(0, "-0 is 0") : returns(undefined, "a query: no owner for that"))] },
  {
    name: "router.physToDesc(address)",
    args: () => [111 * 4096],
    call: (w, [a]) => {
      const d = w.router.physToDesc(a as number);
      return d && { ...d, owner: d.owner?.name };
    },
    rules: [
      (label, x) =>
        label === "-0" ? same(0, "-0 is 0") : label === "MAX_SAFE_INTEGER" ? returns(undefined, "no descriptor that high") : refuse(ErrorCode.InvalidArgument, `address must be a non-negative integer, got ${dv(x)}`),
    ],
  },
  {
    name: "router.memoryFailure(pfn)",
    args: () => [111],
    call: (w, [p]) => w.router.memoryFailure(p as number)?.typeName,
    rules: [
      (label, x) =>
        label === "-0"
          ? same(0, "-0 is 0")
          : label === "MAX_SAFE_INTEGER"
            ? refuse(ErrorCode.OutOfRange, "pfn 9007199254740991 is beyond the last page")
            : refuse(ErrorCode.InvalidArgument, `pfn must be a non-negative integer, got ${dv(x)}`),
    ],
  },
];

/** One hostile value in one position of one entry, against a world built from `prefix` (-0 counts as 0, inside arrays too). */
function runCase(entry: Entry, pos: number, label: string, make: () => unknown, prefix: readonly Op[] = []): void {
  const value = make();
  const subject = { make: () => world(prefix), state, check };
  sweepPosition(subject, entry, pos, value, entry.rules[pos]!(label, value), `${entry.name} with ${label} in position ${pos}`);
}

describe("every public method, every argument position, every hostile value", () => {
  for (const entry of ENTRIES) {
    test(entry.name, () => {
      const w = world();
      if (!entry.name.includes("on a tree that holds ranges")) entry.call(w, entry.args(w)); // the canonical call is valid
      for (let pos = 0; pos < entry.rules.length; pos++) {
        for (const [label, make] of HOSTILE) runCase(entry, pos, label, make);
      }
    });
  }
});

describe("misuse of live, erased and released things", () => {
  test("erasing inside a range, erasing twice, clearing twice: documented answers, nothing else changes", () => {
    const w = world();
    expect(w.tree.erase(23)).toBe(2); // inside [20, 24]: the whole range goes
    expect(w.tree.erase(20)).toBeUndefined(); // twice: empty now
    expect(w.tree.load(24)).toBeUndefined();
    for (const t of [w.mt, w.mm64, w.mm8]) {
      expect(t.clear(12)).toBe(SLAB); // inside [8, 15]
      expect(t.clear(8)).toBe(-1); // twice
      expect(t.clear(35)).toBe(-1); // cleared in the world already
      expect(t.get(15)).toBe(-1);
    }
    check(w);
  });

  test("a released snapshot refuses every read whatever its arguments, before looking at them", () => {
    const w = world();
    const before = state(w);
    const reads: Array<(x: unknown) => unknown> = [
      (x) => w.gone.load(x as number),
      (x) => w.gone.loadRange(x as number),
      (x) => w.gone.loadMany([x as number], new Float64Array(1)),
      (x) => w.gone.find(x as number),
      (x) => w.gone.findPrev(x as number),
      (x) => w.gone.emptyArea(0, 10, x as number),
      (x) => w.gone.emptyAreaRev(0, 10, x as number),
      (x) => w.gone.cursor(x as number),
      (x) => w.gone.entries(x as number),
      () => w.gone.size,
      () => w.gone.release(),
    ];
    for (const read of reads) for (const [label, make] of HOSTILE) expectRefused(() => read(make()), ErrorCode.InvalidState, "snapshot was released", label);
    expect(state(w)).toEqual(before);
    check(w);
  });

  test("a disposed tree refuses every write whatever its arguments", () => {
    const w = world();
    const t = new MapleTree({ arena: w.arena });
    t.store(1, 2, 3);
    t.dispose();
    const bytes = w.arena.bytes;
    for (const [label, make] of HOSTILE) {
      const x = make();
      for (const write of [() => t.store(x as number, 1, 1), () => t.insert(0, x as number, 1), () => t.erase(x as number), () => t.eraseRange(0, x as number), () => t.allocRange(0, 9, 1, x as number), () => t.bulkLoad([x as number], [1], [1]), () => t.snapshot()]) {
        expectRefused(write, ErrorCode.InvalidState, "maple tree was disposed", label);
      }
    }
    expect(w.arena.bytes).toBe(bytes);
    expect(t.load(1)).toBeUndefined();
  });

  test("entries() checks its window when called, not at the first next()", () => {
    const w = world();
    expectRefused(() => w.tree.entries(NaN), ErrorCode.InvalidArgument, "min must be an integer index, got NaN", "entries(NaN)");
    expectRefused(() => w.snap.entries(0, -1), ErrorCode.OutOfRange, "max must be in [0, 9007199254740991], got -1", "snapshot entries");
    expectRefused(() => w.gone.entries(), ErrorCode.InvalidState, "snapshot was released", "released entries");
  });

  test("a memmap from pfn 0 no longer reads a page for a string, null, an array or a boolean", () => {
    const w = world();
    for (const t of [w.mm64, w.mm8]) {
      for (const x of ["3", null, [], true, 1n]) expectRefused(() => t.get(x as never), ErrorCode.InvalidArgument, `pfn must be an integer, got ${dv(x)}`, String(x));
    }
  });

  test("MapleTree.from with bad entries takes nothing from the arena", () => {
    const arena = new MetadataArena();
    expectRefused(() => MapleTree.from([{ first: 5, last: 9, value: 1 }, { first: 0, last: 2, value: 1 }], { arena }), ErrorCode.Overlap, "range 1 [0, 2]", "unsorted");
    expectRefused(() => MapleTree.from([null as never], { arena }), ErrorCode.InvalidArgument, "entries[0] must be { first, last, value }, got null", "null entry");
    expect(arena.allocations).toBe(0);
    expect(arena.bytes).toBe(0);
  });

  test("a table over a tree and another arena is refused; over a tree and its own arena it is fine", () => {
    const w = world();
    const tree = new MapleTree();
    expectRefused(() => new MapleDescriptorTable({ tree, arena: w.arena }), ErrorCode.InvalidArgument, "give an arena or a tree, not both", "two arenas");
    expect(new MapleDescriptorTable({ tree, arena: tree.arena }).tree).toBe(tree);
    expect(new MapleDescriptorTable({ tree }).tree).toBe(tree);
  });

  test("an owner whose memoryFailure is not a function is refused when set, not when memory fails", () => {
    const w = world();
    const before = state(w);
    expectRefused(() => w.router.setOwner(MemdescType.Anon, { name: "anon", memoryFailure: "call me" } as never), ErrorCode.InvalidArgument, `memoryFailure must be a function, got "call me"`, "string");
    expect(state(w)).toEqual(before);
    expect(w.router.memoryFailure(30)?.owner).toBeUndefined();
  });
});

describe("model: a random history, then a random hostile call", () => {
  const op: fc.Arbitrary<Op> = fc.oneof(
    fc.record({ op: fc.constant("store" as const), first: fc.integer({ min: 0, max: 3000 }), len: fc.integer({ min: 0, max: 20 }), value: fc.integer({ min: -5, max: 5 }) }),
    fc.record({ op: fc.constant("erase" as const), index: fc.integer({ min: 0, max: 3100 }) }),
    fc.record({ op: fc.constant("eraseRange" as const), first: fc.integer({ min: 0, max: 3000 }), len: fc.integer({ min: 0, max: 40 }) }),
    fc.record({ op: fc.constant("snapshot" as const) }),
    fc.record({ op: fc.constant("release" as const), nth: fc.nat() }),
    fc.record({ op: fc.constant("set" as const), first: fc.integer({ min: 0, max: 60 }), len: fc.integer({ min: 0, max: 3 }), memdesc: fc.constantFrom(SLAB, FILE, ANON) }),
    fc.record({ op: fc.constant("clear" as const), pfn: fc.integer({ min: 0, max: 63 }) }),
  );
  test("refused calls change nothing; legitimate ones do what their twin does", () => {
    fc.assert(
      fc.property(fc.array(op, { maxLength: 15 }), fc.nat(), fc.nat(), fc.integer({ min: 0, max: HOSTILE.length - 1 }), (prefix, e, p, h) => {
        const entry = ENTRIES[e % ENTRIES.length]!;
        const [label, make] = HOSTILE[h]!;
        runCase(entry, p % entry.rules.length, label, make, prefix);
      }),
      { seed: 20240611, numRuns: 300 },
    );
  });
});
