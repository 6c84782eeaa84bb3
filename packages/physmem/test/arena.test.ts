import { describe, expect, test } from "vitest";
import { ErrorCode, MetadataArena, MmkitError, ProbingArena } from "../src/index.js";

describe("MetadataArena", () => {
  test("counts live and peak bytes per label, and releases", () => {
    const arena = new MetadataArena();
    const a = arena.int32(1000, "next");
    const b = arena.float64(10, "pivots");
    arena.uint8(3, "next");
    expect(arena.bytes).toBe(4083);
    expect(arena.byLabel()).toEqual({ next: 4003, pivots: 80 });
    arena.release(a);
    expect(arena.bytes).toBe(83);
    expect(arena.peakBytes).toBe(4083);
    expect(arena.allocations).toBe(3);
    expect(arena.labelBytes("next")).toBe(3);
    expect(() => arena.release(a)).toThrowError(expect.objectContaining({ code: ErrorCode.NotAllocated }));
    expect(() => arena.release(new Int32Array(4))).toThrowError(MmkitError);
    expect(b).toBeInstanceOf(Float64Array);
  });

  test("sealing forbids allocation and nests", () => {
    const arena = new MetadataArena();
    arena.seal();
    arena.seal();
    arena.unseal();
    expect(arena.sealed).toBe(true);
    expect(() => arena.int32(1, "x")).toThrowError(expect.objectContaining({ code: ErrorCode.ArenaSealed, message: expect.stringMatching(/"x"/) }));
    arena.unseal();
    expect(arena.sealWhile(() => 42)).toBe(42);
    expect(arena.int32(1, "x").length).toBe(1);
    expect(() => arena.unseal()).toThrowError(expect.objectContaining({ code: ErrorCode.InvalidState }));
    expect(arena.bytes).toBe(4);
  });

  test("shared arenas hand out arrays over SharedArrayBuffer", () => {
    const arena = new MetadataArena({ shared: true });
    expect(arena.uint32(8, "s").buffer).toBeInstanceOf(SharedArrayBuffer);
  });

  test("bad lengths are typed errors and count nothing", () => {
    const arena = new MetadataArena();
    for (const n of [-1, 1.5, Number.NaN]) {
      expect(() => arena.int32(n, "bad")).toThrowError(expect.objectContaining({ code: ErrorCode.InvalidArgument, message: expect.stringContaining(String(n)) }));
    }
    expect(arena.bytes).toBe(0);
    expect(arena.allocations).toBe(0);
  });
});

describe("ProbingArena", () => {
  test("counts distinct 64-byte lines per window, arrays never share a line", () => {
    const probe = new ProbingArena();
    const a = probe.int32(100, "a"); // 400 bytes -> 7 lines
    const b = probe.uint8(10, "b"); // starts on a fresh line
    const r = probe.measure(() => {
      a[0] = 1;
      a[15] = a[0]!;
      a[16] = 2;
      b[0] = 1;
      return a[99];
    });
    expect(r.lines).toBe(4);
    expect(r.linesWritten).toBe(3);
    expect(r.reads).toBe(2);
    expect(r.writes).toBe(4);
    expect(r.linesByLabel).toEqual({ a: 3, b: 1 });
    expect(r.value).toBe(0);
  });

  test("nothing is recorded outside a window; ranges from methods are counted", () => {
    const probe = new ProbingArena();
    const a = probe.float64(64, "f"); // 8 elements per line
    a[3] = 1;
    probe.begin();
    a.fill(7, 8, 24); // lines 1 and 2
    expect(probe.end().lines).toBe(2);
    probe.begin();
    const sub = a.subarray(40, 48); // line 5
    sub[1] = 2;
    expect(a[41]).toBe(2);
    expect(probe.end()).toMatchObject({ lines: 1, writes: 1, reads: 1 });
    probe.begin();
    a.set([1, 2, 3], 61); // elements 61..63: all on line 7
    expect(probe.end()).toMatchObject({ lines: 1, writes: 3 });
    probe.begin();
    a.set([1, 2], 55); // elements 55 and 56 straddle lines 6 and 7
    expect(probe.end().lines).toBe(2);
  });

  test("end without begin is an error", () => {
    expect(() => new ProbingArena().end()).toThrowError(expect.objectContaining({ code: ErrorCode.InvalidState }));
  });

  test("probed arrays still count bytes like a plain arena", () => {
    const probe = new ProbingArena();
    const a = probe.uint16(10, "u");
    expect(probe.bytes).toBe(20);
    probe.release(a);
    expect(probe.bytes).toBe(0);
  });
});
