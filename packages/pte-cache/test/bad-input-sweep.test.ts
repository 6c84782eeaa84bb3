/**
 * Adversarial bad-input sweep: every public method of `PteMappedCache` (and of the shrinker object it
 * registers), every argument position, each hostile value, against a cache in a non-trivial state on
 * two nodes: a fallback region held in pieces, a partly used intact block with freed pages, and a
 * whole free block the shrinker can give back. Each call is either legitimate (the reason is written
 * next to it, and it does exactly what the call with the canonical value does on a twin system) or a
 * typed `MmkitError` with one of the package's documented codes and a message naming the value, after
 * which everything observable (the cache, the page source, the direct map, the arena, the host) is as
 * it was.
 */
import fc from "fast-check";
import { DirectMap, ErrorCode, MemoryMap, MiB, MmkitError, describeValue } from "@mmkit/physmem";
import { PteMappedCache, SHRINK_STOP } from "@mmkit/pte-cache";
import { describe, expect, test } from "vitest";
import { FakePageSource } from "./fake-page-source.js";
import { ListHost, makeSystem, snapshot as systemSnapshot } from "./setup.js";
import { HOSTILE_VALUES, expectCallOutcome, type CallOutcome } from "@mmkit/test-support";

/** Codes the package documents for misuse (README, doc comments). */
const DOCUMENTED = new Set<string>([ErrorCode.InvalidArgument, ErrorCode.OutOfRange, ErrorCode.NotAllocated, ErrorCode.DoubleFree, ErrorCode.InvalidState]);

const HOSTILE = HOSTILE_VALUES;
const MAX = Number.MAX_SAFE_INTEGER;

/**
 * The same state every time, on 8 MiB in two nodes (pfns 0..1023 node 0, 1024..2047 node 1):
 * - region 0 (node 0), held in pieces: pfn 0 belongs to someone else (from the source), pfn 1 is a
 *   fallback page the cache handed out;
 * - region 1 (node 0), an intact block: all handed out but 516 and 700, freed again (block-partial);
 * - region 2 (node 1), an intact block taken for one page and all free again (block-free: the
 *   shrinker's 512 freeable pages).
 */
function build() {
  const host = new ListHost();
  const sys = makeSystem({ mib: 8, nodes: 2, host });
  sys.source.failOrder9 = true;
  const other = sys.source.allocPages(0);
  const fb = sys.cache.alloc();
  sys.source.failOrder9 = false;
  const block = Array.from({ length: 512 }, () => sys.cache.alloc());
  const last = sys.cache.alloc();
  sys.cache.free(last);
  sys.cache.free(516);
  sys.cache.free(700);
  expect([other, fb, block[0], block[511], last]).toEqual([0, 1, 512, 1023, 1024]);
  expect(sys.cache.regions().map((r) => [r.pfn, r.node, r.list])).toEqual([
    [512, 0, "block-partial"],
    [1024, 1, "block-free"],
    [0, 0, null],
  ]);
  sys.cache.check();
  return { ...sys, host };
}
type Sys = ReturnType<typeof build>;

function snapshot(s: Sys) {
  return { system: systemSnapshot(s), registered: s.host.shrinkers.length, sourceUsed: s.source.usedPages };
}

type Outcome = CallOutcome<Sys>;
const refuse = (code: string, mentions: string): Outcome => ({ code, mentions });
const legit = (why: string, same: (s: Sys) => unknown): Outcome => ({ why, same });

function expectOutcome(call: (s: Sys) => unknown, outcome: Outcome): void {
  expectCallOutcome({ make: build, state: snapshot, check: (s) => s.cache.check() }, call, outcome, DOCUMENTED);
}

// ---------------------------------------------------------------------------------------------
// What each kind of argument does with each hostile value.

/** A pfn argument (`free`, `adopt`, `pageState`, `tracksRegionOf`): `requireInteger(pfn, "pfn")`. */
function pfnOutcome(name: string, v: unknown, same0: (s: Sys) => unknown, sameHuge: Outcome): Outcome {
  if (name === "-0") return legit("-0 is pfn 0", same0);
  if (name === "-1") return refuse(ErrorCode.OutOfRange, `pfn must be in [0, ${MAX}], got -1`);
  if (name === "MAX_SAFE_INTEGER") return sameHuge;
  return refuse(ErrorCode.InvalidArgument, `pfn must be an integer, got ${describeValue(v)}`);
}

/** A node argument with -1 meaning "any node" (`alloc`, `shrink`, `freeablePages`). */
function anyNodeOutcome(name: string, v: unknown, sameAny: (s: Sys) => unknown, same0: (s: Sys) => unknown): Outcome {
  if (name === "undefined") return legit("absent: -1, any node", sameAny);
  if (name === "-1") return legit("-1 is documented as any node", sameAny);
  if (name === "-0") return legit("-0 is node 0", same0);
  if (name === "MAX_SAFE_INTEGER") return refuse(ErrorCode.OutOfRange, `nid must be in [0, 1023], got ${MAX}`);
  return refuse(ErrorCode.InvalidArgument, `nid must be an integer, got ${describeValue(v)}`);
}

/** A node in a shrink control (`count`, `scan`): a real node, 0..1023. */
function controlNodeOutcome(name: string, v: unknown, same0: (s: Sys) => unknown): Outcome {
  if (name === "-0") return legit("-0 is node 0", same0);
  if (name === "-1" || name === "MAX_SAFE_INTEGER") return refuse(ErrorCode.OutOfRange, `nid must be in [0, 1023], got ${describeValue(v)}`);
  return refuse(ErrorCode.InvalidArgument, `nid must be an integer, got ${describeValue(v)}`);
}

/** A page count (`shrink`'s pages, `scan`'s nrToScan). */
function countOutcome(name: string, v: unknown, label: string, same0: (s: Sys) => unknown, sameHuge: (s: Sys) => unknown): Outcome {
  if (name === "-0") return legit("-0 is 0 pages", same0);
  if (name === "MAX_SAFE_INTEGER") return legit("as many as there are: everything freeable", sameHuge);
  if (name === "-1") return refuse(ErrorCode.OutOfRange, `${label} must be in [0, ${MAX}], got -1`);
  return refuse(ErrorCode.InvalidArgument, `${label} must be an integer, got ${describeValue(v)}`);
}

/** A whole shrink control that is not an object. */
function controlOutcome(name: string, v: unknown, missing: string): Outcome {
  // An object without the fields: the first field read is reported as missing.
  if (name === "{}" || name === "[]") return refuse(ErrorCode.InvalidArgument, `${missing} must be an integer, got undefined`);
  return refuse(ErrorCode.InvalidArgument, `shrink control must be an object, got ${describeValue(v)}`);
}

describe("PteMappedCache methods", () => {
  test.each(HOSTILE)("alloc(nid = %s)", (name, v) => {
    expectOutcome(
      (s) => s.cache.alloc(v as number),
      anyNodeOutcome(
        name,
        v,
        (s) => s.cache.alloc(),
        (s) => s.cache.alloc(0),
      ),
    );
  });

  test.each(HOSTILE)("free(pfn = %s)", (name, v) => {
    // pfn 0 is someone else's page in a region the cache holds pieces of.
    const zero = refuse(ErrorCode.NotAllocated, "pfn 0 was not handed out by this cache");
    const outcome = name === "-0" ? zero : pfnOutcome(name, v, () => 0, refuse(ErrorCode.NotAllocated, `pfn ${MAX} was not handed out by this cache (it holds no page of its 2 MiB region)`));
    expectOutcome((s) => s.cache.free(v as number), outcome);
  });

  test.each([
    ["a page of the intact block never handed out (inside the live block, not its start)", 1030, ErrorCode.DoubleFree, "pfn 1030 is free in the cache already"],
    ["a double free", 516, ErrorCode.DoubleFree, "pfn 516 is free in the cache already"],
    ["a page of a held region the cache does not hold", 2, ErrorCode.NotAllocated, "pfn 2 was not handed out by this cache"],
    ["someone else's page in a held region", 0, ErrorCode.NotAllocated, "pfn 0 was not handed out by this cache"],
    ["a page past the machine", 5000, ErrorCode.NotAllocated, "pfn 5000 was not handed out by this cache (it holds no page of its 2 MiB region)"],
  ])("free: %s", (_what, pfn, code, mentions) => {
    expectOutcome((s) => s.cache.free(pfn), refuse(code, mentions));
  });

  test.each(HOSTILE)("adopt(pfn = %s)", (name, v) => {
    const outcome = pfnOutcome(
      name,
      v,
      (s) => s.cache.adopt(0),
      legit("a pfn in a region the cache does not hold: false, the caller frees it", () => false),
    );
    expectOutcome((s) => s.cache.adopt(v as number), outcome);
  });

  test.each([
    ["a page the cache handed out", 513, ErrorCode.InvalidState, "pfn 513 was handed out by the cache: give it back with free(), not adopt()"],
    ["a page free in the cache (freed once)", 516, ErrorCode.DoubleFree, "pfn 516 is free in the cache already"],
    ["a page free in the cache (never handed out)", 1100, ErrorCode.DoubleFree, "pfn 1100 is free in the cache already"],
    ["the fallback page", 1, ErrorCode.InvalidState, "pfn 1 was handed out by the cache"],
  ])("adopt: %s", (_what, pfn, code, mentions) => {
    expectOutcome((s) => s.cache.adopt(pfn), refuse(code, mentions));
  });

  test.each(HOSTILE)("pageState(pfn = %s)", (name, v) => {
    const outcome = pfnOutcome(
      name,
      v,
      (s) => s.cache.pageState(0),
      legit("a pfn the cache knows nothing of: None", () => 0),
    );
    expectOutcome((s) => s.cache.pageState(v as number), outcome);
  });

  test.each(HOSTILE)("tracksRegionOf(pfn = %s)", (name, v) => {
    const outcome = pfnOutcome(
      name,
      v,
      () => true,
      legit("a region the cache holds nothing of", () => false),
    );
    expectOutcome((s) => s.cache.tracksRegionOf(v as number), outcome);
  });

  test.each(HOSTILE)("shrink(pages = %s)", (name, v) => {
    expectOutcome(
      (s) => s.cache.shrink(v as number),
      countOutcome(
        name,
        v,
        "pages",
        (s) => s.cache.shrink(0),
        (s) => s.cache.drain(),
      ),
    );
  });

  test.each(HOSTILE)("shrink(1, nid = %s)", (name, v) => {
    expectOutcome(
      (s) => s.cache.shrink(1, v as number),
      anyNodeOutcome(
        name,
        v,
        (s) => s.cache.shrink(1),
        (s) => s.cache.shrink(1, 0),
      ),
    );
  });

  test("shrink checks pages before nid, and a bad nid stops a shrink before it frees anything", () => {
    expectOutcome((s) => s.cache.shrink(Number.NaN, 7.5), refuse(ErrorCode.InvalidArgument, "pages must be an integer, got NaN"));
    expectOutcome((s) => s.cache.shrink(MAX, 1024), refuse(ErrorCode.OutOfRange, "nid must be in [0, 1023], got 1024"));
  });

  test.each(HOSTILE)("freeablePages(nid = %s)", (name, v) => {
    expectOutcome(
      (s) => s.cache.freeablePages(v as number),
      anyNodeOutcome(
        name,
        v,
        (s) => s.cache.freeablePages(),
        (s) => s.cache.freeablePages(0),
      ),
    );
  });

  test("methods without parameters ignore extra arguments", () => {
    const calls: [(s: Sys, v: unknown) => unknown, (s: Sys) => unknown][] = [
      [(s, v) => (s.cache.drain as (x: unknown) => number)(v), (s) => s.cache.drain()],
      [(s, v) => (s.cache.dispose as (x: unknown) => void)(v), (s) => s.cache.dispose()],
      [(s, v) => (s.cache.stats as (x: unknown) => unknown)(v), (s) => s.cache.stats()],
      [(s, v) => (s.cache.regions as (x: unknown) => unknown)(v), (s) => s.cache.regions()],
      [(s, v) => (s.cache.check as (x: unknown) => void)(v), (s) => s.cache.check()],
    ];
    for (const [call, plain] of calls) {
      for (const [, v] of HOSTILE) expectOutcome((s) => call(s, v), legit("JS ignores arguments a method does not declare", plain));
    }
  });
});

describe("the shrinker's callbacks", () => {
  test.each(HOSTILE)("count(sc = %s)", (name, v) => {
    expectOutcome((s) => s.cache.shrinker.count(v as never), controlOutcome(name, v, "nid"));
  });

  test.each(HOSTILE)("count({ nid: %s })", (name, v) => {
    expectOutcome(
      (s) => s.cache.shrinker.count({ nid: v as number }),
      controlNodeOutcome(name, v, (s) => s.cache.shrinker.count({ nid: 0 })),
    );
  });

  test.each(HOSTILE)("scan(sc = %s)", (name, v) => {
    expectOutcome((s) => s.cache.shrinker.scan(v as never), controlOutcome(name, v, "nrToScan"));
  });

  test.each(HOSTILE)("scan({ nid: 1, nrToScan: %s })", (name, v) => {
    expectOutcome(
      (s) => s.cache.shrinker.scan({ nid: 1, nrToScan: v as number }),
      countOutcome(
        name,
        v,
        "nrToScan",
        (s) => s.cache.shrinker.scan({ nid: 1, nrToScan: 0 }),
        (s) => s.cache.shrinker.scan({ nid: 1, nrToScan: MAX }),
      ),
    );
  });

  test.each(HOSTILE)("scan({ nid: %s, nrToScan: 1 })", (name, v) => {
    expectOutcome(
      (s) => s.cache.shrinker.scan({ nid: v as number, nrToScan: 1 }),
      controlNodeOutcome(name, v, (s) => s.cache.shrinker.scan({ nid: 0, nrToScan: 1 })),
    );
  });

  test("scan with a missing or any-node nid used to shrink every node; it is refused like count's", () => {
    expectOutcome((s) => s.cache.shrinker.scan({ nrToScan: 600 } as never), refuse(ErrorCode.InvalidArgument, "nid must be an integer, got undefined"));
    expectOutcome((s) => s.cache.shrinker.scan({ nid: -1, nrToScan: 600 }), refuse(ErrorCode.OutOfRange, "nid must be in [0, 1023], got -1"));
    // A real node is shrunk alone: node 0 has nothing freeable (the partial block is pinned), node 1 its free block.
    expectOutcome(
      (s) => s.cache.shrinker.scan({ nid: 0, nrToScan: 600 }),
      legit("shrink(600, 0), nothing freed: SHRINK_STOP", (t) => (expect(t.cache.shrink(600, 0)).toBe(0), SHRINK_STOP)),
    );
    expectOutcome(
      (s) => s.cache.shrinker.scan({ nid: 1, nrToScan: 600 }),
      legit("shrink(600, 1)", (t) => (expect(t.cache.shrink(600, 1)).toBe(512), 512)),
    );
  });
});

// ---------------------------------------------------------------------------------------------
// The constructor.

describe("new PteMappedCache(options)", () => {
  const map = MemoryMap.uniform(8 * MiB);
  const parts = () => ({ source: new FakePageSource(map.presentPages), directMap: new DirectMap(map, { largestLeaf: "2M" }) });

  function expectConstruct(make: () => PteMappedCache, outcome: { code: string; mentions: string } | { why: string }): void {
    if ("why" in outcome) {
      const cache = make();
      expect(cache.alloc()).toBe(0);
      cache.check();
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

  test.each(HOSTILE)("options %s", (name, v) => {
    const outcome =
      name === "{}" || name === "[]"
        ? { code: ErrorCode.InvalidArgument, mentions: "source must have allocPages and freePages, got undefined" }
        : { code: ErrorCode.InvalidArgument, mentions: `options must be an object, got ${describeValue(v)}` };
    expectConstruct(() => new PteMappedCache(v as never), outcome);
  });

  test("source, directMap: each hostile value", () => {
    for (const [, v] of HOSTILE) {
      expectConstruct(() => new PteMappedCache({ ...parts(), source: v as never }), { code: ErrorCode.InvalidArgument, mentions: `source must have allocPages and freePages, got ${describeValue(v)}` });
      expectConstruct(() => new PteMappedCache({ ...parts(), directMap: v as never }), { code: ErrorCode.InvalidArgument, mentions: `directMap must have splitToPages and collapse, got ${describeValue(v)}` });
    }
  });

  test("shrinkerHost, nodeOf: each hostile value", () => {
    for (const [name, v] of HOSTILE) {
      const absent = name === "undefined";
      expectConstruct(() => new PteMappedCache({ ...parts(), shrinkerHost: v as never }), absent ? { why: "no host" } : { code: ErrorCode.InvalidArgument, mentions: `shrinkerHost must have register and unregister, got ${describeValue(v)}` });
      expectConstruct(() => new PteMappedCache({ ...parts(), nodeOf: v as never }), absent ? { why: "every page on node 0" } : { code: ErrorCode.InvalidArgument, mentions: `nodeOf must be a function, got ${describeValue(v)}` });
    }
  });

  test("arena: each hostile value", () => {
    for (const [name, v] of HOSTILE) {
      // `??`: null, like undefined, is "not given".
      const outcome =
        name === "undefined" || name === "null"
          ? { why: "the default arena" }
          : { code: ErrorCode.InvalidArgument, mentions: `arena must be an ArrayFactory (a MetadataArena or one with its methods), got ${describeValue(v)}` };
      expectConstruct(() => new PteMappedCache({ ...parts(), arena: v as never }), outcome);
    }
  });

  test("splitBlocks: each hostile value", () => {
    for (const [name, v] of HOSTILE) {
      const outcome = name === "undefined" ? { why: "off" } : { code: ErrorCode.InvalidArgument, mentions: `splitBlocks must be a boolean, got ${describeValue(v)}` };
      expectConstruct(() => new PteMappedCache({ ...parts(), splitBlocks: v as never }), outcome);
    }
  });

  test("name: each hostile value", () => {
    for (const [name, v] of HOSTILE) {
      const outcome =
        name === "undefined" || name === "null"
          ? { why: 'not given: "pte-cache"' }
          : typeof v === "string"
            ? { why: "a string is a name" }
            : { code: ErrorCode.InvalidArgument, mentions: `name must be a string, got ${describeValue(v)}` };
      expectConstruct(() => new PteMappedCache({ ...parts(), name: v as never }), outcome);
    }
  });

  test("a refused option leaves the host without a registration", () => {
    const host = new ListHost();
    expect(() => new PteMappedCache({ ...parts(), shrinkerHost: host, splitBlocks: "yes" as never })).toThrow(MmkitError);
    expect(() => new PteMappedCache({ ...parts(), shrinkerHost: host, arena: {} as never })).toThrow(MmkitError);
    expect(host.shrinkers).toEqual([]);
  });
});

// ---------------------------------------------------------------------------------------------
// Random hostile calls after random operations.

type PrefixOp = { kind: "alloc"; nid: number } | { kind: "free"; pick: number } | { kind: "shrink"; pages: number; nid: number } | { kind: "fail9"; on: boolean };

const prefixArb: fc.Arbitrary<PrefixOp[]> = fc.array(
  fc.oneof(
    { weight: 8, arbitrary: fc.record({ kind: fc.constant("alloc" as const), nid: fc.integer({ min: -1, max: 1 }) }) },
    { weight: 5, arbitrary: fc.record({ kind: fc.constant("free" as const), pick: fc.nat() }) },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant("shrink" as const), pages: fc.integer({ min: 0, max: 700 }), nid: fc.integer({ min: -1, max: 1 }) }) },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant("fail9" as const), on: fc.boolean() }) },
  ),
  { maxLength: 80 },
);

/** Refused in every numeric position (the tables above give -0, -1, undefined and the largest safe integer). */
const ALWAYS_REFUSED = HOSTILE.filter(([name]) => !["-0", "-1", "undefined", "MAX_SAFE_INTEGER"].includes(name));

const TARGETS = ["alloc", "free", "adopt", "pageState", "tracksRegionOf", "shrink.pages", "shrink.nid", "freeablePages", "count.sc", "count.nid", "scan.sc", "scan.nid", "scan.nrToScan", "free.cached", "free.untracked", "adopt.inUse"] as const;

describe("random hostile calls after random operations", () => {
  test("every target, every always-refused value", () => {
    fc.assert(
      fc.property(prefixArb, fc.constantFrom(...TARGETS), fc.constantFrom(...ALWAYS_REFUSED), fc.nat(), (ops, target, [name, v], pick) => {
        const host = new ListHost();
        const sys = { ...makeSystem({ mib: 8, nodes: 2, host }), host };
        const inUse: number[] = [];
        for (const op of ops) {
          if (op.kind === "alloc") {
            const p = sys.cache.alloc(op.nid);
            if (p >= 0) inUse.push(p);
          } else if (op.kind === "free" && inUse.length > 0) {
            sys.cache.free(inUse.splice(op.pick % inUse.length, 1)[0]!);
          } else if (op.kind === "shrink") sys.cache.shrink(op.pages, op.nid);
          else if (op.kind === "fail9") sys.source.failOrder9 = op.on;
        }
        sys.cache.check();
        const c = sys.cache;
        const d = describeValue(v);
        const isObject = name === "{}" || name === "[]";
        let call: () => unknown;
        let code: string;
        let mentions: string;
        switch (target) {
          case "alloc":
            [call, code, mentions] = [() => c.alloc(v as number), ErrorCode.InvalidArgument, `nid must be an integer, got ${d}`];
            break;
          case "free":
          case "adopt":
          case "pageState":
          case "tracksRegionOf":
            [call, code, mentions] = [() => c[target](v as number), ErrorCode.InvalidArgument, `pfn must be an integer, got ${d}`];
            break;
          case "shrink.pages":
            [call, code, mentions] = [() => c.shrink(v as number, pick % 2), ErrorCode.InvalidArgument, `pages must be an integer, got ${d}`];
            break;
          case "shrink.nid":
            [call, code, mentions] = [() => c.shrink(pick % 1000, v as number), ErrorCode.InvalidArgument, `nid must be an integer, got ${d}`];
            break;
          case "freeablePages":
            [call, code, mentions] = [() => c.freeablePages(v as number), ErrorCode.InvalidArgument, `nid must be an integer, got ${d}`];
            break;
          case "count.sc":
            [call, code, mentions] = [() => c.shrinker.count(v as never), ErrorCode.InvalidArgument, isObject ? "nid must be an integer, got undefined" : `shrink control must be an object, got ${d}`];
            break;
          case "scan.sc":
            [call, code, mentions] = [() => c.shrinker.scan(v as never), ErrorCode.InvalidArgument, isObject ? "nrToScan must be an integer, got undefined" : `shrink control must be an object, got ${d}`];
            break;
          case "count.nid":
            [call, code, mentions] = [() => c.shrinker.count({ nid: v as number }), ErrorCode.InvalidArgument, `nid must be an integer, got ${d}`];
            break;
          case "scan.nid":
            [call, code, mentions] = [() => c.shrinker.scan({ nid: v as number, nrToScan: 1 + (pick % 600) }), ErrorCode.InvalidArgument, `nid must be an integer, got ${d}`];
            break;
          case "scan.nrToScan":
            [call, code, mentions] = [() => c.shrinker.scan({ nid: pick % 2, nrToScan: v as number }), ErrorCode.InvalidArgument, `nrToScan must be an integer, got ${d}`];
            break;
          case "free.cached": {
            // A page free in the cache: a double free, whether it was handed out before or not.
            const cached = c.regions().flatMap((r) => Array.from({ length: 512 }, (_, i) => r.pfn + i)).filter((p) => c.pageState(p) === 1);
            if (cached.length === 0) return;
            const p = cached[pick % cached.length]!;
            [call, code, mentions] = [() => c.free(p), ErrorCode.DoubleFree, `pfn ${p} is free in the cache already`];
            break;
          }
          case "free.untracked": {
            const p = (pick % 2048) | 0;
            if (c.pageState(p) !== 0) return;
            [call, code, mentions] = [() => c.free(p), ErrorCode.NotAllocated, `pfn ${p} was not handed out by this cache`];
            break;
          }
          case "adopt.inUse": {
            if (inUse.length === 0) return;
            const p = inUse[pick % inUse.length]!;
            [call, code, mentions] = [() => c.adopt(p), ErrorCode.InvalidState, `pfn ${p} was handed out by the cache`];
            break;
          }
        }
        const before = snapshot(sys);
        let error: unknown;
        try {
          call();
        } catch (e) {
          error = e;
        }
        expect(error).toBeInstanceOf(MmkitError);
        expect((error as MmkitError).code).toBe(code);
        expect((error as MmkitError).message).toContain(mentions);
        expect(snapshot(sys)).toEqual(before);
        c.check();
      }),
      { seed: 0x9e7e, numRuns: 200 },
    );
  });
});
