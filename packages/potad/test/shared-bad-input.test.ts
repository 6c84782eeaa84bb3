import { describe, expect, test } from "vitest";
import { MiB, MmkitError, describeValue } from "@mmkit/physmem";
import { HOSTILE_VALUES, refuse, same, sweepPosition, type SweepSubject, type SweepVerdict } from "@mmkit/test-support";
import { SharedPotad, type SharedPotadFront, type SharedPotadOptions } from "@mmkit/potad";

/**
 * Hostile values in every argument position of SharedPotad's public face: `create`'s options and
 * every field of a space, `attach`, `claimCpu`, `cpuOwner`, `recoverFrom`, `alloc`, `allocOrder`,
 * `free`, `sizeOf`, `stats`, and a front's `alloc`, `allocOrder`, `free`, `pageFace` and the face's
 * `allocPages` / `freePages`. Each call is refused with an MmkitError of the documented code naming
 * the value and leaves the shared state as it was (stats of both spaces, counters, CPU owners,
 * and a follow-up run of operations that sees the order of the fronts and free lists), or is a
 * legitimate spelling (-0 is 0, undefined an omitted argument) and behaves as the call it stands for.
 */

const OPTIONS: SharedPotadOptions = {
  spaces: [
    { base: 0, size: 3 * MiB, granule: 4096 },
    { base: 1 << 30, size: MiB, granule: 512, frontOrder: 3 },
  ],
  cpus: 2,
  frontHigh: 8,
  frontBatch: 4,
};

interface World {
  potad: SharedPotad;
  front: SharedPotadFront;
  /** [0]: 1 MiB at 0 (zone lock), [1]: 4 KiB and [2]: 8 KiB through cpu 0's front, [3]: 4 KiB in space 1. */
  live: number[];
}

const subject: SweepSubject<World> = {
  make: () => {
    const potad = SharedPotad.create(OPTIONS);
    const front = potad.claimCpu(0);
    const live = [potad.alloc(0, MiB), front.alloc(0, 4096), front.alloc(0, 8192), front.alloc(1, 4096)];
    return { potad, front, live };
  },
  state: (w) => [w.potad.stats(0), w.potad.stats(1), w.potad.counters(), w.potad.cpuOwner(0), w.potad.cpuOwner(1), w.front.cachedBlocks],
  check: (w) => w.potad.check(),
  // Sees what the fronts and free lists hold, in order.
  followUp: (w) => [w.front.alloc(0, 4096), w.front.alloc(0, 4096), w.potad.alloc(1, 512), w.front.allocOrder(0, 5)],
  // A returned front or page face (methods, closures) is compared by what it is, not by identity.
  result: (v) => (v !== null && typeof v === "object" && !Array.isArray(v) && Object.values(v as object).every((x) => typeof x === "function") ? "an object with methods" : Object.is(v, -0) ? 0 : v),
};

const named = (v: unknown): string => describeValue(v);
const isNumber = (v: unknown): v is number => typeof v === "number";
/** A space id: -0 is 0; anything else is not a space. */
const spaceDomain = (v: unknown): SweepVerdict => (Object.is(v, -0) ? same(0, "-0 is space 0") : refuse("ERR_INVALID_ARGUMENT", named(v)));
/** An integer in [min, max] (requireInteger). */
const integerDomain =
  (min: number, max: number) =>
  (v: unknown): SweepVerdict => {
    if (!isNumber(v) || !Number.isSafeInteger(v)) return refuse("ERR_INVALID_ARGUMENT", named(v));
    if (v < min || v > max) return refuse("ERR_OUT_OF_RANGE", named(v));
    return same(Object.is(v, -0) ? 0 : v, "-0 is 0");
  };
/** A size in bytes: a positive integer within the space's largest block. */
const sizeDomain = (v: unknown): SweepVerdict => (!isNumber(v) || !Number.isSafeInteger(v) || v < 1 ? refuse("ERR_INVALID_ARGUMENT", named(v)) : refuse("ERR_OUT_OF_RANGE", named(v)));
/** The address of an allocation; -0 is 0, the world's 1 MiB block. */
const addressDomain = (v: unknown): SweepVerdict => {
  if (Object.is(v, -0)) return same(0, "-0 is address 0, an allocation");
  if (!isNumber(v) || !Number.isSafeInteger(v) || v < 0) return refuse("ERR_INVALID_ARGUMENT", named(v));
  return refuse("ERR_NOT_ALLOCATED", named(v));
};
/** An expected size: undefined is none; the block's size is 4096. */
const expectedDomain = (v: unknown): SweepVerdict => {
  if (v === undefined) return same(undefined, "no expected size");
  if (!isNumber(v) || !Number.isSafeInteger(v) || v < 1) return refuse("ERR_INVALID_ARGUMENT", named(v));
  return refuse("ERR_WRONG_SIZE", named(v));
};

interface Case {
  name: string;
  args: (w: World) => unknown[];
  call: (w: World, a: unknown[]) => unknown;
  domains: ((v: unknown) => SweepVerdict)[];
}

const CASES: Case[] = [
  { name: "claimCpu", args: () => [1], call: (w, a) => w.potad.claimCpu(a[0] as number), domains: [integerDomain(0, 1)] },
  { name: "cpuOwner", args: () => [1], call: (w, a) => w.potad.cpuOwner(a[0] as number), domains: [integerDomain(0, 1)] },
  { name: "recoverFrom", args: () => [99], call: (w, a) => w.potad.recoverFrom(a[0] as number), domains: [(v) => (isNumber(v) && Number.isSafeInteger(v) ? refuse("ERR_OUT_OF_RANGE", named(v)) : refuse("ERR_INVALID_ARGUMENT", named(v)))] },
  { name: "alloc", args: () => [0, 4096], call: (w, a) => w.potad.alloc(a[0] as number, a[1] as number), domains: [spaceDomain, sizeDomain] },
  { name: "allocOrder", args: () => [0, 2], call: (w, a) => w.potad.allocOrder(a[0] as number, a[1] as number), domains: [spaceDomain, integerDomain(0, 9)] },
  { name: "free", args: (w) => [w.live[1], undefined], call: (w, a) => w.potad.free(a[0] as number, a[1] as number | undefined), domains: [addressDomain, expectedDomain] },
  { name: "sizeOf", args: (w) => [w.live[1]], call: (w, a) => w.potad.sizeOf(a[0] as number), domains: [addressDomain] },
  { name: "stats", args: () => [0], call: (w, a) => w.potad.stats(a[0] as number), domains: [spaceDomain] },
  { name: "front.alloc", args: () => [0, 4096], call: (w, a) => w.front.alloc(a[0] as number, a[1] as number), domains: [spaceDomain, sizeDomain] },
  { name: "front.allocOrder", args: () => [0, 0], call: (w, a) => w.front.allocOrder(a[0] as number, a[1] as number), domains: [spaceDomain, integerDomain(0, 9)] },
  { name: "front.free", args: (w) => [w.live[1], undefined], call: (w, a) => w.front.free(a[0] as number, a[1] as number | undefined), domains: [addressDomain, expectedDomain] },
  { name: "front.pageFace", args: () => [0, 4096], call: (w, a) => w.front.pageFace(a[0] as number, a[1] as number), domains: [spaceDomain, (v) => (v === undefined ? same(4096, "the default page size") : refuse("ERR_INVALID_ARGUMENT", named(v)))] },
  { name: "pageFace.allocPages", args: () => [1], call: (w, a) => w.front.pageFace(0).allocPages(a[0] as number), domains: [integerDomain(0, 9)] },
  {
    name: "pageFace.freePages",
    args: (w) => [w.live[2]! / 4096, 1],
    call: (w, a) => w.front.pageFace(0).freePages(a[0] as number, a[1] as number),
    domains: [
      // pfn 0 is the world's 1 MiB block: freeing it as 2 pages is refused alike.
      (v) => (Object.is(v, -0) ? same(0, "-0 is pfn 0") : !isNumber(v) || !Number.isSafeInteger(v) || v < 0 ? refuse("ERR_INVALID_ARGUMENT", named(v)) : refuse("ERR_OUT_OF_RANGE", named(v))),
      integerDomain(0, 9),
    ],
  },
];

describe("SharedPotad: hostile values in every position of a live world", () => {
  for (const c of CASES) {
    test(c.name, () => {
      for (let pos = 0; pos < c.domains.length; pos++) {
        for (const [label, v] of HOSTILE_VALUES) sweepPosition(subject, { name: c.name, args: c.args, call: c.call }, pos, v, c.domains[pos]!(v), `${c.name}(${pos}: ${label})`);
      }
    });
  }
});

/** Created, or refused with an MmkitError naming `text` (default: `v`); a created one passes check(). */
function createdOrRefused(options: unknown, v: unknown, where: string, text = named(v)): void {
  let built: SharedPotad | undefined;
  let error: unknown;
  try {
    built = SharedPotad.create(options as SharedPotadOptions);
  } catch (e) {
    error = e;
  }
  if (built !== undefined) {
    built.check();
    return;
  }
  expect(error, where).toBeInstanceOf(MmkitError);
  expect((error as Error).message, where).toContain(text);
}

describe("SharedPotad.create and attach: hostile values", () => {
  test.each(HOSTILE_VALUES)("%s in every option, every space field, and as a handle", (label, v) => {
    for (const key of ["spaces", "cpus", "frontBatch", "lock"] as const) createdOrRefused({ ...OPTIONS, [key]: v }, v, `${key}: ${label}`);
    // frontHigh without frontBatch: a legitimate 0 (or -0) is refused only for the batch above it.
    createdOrRefused({ ...OPTIONS, frontBatch: undefined, frontHigh: v }, v, `frontHigh: ${label}`);
    for (const key of ["base", "size", "granule", "frontOrder"] as const) createdOrRefused({ ...OPTIONS, spaces: [{ ...OPTIONS.spaces[0]!, [key]: v }] }, v, `space.${key}: ${label}`);
    // An object with no fields is refused for the first field it lacks.
    createdOrRefused({ ...OPTIONS, spaces: [v] }, v, `a space: ${label}`, v !== null && typeof v === "object" && !Array.isArray(v) ? "granule must be a power of two, got undefined" : named(v));
    expect(() => SharedPotad.create(v as never)).toThrowError(MmkitError);
    expect(() => SharedPotad.attach(v as never)).toThrowError(expect.objectContaining({ code: "ERR_LAYOUT_MISMATCH", message: expect.stringContaining(named(v)) }));
  });
});
