import { ErrorCode, MetadataArena, MiB, MmkitError, describeValue } from "@mmkit/physmem";
import { AlignedBlockIndex, NO_DESCRIPTOR, PageFace, Potad, SortedRangeIndex } from "@mmkit/potad";
import fc from "fast-check";
import { describe, expect, test } from "vitest";
import { HOSTILE_VALUES, refuse as refuseWith, same, sweepPosition } from "@mmkit/test-support";

/**
 * Adversarial bad-input sweep. Every public method and constructor option of `@mmkit/potad`
 * (src/index.ts and the README) is called, in a non-trivial state, with each hostile value in each
 * argument position. Each call is either legitimate (the comment by its domain says why) and then
 * behaves exactly like the call with the value it stands for, or it throws an `MmkitError` with a
 * documented code whose message names the value, and leaves the allocator as it was: every
 * observable figure (stats of every space, block count, metadata bytes, the descriptor index, what
 * each live allocation looks like), `check()`, and a follow-up run of operations (which also sees
 * hidden state: the order of the fronts and free lists) are compared with an untouched twin.
 *
 * Swept: `new Potad(options)` and its options; `addSpace(spec)` and every field; `removeSpace`;
 * `alloc(space, size, options)`, `allocOrder(space, order, options)` and every allocation option
 * (single blocks and contiguous); `free(address, expectedSize)`; `drain(space)`; `sizeOf`,
 * `descriptorOf`, `allocationAt` (address); `pageFace(space, pageSize)` and the face's
 * `allocPages(order)` / `freePages(pfn, order)`; `stats(space)`; `new PageFace(...)`;
 * `SortedRangeIndex` (options, `store`, `erase`, `load`). Methods without arguments (`spaces`,
 * `check`, the getters, the index's `entries` and `check`) have no position to sweep; the snapshot
 * calls them.
 */

const HOSTILE: readonly unknown[] = HOSTILE_VALUES.map(([, v]) => v);
const label = (v: unknown): string => (Array.isArray(v) ? "[]" : typeof v === "bigint" ? `${v}n` : typeof v === "string" ? JSON.stringify(v) : v !== null && typeof v === "object" ? "{}" : Object.is(v, -0) ? "-0" : String(v));

interface World {
  potad: Potad;
  arena: MetadataArena;
  face: PageFace;
  /** Live allocations: address -> size. */
  live: Map<number, number>;
}

const S = 0; // 16 MiB at 0, 4 KiB granule
const T = 1; // 3 MiB at 32 MiB, 512 B granule, fronts at orders 3..6
const GONE = 2; // added, then removed: its id is free
const EMPTY_SPACE = 3; // 1 MiB at 48 MiB, nothing allocated
const LIVE_SPACES = [S, T, EMPTY_SPACE];

/**
 * Live: 0 (64 KiB, descriptor 3, 40 descriptor bytes), 33554432 (2 MiB at 1 MiB alignment in T: a
 * contiguous allocation of pieces), 65536 (4 KiB), 1048576 (1 MiB), pfn 18 = 73728 (8 KiB, through
 * the page face), 35655680 (512 B in T, descriptor 9). Freed: 69632 (cached on S's front 0),
 * 2097152 (1 MiB, merged), 35651584 (4 KiB, cached on T's first front).
 */
function world(prefix: readonly Op[] = []): World {
  const arena = new MetadataArena();
  const potad = new Potad({ arena });
  const live = new Map<number, number>();
  potad.addSpace({ base: 0, size: 16 * MiB, granule: 4096 });
  potad.addSpace({ base: 32 * MiB, size: 3 * MiB, granule: 512, frontOrder: 3 });
  potad.addSpace({ base: 40 * MiB, size: MiB, granule: 4096 });
  potad.addSpace({ base: 48 * MiB, size: MiB, granule: 4096 });
  potad.removeSpace(GONE);
  const keep = (address: number, size: number): void => {
    if (address >= 0) live.set(address, size);
  };
  keep(potad.alloc(S, 64 * 1024, { descriptor: 3, descriptorBytes: 40 }), 64 * 1024);
  keep(potad.alloc(T, 2 * MiB, { alignment: MiB }), 2 * MiB);
  keep(potad.alloc(S, 4096), 4096);
  potad.free(potad.alloc(S, 4096));
  keep(potad.alloc(S, MiB), MiB);
  potad.free(potad.alloc(S, MiB));
  const face = potad.pageFace(S);
  keep(face.allocPages(1) * 4096, 8192);
  potad.free(potad.allocOrder(T, 3));
  keep(potad.alloc(T, 512, { descriptor: 9 }), 512);
  for (const op of prefix) apply({ potad, arena, face, live }, op);
  return { potad, arena, face, live };
}

type Op = { kind: "alloc"; space: number; size: number; descriptor: boolean } | { kind: "free"; pick: number; viaFace: boolean } | { kind: "drain"; space: number } | { kind: "page"; order: number };

function apply(w: World, op: Op): void {
  const { potad, live } = w;
  if (op.kind === "alloc") {
    const address = potad.alloc(op.space, op.size, op.descriptor ? { descriptor: op.size } : undefined);
    if (address >= 0) live.set(address, potad.sizeOf(address));
  } else if (op.kind === "page") {
    const pfn = w.face.allocPages(op.order);
    if (pfn >= 0) live.set(pfn * 4096, 4096 * 2 ** op.order);
  } else if (op.kind === "free") {
    if (live.size === 0) return;
    const [address, size] = [...live][op.pick % live.size]!;
    live.delete(address);
    const order = Math.log2(size / 4096);
    if (op.viaFace && address < 16 * MiB && Number.isInteger(order) && potad.descriptorOf(address) === NO_DESCRIPTOR) w.face.freePages(address / 4096, order);
    else potad.free(address);
  } else potad.drain(op.space < 0 ? undefined : op.space);
}

/** Everything POTAD shows. */
function snapshot(w: World): unknown {
  const p = w.potad;
  return {
    spaces: p.spaces(),
    stats: p.spaces().map((id) => p.stats(id)),
    blocks: p.blockCount,
    metadataBytes: p.metadataBytes,
    arena: { bytes: w.arena.bytes, byLabel: w.arena.byLabel() },
    index: (p.descriptorIndex as AlignedBlockIndex).entries(),
    live: [...w.live.keys()].sort((x, y) => x - y).map((a) => [a, p.sizeOf(a), p.descriptorOf(a), p.allocationAt(a + 1)]),
  };
}

/** A fixed run of operations after the call under test, whose results depend on the order of the fronts and lists. */
function followUp(w: World): unknown {
  const p = w.potad;
  const got: number[] = [];
  for (const size of [4096, 4096, 8192, 512, 65536, 4096, 32768, MiB]) got.push(p.alloc(S, size), p.alloc(T, size));
  got.push(w.face.allocPages(0), w.face.allocPages(2), p.allocOrder(S, 1, { descriptor: 77 }));
  got.push(p.alloc(S, 3 * MiB, { alignment: MiB }));
  for (const [k, address] of got.entries()) if (address >= 0 && k % 3 !== 1 && k < 16) p.free(address);
  p.drain(T);
  p.check();
  return { got, after: snapshot(w) };
}

const OMIT = Symbol("omitted");
type Outcome = { as: unknown } | { code: string; text: string };
type Domain = (v: unknown) => Outcome;

const isInt = (v: unknown): v is number => typeof v === "number" && Number.isSafeInteger(v);
const isPow2 = (v: unknown): v is number => isInt(v) && v > 0 && 2 ** Math.round(Math.log2(v)) === v;
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

/** A space id: a live one (-0 is space 0); anything else "does not exist"; optional: undefined means every space. */
function space(optional: boolean): Domain {
  return (v) => {
    if (v === undefined && optional) return { as: OMIT };
    if (typeof v === "number" && LIVE_SPACES.includes(v)) return { as: canon(v) };
    return refuse(INVALID, `space ${describeValue(v)} does not exist`);
  };
}

/** An options bag: undefined and {} are "no options"; an array or a primitive is refused. */
const bag: Domain = (v) => {
  if (v === undefined) return { as: OMIT };
  if (Array.isArray(v)) return refuse(INVALID, "an array");
  if (v !== null && typeof v === "object") return { as: OMIT };
  return refuse(INVALID, describeValue(v));
};

/** A byte address as `free` and `sizeOf` take it; beyond every space it is in no space. */
const address: Domain = (v) =>
  !isInt(v) || v < 0 ? refuse(INVALID, `address must be a non-negative integer, got ${describeValue(v)}`) : v >= 64 * MiB ? refuse(ErrorCode.NotAllocated, `address ${v} is in no space`) : { as: canon(v) };

/** A byte address as the lookups take it: any non-negative integer is a question with an answer (-1 outside allocations). */
const lookup: Domain = (v) => (!isInt(v) || v < 0 ? refuse(INVALID, `address must be a non-negative integer, got ${describeValue(v)}`) : { as: canon(v) });

/** A power of two in [min, max]; nothing else is (-0 and 0 are not). */
function pow2(name: string, min: number, max: number, optional = false): Domain {
  return (v) => {
    if (v === undefined && optional) return { as: OMIT };
    if (!isPow2(v)) return refuse(INVALID, `${name} must be a power of two, got ${describeValue(v)}`);
    if (v < min || v > max) return refuse(RANGE, describeValue(v));
    return { as: v };
  };
}

/** A spec or options object whose required field is missing when it is {}: refused naming that field's undefined. */
function required(missing: string): Domain {
  return (v) => {
    if (Array.isArray(v)) return refuse(INVALID, "an array");
    if (v !== null && typeof v === "object") return refuse(INVALID, `${missing}, got undefined`);
    return refuse(INVALID, describeValue(v));
  };
}

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
  args: () => unknown[];
  call: (w: World, args: unknown[]) => unknown;
  domains: Domain[];
}
const m = (method: string, args: () => unknown[], domains: Domain[]): Case => ({ name: method, args, domains, call: (w, a) => invoke(w.potad, method, a) });
const optionCase = (via: string, name: string, d: Domain, call: (w: World, o: Record<string, unknown>) => unknown): Case => ({ name: `${via} { ${name} }`, args: () => [OMIT], domains: [d], call: (w, a) => call(w, field(name, a[0])) });

const SPEC = { base: 64 * MiB, size: MiB, granule: 4096 };
const ALLOC_FIELDS: [string, Domain, Domain][] = [
  // [field, domain for a single block, domain for a contiguous allocation]
  ["descriptor", int(0, Number.MAX_SAFE_INTEGER, true), int(0, Number.MAX_SAFE_INTEGER, true)],
  ["descriptorBytes", int(0, Number.MAX_SAFE_INTEGER, true), int(0, Number.MAX_SAFE_INTEGER, true)],
  ["alignment", pow2("alignment", 1, 2 ** 52, true), pow2("alignment", 1, 2 ** 52, true)],
];

const CASES: Case[] = [
  m("addSpace", () => [SPEC], [required("granule must be a power of two")]),
  // base: a multiple of the granule, in [0, 2^53]; -0 is 0, which overlaps space 0.
  { name: "addSpace { base }", args: () => [OMIT], call: (w, a) => w.potad.addSpace({ ...SPEC, ...field("base", a[0]) } as never), domains: [(v) => (isInt(v) && v >= 0 && v % 4096 !== 0 ? refuse(ErrorCode.NotAligned, `base ${v} is not a multiple of the granule 4096`) : int(0, 2 ** 53)(v))] },
  { name: "addSpace { size }", args: () => [OMIT], call: (w, a) => w.potad.addSpace({ ...SPEC, ...field("size", a[0]) } as never), domains: [(v) => (isInt(v) && v >= 1 && v % 4096 !== 0 ? refuse(ErrorCode.NotAligned, `size ${v} is not a multiple of the granule 4096`) : int(1, 2 ** 53)(v))] },
  { name: "addSpace { granule }", args: () => [OMIT], call: (w, a) => w.potad.addSpace({ ...SPEC, ...field("granule", a[0]) } as never), domains: [(v) => pow2("granule", 1, 2 ** 52)(v)] },
  { name: "addSpace { frontOrder }", args: () => [OMIT], call: (w, a) => w.potad.addSpace({ ...SPEC, ...field("frontOrder", a[0]) } as never), domains: [int(0, 50, true)] },
  m("removeSpace", () => [EMPTY_SPACE], [space(false)]), // -0 is space 0, which is in use: ERR_INVALID_STATE either way
  m("alloc", () => [S, 4096, OMIT], [space(false), (v) => (isInt(v) && v > 16 * MiB ? refuse(RANGE, `size ${v} `) : isInt(v) && v >= 1 ? { as: v } : refuse(INVALID, `size must be a positive integer, got ${describeValue(v)}`)), bag]),
  m("allocOrder", () => [S, 0, OMIT], [space(false), int(0, 12), bag]),
  { ...m("allocOrder", () => [T, 3, OMIT], [space(false), int(0, 12), bag]), name: "allocOrder (T's first front order)" },
  ...ALLOC_FIELDS.flatMap(([name, single, contiguous]) => [
    optionCase("alloc(S, 4096)", name, single, (w, o) => w.potad.alloc(S, 4096, o)),
    optionCase("allocOrder(S, 0)", name, single, (w, o) => w.potad.allocOrder(S, 0, o)),
    optionCase("allocOrder(T, 3)", name, single, (w, o) => w.potad.allocOrder(T, 3, o)),
    // 3 MiB: with an alignment below 4 MiB a contiguous range, without one a 4 MiB block.
    optionCase(name === "alignment" ? "alloc(S, 3 MiB)" : "alloc(S, 3 MiB, { alignment: 1 MiB })", name, contiguous, (w, o) => w.potad.alloc(S, 3 * MiB, name === "alignment" ? o : { alignment: MiB, ...o })),
  ]),
  m("free", () => [65536, OMIT], [address, (v) => (v === undefined ? { as: OMIT } : !isInt(v) || v < 1 ? refuse(INVALID, `expectedSize must be a positive integer, got ${describeValue(v)}`) : v === 4096 ? { as: v } : refuse(ErrorCode.WrongSize, `the allocation at 65536 is 4096 bytes, not ${v}`))]),
  { ...m("free", () => [33554432, 2 * MiB], [address, (v) => (v === undefined ? { as: OMIT } : !isInt(v) || v < 1 ? refuse(INVALID, `expectedSize must be a positive integer, got ${describeValue(v)}`) : v === 2 * MiB ? { as: v } : refuse(ErrorCode.WrongSize, `the allocation at 33554432 is 2097152 bytes, not ${v}`))]), name: "free (a contiguous allocation, with its size)" },
  m("drain", () => [S], [space(true)]),
  m("sizeOf", () => [0], [address]),
  m("descriptorOf", () => [0], [lookup]),
  m("allocationAt", () => [100], [lookup]),
  { name: "pageFace", args: () => [S, OMIT], call: (w, a) => { const f = invoke(w.potad, "pageFace", a) as PageFace; return { space: f.space, pageSize: f.pageSize, maxOrder: f.maxOrder }; }, domains: [space(false), pow2("pageSize", 4096, 2 ** 52, true)] },
  { name: "face.allocPages", args: () => [0], call: (w, a) => w.face.allocPages(a[0] as number), domains: [int(0, 12)] },
  { name: "face.freePages", args: () => [18, 1], call: (w, a) => w.face.freePages(a[0] as number, a[1] as number), domains: [(v) => (!isInt(v) || v < 0 ? refuse(INVALID, `pfn must be a non-negative integer, got ${describeValue(v)}`) : v >= 4096 ? refuse(RANGE, `pfn ${v} (address ${v * 4096}) is not in space 0`) : { as: canon(v) }), int(0, 12)] },
  m("stats", () => [S], [space(false)]),
];

/** `value` with every -0 made 0 (-0 is legitimately 0; an echo of it is the same number). */
function norm(value: unknown): unknown {
  if (Object.is(value, -0)) return 0;
  if (Array.isArray(value)) return value.map(norm);
  if (value !== null && typeof value === "object") return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, norm(v)]));
  return value;
}

type Result = { value: unknown } | { code: unknown; message: string; typed: boolean };
/** A return value as the sweep compares it: an allocator by its figures, an index by its entries. */
function comparable(value: unknown): unknown {
  return norm(value instanceof Potad ? { frontHigh: value.frontHigh, blocks: value.blockCount, bytes: value.metadataBytes } : value instanceof SortedRangeIndex || value instanceof AlignedBlockIndex ? value.entries() : value);
}

function outcome(fn: () => unknown): Result {
  try {
    return { value: comparable(fn()) };
  } catch (e) {
    return { code: (e as MmkitError).code, message: (e as Error).message, typed: e instanceof MmkitError };
  }
}

function expectRefused(fn: () => unknown, code: string, text: string): void {
  expect(outcome(fn), `expected ${code} naming ${text}`).toMatchObject({ typed: true, code, message: expect.stringContaining(text) });
}

function sweepOne(c: Case, pos: number, v: unknown, prefix: readonly Op[] = []): void {
  const subject = {
    make: () => world(prefix),
    state: snapshot,
    check: (w: World) => w.potad.check(),
    followUp,
    result: comparable,
    // The call may have freed a block of `live` (free with -0): both worlds forget it alike.
    settle: (w: World) => {
      for (const a of [...w.live.keys()]) if (w.potad.allocationAt(a) !== a) w.live.delete(a);
    },
  };
  const want = c.domains[pos]!(v);
  sweepPosition(subject, { name: c.name, args: () => c.args(), call: c.call }, pos, v, "code" in want ? refuseWith(want.code, want.text) : same(want.as, "a legitimate spelling"), `${c.name}: position ${pos}`);
}

describe("the sweep's world", () => {
  test("is the state the cases below name", () => {
    const w = world();
    expect([...w.live]).toEqual([
      [0, 65536],
      [33554432, 2 * MiB],
      [65536, 4096],
      [MiB, MiB],
      [73728, 8192],
      [35655680, 512],
    ]);
    expect(w.potad.spaces()).toEqual([S, T, EMPTY_SPACE]);
    expect(w.potad.stats(S)).toMatchObject({ cachedBlocks: 1, allocations: 4, descriptorBytes: 40 });
    expect(w.potad.stats(T)).toMatchObject({ cachedBlocks: 1, allocations: 2 });
    w.potad.check();
  });
});

describe.each(CASES)("$name", (c) => {
  test.each(c.domains.flatMap((_, pos) => HOSTILE.map((v) => [pos, label(v), v] as const)))("argument %i = %s", (pos, _label, v) => sweepOne(c, pos, v));
});

describe("addresses that are not an allocation's start, double frees, wrong sizes and orders", () => {
  const cases: [string, (w: World) => unknown, string, string][] = [
    ["free inside a live block", (w) => w.potad.free(4096), ErrorCode.NotAllocated, "address 4096 is not the start of an allocation: it lies inside the allocation at 0"],
    ["free of a piece of a contiguous allocation", (w) => w.potad.free(33554432 + MiB), ErrorCode.NotAllocated, "address 34603008 is not the start of an allocation: it lies inside the allocation at 33554432"],
    ["free inside a piece", (w) => w.potad.free(33554432 + MiB + 512), ErrorCode.NotAllocated, "it lies inside the allocation at 33554432"],
    ["double free of a cached block", (w) => w.potad.free(69632), ErrorCode.DoubleFree, "address 69632 is free already"],
    // Merged free space keeps no history: a second free there cannot be told from a never-handed-out address.
    ["double free of a merged block", (w) => w.potad.free(2097152), ErrorCode.NotAllocated, "address 2097152 is not allocated: it lies in free space (the free block at 2097152)"],
    ["double free of a block cached on T's front", (w) => w.potad.free(35651584), ErrorCode.DoubleFree, "address 35651584 is free already"],
    ["free inside free space", (w) => w.potad.free(2097152 + 4096), ErrorCode.NotAllocated, "address 2101248 is not allocated: it lies in free space (the free block at 2097152)"],
    ["free in a removed space", (w) => w.potad.free(40 * MiB), ErrorCode.NotAllocated, "address 41943040 is in no space"],
    ["free with the size of one piece", (w) => w.potad.free(33554432, MiB), ErrorCode.WrongSize, "the allocation at 33554432 is 2097152 bytes, not 1048576"],
    ["free with a size one byte short", (w) => w.potad.free(0, 65535), ErrorCode.WrongSize, "the allocation at 0 is 65536 bytes, not 65535"],
    ["sizeOf inside a live block", (w) => w.potad.sizeOf(65536 + 1), ErrorCode.NotAllocated, "address 65537 is not the start of an allocation"],
    ["sizeOf a cached block", (w) => w.potad.sizeOf(69632), ErrorCode.DoubleFree, "address 69632 is free already"],
    ["face: freePages at a smaller order", (w) => w.face.freePages(18, 0), ErrorCode.WrongSize, "the allocation at 73728 is 8192 bytes, not 4096"],
    ["face: freePages at a larger order", (w) => w.face.freePages(18, 2), ErrorCode.WrongSize, "the allocation at 73728 is 8192 bytes, not 16384"],
    ["face: freePages of the second page of a block", (w) => w.face.freePages(19, 0), ErrorCode.NotAllocated, "address 77824 is not the start of an allocation: it lies inside the allocation at 73728"],
    ["face: freePages of a cached page (double free)", (w) => w.face.freePages(17, 0), ErrorCode.DoubleFree, "address 69632 is free already"],
    ["face: freePages of a page of another space", (w) => w.face.freePages(35655680 / 4096, 0), RANGE, "pfn 8705 (address 35655680) is not in space 0"],
    ["allocOrder from the removed space", (w) => w.potad.allocOrder(GONE, 0), INVALID, "space 2 does not exist"],
    ["removeSpace of a space in use", (w) => w.potad.removeSpace(T), ErrorCode.InvalidState, "space 1 still has 2097664 bytes allocated"],
    ["contiguous larger than its space", (w) => w.potad.alloc(T, 4 * MiB, { alignment: MiB }), RANGE, "size 4194304 exceeds space 1"],
    ["alignment above the block size", (w) => w.potad.alloc(S, 4096, { alignment: 8192 }), RANGE, "alignment 8192 exceeds the block size 4096"],
  ];
  test.each(cases)("%s", (_name, call, code, text) => {
    const w = world();
    const twin = world();
    const before = snapshot(w);
    expectRefused(() => call(w), code, text);
    expect(snapshot(w)).toEqual(before);
    w.potad.check();
    expect(followUp(w)).toEqual(followUp(twin));
  });

  test("the hot paths' BigInt refusals name the value", () => {
    const w = world();
    expectRefused(() => w.potad.allocOrder(0n as never, 0), INVALID, "space 0n does not exist");
    expectRefused(() => w.potad.allocOrder(S, 0n as never), INVALID, "order must be an integer, got 0n");
    expectRefused(() => w.potad.free(65536n as never), INVALID, "address must be a non-negative integer, got 65536n");
    expectRefused(() => w.face.allocPages(0n as never), INVALID, "order must be an integer, got 0n");
    expectRefused(() => w.face.freePages(18, 1n as never), INVALID, "order must be an integer, got 1n");
    expect(snapshot(w)).toEqual(snapshot(world()));
  });
});

describe("a descriptor range the index refuses (a foreign range in POTAD's own index)", () => {
  test("a single block: refused before anything changes", () => {
    const w = world();
    const index = w.potad.descriptorIndex as AlignedBlockIndex;
    index.store(69632, 69632, 1); // where the cached block on S's front 0 would go
    const before = snapshot(w);
    expectRefused(() => w.potad.alloc(S, 4096, { descriptor: 5 }), ErrorCode.Occupied, "range [69632, 73727] overlaps the stored range [69632, 69632]");
    expect(snapshot(w)).toEqual(before);
    w.potad.check();
  });

  test("a contiguous allocation: allocations, descriptors and bytes are unchanged", () => {
    // Known limitation, not fixed: a contiguous allocation merges the fronts first (as documented)
    // and only then learns where its range is, so when the index then refuses the range the
    // fronts stay merged (what `drain(space)` leaves). No allocation, descriptor or byte count
    // changes, and `check()` holds. Undoing the merge would mean splitting blocks back and
    // restoring list order; POTAD owns its index, so a foreign range there is the caller's bug.
    const w = world();
    const index = w.potad.descriptorIndex as AlignedBlockIndex;
    index.store(4 * MiB, 4 * MiB, 1);
    const before = snapshot(w) as { live: unknown; index: unknown; stats: { allocatedBytes: number; allocations: number; descriptorBytes: number }[] };
    expectRefused(() => w.potad.alloc(S, 3 * MiB, { alignment: MiB, descriptor: 5 }), ErrorCode.Occupied, "range [4194304, 7340031] overlaps the stored range [4194304, 4194304]");
    const after = snapshot(w) as typeof before;
    expect(after.live).toEqual(before.live);
    expect(after.index).toEqual(before.index);
    expect(after.stats.map((s) => [s.allocatedBytes, s.allocations, s.descriptorBytes])).toEqual(before.stats.map((s) => [s.allocatedBytes, s.allocations, s.descriptorBytes]));
    w.potad.check();
  });
});

describe("constructors", () => {
  const arenaText = (v: unknown): string => `arena must be an ArrayFactory (a MetadataArena or one with its methods), got ${describeValue(v)}`;
  const backend = { allocPages: () => -1, freePages: () => undefined };
  const ctorCases: [string, (v: unknown) => unknown, Domain][] = [
    ["new Potad(options)", (v) => (v === OMIT ? new Potad() : new Potad(v as never)), bag],
    ["new Potad({ arena })", (v) => new Potad(field("arena", v) as never), (v) => (v === undefined ? { as: OMIT } : refuse(INVALID, arenaText(v)))],
    ["new Potad({ descriptorIndex })", (v) => new Potad(field("descriptorIndex", v) as never), (v) => (v === undefined ? { as: OMIT } : refuse(INVALID, `descriptorIndex must be a DescriptorIndex (store, erase, load), got ${describeValue(v)}`))],
    ["new Potad({ frontHigh })", (v) => new Potad(field("frontHigh", v) as never), int(0, 255, true)],
    ["new SortedRangeIndex(options)", (v) => (v === OMIT ? new SortedRangeIndex() : new SortedRangeIndex(v as never)), bag],
    ["new SortedRangeIndex({ arena })", (v) => new SortedRangeIndex(field("arena", v) as never), (v) => (v === undefined ? { as: OMIT } : refuse(INVALID, arenaText(v)))],
    ["new AlignedBlockIndex(options)", (v) => (v === OMIT ? new AlignedBlockIndex() : new AlignedBlockIndex(v as never)), bag],
    ["new AlignedBlockIndex({ arena })", (v) => new AlignedBlockIndex(field("arena", v) as never), (v) => (v === undefined ? { as: OMIT } : refuse(INVALID, arenaText(v)))],
    ["new PageFace(space)", (v) => new PageFace(v as number, 4096, 3, backend), int(0, Number.MAX_SAFE_INTEGER)],
    ["new PageFace(pageSize)", (v) => new PageFace(0, v as number, 3, backend), pow2("pageSize", 1, 2 ** 52)],
    ["new PageFace(maxOrder)", (v) => new PageFace(0, 4096, v as number, backend), int(0, 63)],
    ["new PageFace(backend)", (v) => new PageFace(0, 4096, 3, v as never), (v) => refuse(INVALID, `a page face needs a backend with allocPages and freePages, got ${describeValue(v)}`)],
  ];
  test.each(ctorCases.flatMap(([name, make, d]) => HOSTILE.map((v) => [name, label(v), make, d, v] as const)))("%s = %s", (_name, _label, make, d, v) => {
    const want = d(v);
    const face = (x: unknown): unknown => (x instanceof PageFace ? { space: x.space, pageSize: x.pageSize, maxOrder: x.maxOrder } : x);
    if ("code" in want) expectRefused(() => make(v), want.code, want.text);
    else expect(outcome(() => face(make(v)))).toEqual(outcome(() => face(make(want.as))));
  });
});

describe.each([SortedRangeIndex, AlignedBlockIndex])("%o", (Index) => {
  const fresh = (): { index: SortedRangeIndex | AlignedBlockIndex; arena: MetadataArena } => {
    const arena = new MetadataArena();
    const index = new Index({ arena });
    index.store(0, 9, 1);
    index.store(1000, 1999, 2);
    index.store(5000, 5000, 3);
    index.erase(5000);
    return { index, arena };
  };
  const state = (x: { index: SortedRangeIndex | AlignedBlockIndex; arena: MetadataArena }): unknown => ({ entries: x.index.entries(), size: x.index.size, bytes: x.arena.bytes });
  const key = int(0, Number.MAX_SAFE_INTEGER); // keys are byte addresses
  const calls: [string, unknown[], Domain[]][] = [
    // store(100, 199, 5); a first above 199 makes `last` the one out of range (its bound names the first).
    ["store", [100, 199, 5], [(v) => (isInt(v) && v > 199 ? refuse(RANGE, `last must be in [${v}, `) : key(v)), (v) => (isInt(v) && v < 100 ? refuse(RANGE, describeValue(v)) : key(v)), (v) => (typeof v === "number" && Number.isFinite(v) ? { as: canon(v) } : refuse(INVALID, `value must be a finite number, got ${describeValue(v)}`))]],
    ["erase", [1500], [key]],
    ["load", [5], [key]],
  ];
  // storeVacant (AlignedBlockIndex only) validates as store does; [100, 199] is vacant.
  if (Index === AlignedBlockIndex) calls.push(["storeVacant", calls[0]![1], calls[0]![2]]);
  test.each(calls.flatMap(([method, good, ds]) => ds.flatMap((d, pos) => HOSTILE.map((v) => [method, pos, label(v), good, d, v] as const))))("%s argument %i = %s", (method, pos, _label, good, d, v) => {
    const x = fresh();
    const twin = fresh();
    const before = state(x);
    const args = [...good];
    args[pos] = v;
    const want = d(v);
    if ("code" in want) {
      expectRefused(() => invoke(x.index, method, args), want.code, want.text);
      expect(state(x)).toEqual(before);
    } else {
      const same = [...good];
      same[pos] = want.as;
      expect(outcome(() => invoke(x.index, method, args))).toEqual(outcome(() => invoke(twin.index, method, same)));
      expect(norm(state(x))).toEqual(norm(state(twin)));
    }
    x.index.check();
  });
});

describe("random hostile calls after random operations (fast-check, fixed seed)", () => {
  const opArb: fc.Arbitrary<Op> = fc.oneof(
    { weight: 5, arbitrary: fc.record({ kind: fc.constant("alloc" as const), space: fc.constantFrom(S, T, EMPTY_SPACE), size: fc.integer({ min: 1, max: 200_000 }), descriptor: fc.boolean() }) },
    { weight: 2, arbitrary: fc.record({ kind: fc.constant("page" as const), order: fc.nat(3) }) },
    { weight: 5, arbitrary: fc.record({ kind: fc.constant("free" as const), pick: fc.nat(), viaFace: fc.boolean() }) },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant("drain" as const), space: fc.constantFrom(-1, S, T) }) },
  );
  const hostileArb: fc.Arbitrary<unknown> = fc.oneof(
    fc.constantFrom(...HOSTILE),
    fc.double(),
    fc.integer({ min: -100, max: 70_000_000 }),
    fc.bigInt(),
    fc.string({ maxLength: 3 }),
    fc.constantFrom(true, false, Symbol("s"), [1], { descriptor: 1 }),
  );
  const sweepable = CASES.flatMap((c) => c.domains.map((_, pos) => [c, pos] as const));

  test("each call is the call it stands for, or a typed refusal that changes nothing", () => {
    fc.assert(
      fc.property(fc.array(opArb, { maxLength: 20 }), fc.constantFrom(...sweepable), hostileArb, (prefix, [c, pos], v) => sweepOne(c, pos, v, prefix)),
      { numRuns: 300, seed: 0x5eed },
    );
  });
});
