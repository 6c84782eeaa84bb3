/**
 * Adversarial bad-input sweep: every public method of `FragmentCache`, every argument position, each
 * hostile value, against a cache in a non-trivial state (a retired block with live fragments and a
 * freed one, a current block with a live and a freed fragment). Each call is either legitimate (the
 * reason is written next to it, and the call does exactly what the same call with the canonical
 * value does on a twin cache) or a typed `MmkitError` with one of the package's documented codes and
 * a message naming the value, after which every observable of the cache is what it was before.
 */
import fc from "fast-check";
import { describe, expect, test } from "vitest";
import { ErrorCode, MetadataArena, MmkitError, PhysicalMemory, describeValue } from "@mmkit/physmem";
import { FragmentCache, type FragmentCacheOptions } from "@mmkit/frag-cache";
import { FakePageSource } from "./fake-page-source.js";
import { HOSTILE_VALUES, expectCallOutcome, type CallOutcome } from "@mmkit/test-support";

/** The codes the README documents for misuse. */
const DOCUMENTED = new Set<string>([
  ErrorCode.InvalidArgument,
  ErrorCode.OutOfRange,
  ErrorCode.NotAllocated,
  ErrorCode.DoubleFree,
  ErrorCode.InvalidState,
  ErrorCode.ArenaSealed,
]);

/** Hostile values for any argument position, by name. */
const HOSTILE = HOSTILE_VALUES;

type Mode = "plain" | "poison";

/**
 * The cache under test, built by the same steps every time (so a twin is the same state):
 * block 0 (pfn 0) retired holding a (0, 112 bytes), c (320, 304) and d (624, 30000); b (112) freed.
 * Block 1 (pfn 8) current holding e (32768, 4000) and f (36768, 64); g (36832) freed.
 */
function build(mode: Mode) {
  const source = new FakePageSource(64);
  const arena = new MetadataArena();
  const machine = new PhysicalMemory({ ranges: [{ base: 0, size: 64 * 4096 }], backing: "array" });
  const options: FragmentCacheOptions = mode === "poison" ? { arena, backing: machine, poison: true } : { arena, backing: machine, clearOnFree: true };
  const cache = new FragmentCache(source, options);
  const a = cache.alloc(100);
  const b = cache.alloc(200);
  const c = cache.alloc(300, 64);
  const d = cache.alloc(30000);
  cache.free(b);
  const e = cache.alloc(4000);
  const f = cache.alloc(64);
  const g = cache.alloc(16);
  cache.free(g);
  for (const [i, x] of [a, c, d, e, f].entries()) cache.view(x).fill(i + 1);
  expect([a, b, c, d, e, f, g]).toEqual([0, 112, 320, 624, 32768, 36768, 36832]);
  cache.check();
  return { mode, source, arena, machine, cache, a, b, c, d, e, f, g };
}
type Sys = ReturnType<typeof build>;

/** Everything observable: counters, blocks, the live set and sizes at every granule, source calls, metadata, bytes. */
function snapshot(s: Sys) {
  const live: string[] = [];
  for (let x = 0; x < 2 * 32768; x += 16) if (s.cache.isLive(x)) live.push(`${x}:${s.cache.sizeOf(x)}`);
  return {
    stats: s.cache.stats(),
    blocks: s.cache.blocks(),
    current: s.cache.currentBlock(),
    live,
    sourceLog: s.source.log.slice(),
    outstanding: s.source.outstanding,
    metadata: s.arena.byLabel(),
    bytes: bytesDigest(s.machine.bytes(0, 64 * 4096)),
  };
}

/** A digest of the bytes (two independent 32-bit hashes and the length), so snapshots compare them cheaply. */
function bytesDigest(bytes: Uint8Array): string {
  let h1 = 0x811c9dc5;
  let h2 = 0x9e3779b1;
  for (let i = 0; i < bytes.length; i++) {
    h1 = Math.imul(h1 ^ bytes[i]!, 0x01000193);
    h2 = Math.imul(h2 + bytes[i]! + i, 0x85ebca6b) ^ (h2 >>> 13);
  }
  return `${bytes.length}:${(h1 >>> 0).toString(16)}:${(h2 >>> 0).toString(16)}`;
}

/** Refused with this code (or one of these), the message naming the value as `mentions`; or legitimate, as `same` on a twin. */
type Outcome = CallOutcome<Sys>;

const refuse = (code: string | string[], mentions: string): Outcome => ({ code, mentions });
const legit = (why: string, same: (s: Sys) => unknown): Outcome => ({ why, same });

/** Runs `call` on a fresh cache and asserts `outcome`. */
function expectOutcome(mode: Mode, call: (s: Sys) => unknown, outcome: Outcome): void {
  expectCallOutcome({ make: () => build(mode), state: snapshot, check: (s) => s.cache.check() }, call, outcome, DOCUMENTED);
}

/**
 * 2^53 - 1 is not a power of two, but physmem's `isPowerOfTwo` took it for one until physmem fixed
 * it (its log2 rounds to 53): then it is refused as too large rather than as not a power of two.
 * Either way a typed error naming the value.
 */
const MAX_SAFE_POW2_CODES = [ErrorCode.InvalidArgument, ErrorCode.OutOfRange];

// ---------------------------------------------------------------------------------------------
// What each argument position does with each hostile value.

/** An address argument (`free`, `sizeOf`, `view`'s first): the lookup of `free`. */
function addressOutcome(name: string, v: unknown, canonical: (s: Sys, address: number) => unknown): Outcome {
  switch (name) {
    case "-0":
      // -0 is the number 0, the address of fragment a.
      return legit("-0 is address 0", (s) => canonical(s, 0));
    case "-1":
    case "MAX_SAFE_INTEGER":
      // Integers, so well-formed addresses; the cache never handed them out.
      return refuse(ErrorCode.NotAllocated, `address ${describeValue(v)} is not a live fragment's address`);
    default:
      return refuse(ErrorCode.InvalidArgument, `address must be an integer byte address, got ${describeValue(v)}`);
  }
}

/** `alloc`'s size. */
function sizeOutcome(name: string, v: unknown): Outcome {
  switch (name) {
    case "-0": // -0 is 0, below 1 (the template prints it as 0)
      return refuse(ErrorCode.OutOfRange, "size must be at least 1 byte, got 0");
    case "-1":
      return refuse(ErrorCode.OutOfRange, "size must be at least 1 byte, got -1");
    case "MAX_SAFE_INTEGER":
      return refuse(ErrorCode.OutOfRange, `size ${Number.MAX_SAFE_INTEGER} cannot fit a 32768-byte block`);
    default:
      return refuse(ErrorCode.InvalidArgument, `size must be an integer number of bytes, got ${describeValue(v)}`);
  }
}

/** `alloc`'s align. */
function alignOutcome(name: string, v: unknown): Outcome {
  if (name === "undefined") return legit("an absent align is the default, 1", (s) => s.cache.alloc(64));
  if (name === "MAX_SAFE_INTEGER") return refuse(MAX_SAFE_POW2_CODES, String(Number.MAX_SAFE_INTEGER));
  return refuse(ErrorCode.InvalidArgument, `align must be a power of two, got ${describeValue(v)}`);
}

/** `view`'s length, for fragment a (112 bytes). */
function lengthOutcome(name: string, v: unknown): Outcome {
  if (name === "undefined") return legit("an absent length is the whole fragment", (s) => s.cache.view(s.a));
  if (name === "-0") return legit("-0 is a length of 0 bytes", (s) => s.cache.view(s.a, 0));
  // Documented: "ERR_OUT_OF_RANGE for a length that is not an integer from 0 to the fragment's size".
  return refuse(ErrorCode.OutOfRange, `length must be an integer from 0 to the fragment's 112 bytes, got ${describeValue(v)}`);
}

/** A double free's code: poison mode remembers the freed fragment. */
function freedCode(mode: Mode): string {
  return mode === "poison" ? ErrorCode.DoubleFree : ErrorCode.NotAllocated;
}

describe.each<Mode>(["plain", "poison"])("FragmentCache methods, %s mode", (mode) => {
  describe("alloc(size, align)", () => {
    test.each(HOSTILE)("size %s", (name, v) => {
      expectOutcome(mode, (s) => s.cache.alloc(v as number), sizeOutcome(name, v));
    });
    test.each(HOSTILE)("align %s", (name, v) => {
      expectOutcome(mode, (s) => s.cache.alloc(64, v as number), alignOutcome(name, v));
    });
    test("the size is checked before the align: both bad names the size", () => {
      expectOutcome(mode, (s) => s.cache.alloc(BigInt(64) as never, BigInt(3) as never), refuse(ErrorCode.InvalidArgument, "size must be an integer number of bytes, got 64n"));
    });
  });

  describe("free(address)", () => {
    test.each(HOSTILE)("%s", (name, v) => {
      expectOutcome(mode, (s) => s.cache.free(v as number), addressOutcome(name, v, (s, x) => s.cache.free(x)));
    });
    test.each([
      ["inside a live fragment, not its start (a + 1)", 1],
      ["a granule inside a live fragment (a + 16)", 16],
      ["inside the big live fragment (d + 4096)", 624 + 4096],
      ["inside the current block's live fragment (e + 16)", 32768 + 16],
      ["past the current block's carved part", 36848],
      ["a page the cache does not hold", 16 * 4096],
    ])("%s", (_what, address) => {
      expectOutcome(mode, (s) => s.cache.free(address), refuse(ErrorCode.NotAllocated, `address ${address} is not a live fragment's address`));
    });
    test.each([
      ["in the retired block (b)", 112, 208],
      ["in the current block (g)", 36832, 16],
    ])("a double free %s", (_what, address, size) => {
      const mentions = mode === "poison" ? `double free: the fragment at address ${address} (${size} bytes) was freed already` : `address ${address} is not a live fragment's address`;
      expectOutcome(mode, (s) => s.cache.free(address), refuse(freedCode(mode), mentions));
    });
  });

  describe("sizeOf(address)", () => {
    test.each(HOSTILE)("%s", (name, v) => {
      expectOutcome(mode, (s) => s.cache.sizeOf(v as number), addressOutcome(name, v, (s, x) => s.cache.sizeOf(x)));
    });
    test("an interior and a freed address", () => {
      expectOutcome(mode, (s) => s.cache.sizeOf(s.a + 16), refuse(ErrorCode.NotAllocated, "address 16 is not"));
      expectOutcome(mode, (s) => s.cache.sizeOf(s.b), refuse(freedCode(mode), "112"));
    });
  });

  describe("view(address, length)", () => {
    test.each(HOSTILE)("address %s", (name, v) => {
      expectOutcome(mode, (s) => s.cache.view(v as number), addressOutcome(name, v, (s, x) => s.cache.view(x)));
    });
    test.each(HOSTILE)("length %s", (name, v) => {
      expectOutcome(mode, (s) => s.cache.view(s.a, v as number), lengthOutcome(name, v));
    });
    test("the wrong size for a live fragment: one byte more than it has", () => {
      expectOutcome(mode, (s) => s.cache.view(s.a, 113), refuse(ErrorCode.OutOfRange, "got 113"));
      expectOutcome(mode, (s) => s.cache.view(s.f, 65), refuse(ErrorCode.OutOfRange, "fragment's 64 bytes, got 65"));
      expectOutcome(mode, (s) => s.cache.view(s.a, 112).length, legit("exactly its size is fine", () => 112));
    });
    test("an interior and a freed address, and a bad length with them: the address is reported", () => {
      expectOutcome(mode, (s) => s.cache.view(s.a + 16, 4), refuse(ErrorCode.NotAllocated, "address 16 is not"));
      expectOutcome(mode, (s) => s.cache.view(s.b, Number.NaN), refuse(freedCode(mode), "112"));
    });
  });

  describe("isLive(address): a predicate, false for anything that is not a live fragment's address", () => {
    test.each(HOSTILE)("%s", (name, v) => {
      const outcome = name === "-0" ? legit("-0 is address 0, fragment a", () => true) : legit("not a live fragment's address", () => false);
      expectOutcome(mode, (s) => s.cache.isLive(v as number), outcome);
    });
    test("interior and freed addresses", () => {
      expectOutcome(mode, (s) => [s.cache.isLive(s.a + 16), s.cache.isLive(s.a + 1), s.cache.isLive(s.b), s.cache.isLive(s.g)], legit("none is live", () => [false, false, false, false]));
    });
  });

  describe("methods without parameters ignore extra arguments", () => {
    const calls: [string, (s: Sys, v: unknown) => unknown, (s: Sys) => unknown][] = [
      ["drain", (s, v) => (s.cache.drain as (x: unknown) => void)(v), (s) => s.cache.drain()],
      ["stats", (s, v) => (s.cache.stats as (x: unknown) => unknown)(v), (s) => s.cache.stats()],
      ["blocks", (s, v) => (s.cache.blocks as (x: unknown) => unknown)(v), (s) => s.cache.blocks()],
      ["currentBlock", (s, v) => (s.cache.currentBlock as (x: unknown) => unknown)(v), (s) => s.cache.currentBlock()],
      ["takePoisonReports", (s, v) => (s.cache.takePoisonReports as (x: unknown) => unknown)(v), (s) => s.cache.takePoisonReports()],
      ["check", (s, v) => (s.cache.check as (x: unknown) => void)(v), (s) => s.cache.check()],
    ];
    test.each(calls)("%s", (_name, call, plain) => {
      for (const [, v] of HOSTILE) expectOutcome(mode, (s) => call(s, v), legit("JS ignores arguments a method does not declare", plain));
    });
  });
});

// ---------------------------------------------------------------------------------------------
// The constructor.

describe("new FragmentCache(source, options)", () => {
  const machine = new PhysicalMemory({ ranges: [{ base: 0, size: 1 << 20 }], backing: "array" });

  function expectConstruct(make: () => FragmentCache, outcome: { code: string | string[]; mentions: string } | { why: string }): void {
    if ("why" in outcome) {
      const cache = make();
      expect(cache.alloc(100)).toBe(0); // a working cache with the defaults' geometry
      expect(cache.blockSize).toBe(32768);
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
    expect(Array.isArray(outcome.code) ? outcome.code : [outcome.code]).toContain((error as MmkitError).code);
    expect((error as MmkitError).message).toContain(outcome.mentions);
  }

  test.each(HOSTILE)("source %s", (_name, v) => {
    expectConstruct(() => new FragmentCache(v as never), { code: ErrorCode.InvalidArgument, mentions: `got ${describeValue(v)}` });
  });

  test.each(HOSTILE)("options %s", (name, v) => {
    const source = new FakePageSource(64);
    const outcome =
      name === "undefined"
        ? { why: "absent options are the defaults" }
        : name === "{}" || name === "[]"
          ? { why: "an object with no option set: every default" }
          : { code: ErrorCode.InvalidArgument, mentions: `options must be an object, got ${describeValue(v)}` };
    expectConstruct(() => new FragmentCache(source, v as never), outcome);
  });

  test.each(["pageSize", "blockBytes"] as const)("%s: each hostile value", (option) => {
    for (const [name, v] of HOSTILE) {
      const source = new FakePageSource(64);
      // `??` everywhere in mmkit: null, like undefined, is "not given".
      const outcome =
        name === "undefined" || name === "null"
          ? { why: "not given: the default" }
          : name === "MAX_SAFE_INTEGER"
            ? { code: MAX_SAFE_POW2_CODES, mentions: `got ${Number.MAX_SAFE_INTEGER}` }
            : { code: ErrorCode.InvalidArgument, mentions: `${option} must be a power of two, got ${describeValue(v)}` };
      expectConstruct(() => new FragmentCache(source, { [option]: v } as never), outcome);
    }
  });

  test("backing: each hostile value", () => {
    for (const [name, v] of HOSTILE) {
      const source = new FakePageSource(64);
      const outcome =
        name === "undefined" || name === "null" ? { why: "no backing" } : { code: ErrorCode.InvalidArgument, mentions: `backing must have bytes(address, length), got ${describeValue(v)}` };
      expectConstruct(() => new FragmentCache(source, { backing: v } as never), outcome);
    }
  });

  test("arena: each hostile value", () => {
    for (const [name, v] of HOSTILE) {
      const source = new FakePageSource(64);
      const outcome =
        name === "undefined" || name === "null" ? { why: "the default arena" } : { code: ErrorCode.InvalidArgument, mentions: `arena must be an ArrayFactory (a MetadataArena or one with its methods), got ${describeValue(v)}` };
      expectConstruct(() => new FragmentCache(source, { arena: v } as never), outcome);
    }
  });

  test.each(["zeroOnAlloc", "clearOnFree", "poison"] as const)("%s: each hostile value", (option) => {
    for (const [name, v] of HOSTILE) {
      const source = new FakePageSource(64);
      const outcome = name === "undefined" ? { why: "off" } : { code: ErrorCode.InvalidArgument, mentions: `${option} must be a boolean, got ${describeValue(v)}` };
      expectConstruct(() => new FragmentCache(source, { backing: machine, [option]: v } as never), outcome);
    }
  });

  test("onPoison: each hostile value", () => {
    for (const [name, v] of HOSTILE) {
      const source = new FakePageSource(64);
      const outcome = name === "undefined" ? { why: "reports are kept" } : { code: ErrorCode.InvalidArgument, mentions: `onPoison must be a function, got ${describeValue(v)}` };
      expectConstruct(() => new FragmentCache(source, { backing: machine, poison: true, onPoison: v } as never), outcome);
    }
  });

  test("a junk onPoison used to be stored and called at the first report, mid-recycle: now refused up front", () => {
    expectConstruct(() => new FragmentCache(new FakePageSource(64), { backing: machine, poison: true, onPoison: "log" as never }), {
      code: ErrorCode.InvalidArgument,
      mentions: 'onPoison must be a function, got "log"',
    });
  });
});

// ---------------------------------------------------------------------------------------------
// Random hostile calls after a random prefix of legitimate operations.

type PrefixOp = { kind: "alloc"; size: number; alignLog: number } | { kind: "free"; pick: number } | { kind: "drain" };

const prefixArb = fc.array(
  fc.oneof(
    { weight: 6, arbitrary: fc.record({ kind: fc.constant("alloc" as const), size: fc.integer({ min: 1, max: 9000 }), alignLog: fc.integer({ min: 0, max: 12 }) }) },
    { weight: 4, arbitrary: fc.record({ kind: fc.constant("free" as const), pick: fc.nat() }) },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant("drain" as const) }) },
  ),
  { maxLength: 60 },
);

/** Values refused in every argument position of every method (the explicit tables above give the rest). */
const ALWAYS_REFUSED = HOSTILE.filter(([name]) => !["-0", "undefined", "-1", "MAX_SAFE_INTEGER"].includes(name));

type Target = "alloc.size" | "alloc.align" | "free" | "sizeOf" | "view.address" | "view.length" | "free.interior" | "free.freed";

describe("random hostile calls after random operations", () => {
  test.each<Mode>(["plain", "poison"])("%s mode", (mode) => {
    const targets: Target[] = ["alloc.size", "alloc.align", "free", "sizeOf", "view.address", "view.length", "free.interior", "free.freed"];
    fc.assert(
      fc.property(prefixArb, fc.constantFrom(...targets), fc.constantFrom(...ALWAYS_REFUSED), fc.nat(), fc.nat(), (ops, target, [, v], pick, delta) => {
        const source = new FakePageSource(48);
        const arena = new MetadataArena();
        const machine = new PhysicalMemory({ ranges: [{ base: 0, size: 48 * 4096 }], backing: "array" });
        const cache = new FragmentCache(source, mode === "poison" ? { arena, backing: machine, poison: true } : { arena, backing: machine, clearOnFree: true });
        const live = new Map<number, number>();
        const freed = new Set<number>();
        for (const op of ops) {
          if (op.kind === "alloc") {
            const x = cache.alloc(op.size, 2 ** op.alignLog);
            if (x >= 0) {
              live.set(x, Math.ceil(op.size / 16) * 16);
              freed.delete(x);
              cache.view(x).fill(live.size & 0x7f);
            }
          } else if (op.kind === "free" && live.size > 0) {
            const x = [...live.keys()][op.pick % live.size]!;
            cache.free(x);
            live.delete(x);
            freed.add(x);
          } else if (op.kind === "drain") cache.drain();
        }
        cache.check();
        const state = () => ({
          stats: cache.stats(),
          blocks: cache.blocks(),
          current: cache.currentBlock(),
          live: [...live.keys()].map((x) => cache.isLive(x) && cache.sizeOf(x)),
          log: source.log.length,
          metadata: arena.byLabel(),
          bytes: bytesDigest(machine.bytes(0, 48 * 4096)),
        });
        const liveKeys = [...live.keys()];
        const some = liveKeys.length > 0 ? liveKeys[pick % liveKeys.length]! : -1;
        let call: () => unknown;
        let codes: string[];
        let mentions: string;
        switch (target) {
          case "alloc.size":
            [call, codes, mentions] = [() => cache.alloc(v as number), [ErrorCode.InvalidArgument], describeValue(v)];
            break;
          case "alloc.align":
            [call, codes, mentions] = [() => cache.alloc(1 + (pick % 4000), v as number), [ErrorCode.InvalidArgument], describeValue(v)];
            break;
          case "free":
            [call, codes, mentions] = [() => cache.free(v as number), [ErrorCode.InvalidArgument], describeValue(v)];
            break;
          case "sizeOf":
            [call, codes, mentions] = [() => cache.sizeOf(v as number), [ErrorCode.InvalidArgument], describeValue(v)];
            break;
          case "view.address":
            [call, codes, mentions] = [() => cache.view(v as number, 0), [ErrorCode.InvalidArgument], describeValue(v)];
            break;
          case "view.length":
            if (some < 0) return;
            [call, codes, mentions] = [() => cache.view(some, v as number), [ErrorCode.OutOfRange], describeValue(v)];
            break;
          case "free.interior": {
            if (some < 0) return;
            const x = some + 1 + (delta % (live.get(some)! - 1 || 1));
            if (live.has(x)) return;
            [call, codes, mentions] = [() => cache.free(x), [ErrorCode.NotAllocated], String(x)];
            break;
          }
          case "free.freed": {
            const gone = [...freed].filter((x) => !live.has(x));
            if (gone.length === 0) return;
            const x = gone[pick % gone.length]!;
            // Poison mode remembers a freed fragment until its block is recycled or returned.
            [call, codes, mentions] = [() => cache.free(x), mode === "poison" ? [ErrorCode.DoubleFree, ErrorCode.NotAllocated] : [ErrorCode.NotAllocated], String(x)];
            break;
          }
        }
        const before = state();
        let error: unknown;
        try {
          call();
        } catch (e) {
          error = e;
        }
        expect(error).toBeInstanceOf(MmkitError);
        expect(codes).toContain((error as MmkitError).code);
        expect((error as MmkitError).message).toContain(mentions);
        expect(state()).toEqual(before);
        cache.check();
      }),
      { seed: 0x5eed, numRuns: 300 },
    );
  });
});
