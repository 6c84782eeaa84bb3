import { describe, expect, test } from "vitest";
import { ErrorCode, GiB, MemoryMap, MiB, MmkitError, TiB } from "../src/index.js";

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (e) {
    if (e instanceof MmkitError) return e.code;
    throw e;
  }
  return undefined;
}

describe("MemoryMap", () => {
  test("ranges are sorted, touching ranges of one node merge, nodes are summarised", () => {
    const map = new MemoryMap({
      ranges: [
        { base: 4 * GiB, size: GiB, node: 1 },
        { base: 0, size: 640 * 1024, node: 0 },
        { base: MiB, size: GiB - MiB, node: 0 },
        { base: GiB, size: GiB, node: 0 }, // touches the previous one: merged
      ],
    });
    expect(map.ranges).toEqual([
      { startPfn: 0, endPfn: 160, node: 0 },
      { startPfn: 256, endPfn: 524288, node: 0 },
      { startPfn: 1048576, endPfn: 1310720, node: 1 },
    ]);
    expect(map.presentPages).toBe(160 + 524032 + 262144);
    expect(map.spannedPages).toBe(1310720);
    expect(map.nodes.map((n) => [n.id, n.startPfn, n.endPfn, n.presentPages, n.ranges])).toEqual([
      [0, 0, 524288, 524192, [0, 1]],
      [1, 1048576, 1310720, 262144, [2]],
    ]);
  });

  test("pfnValid, nodeOf and rangeIndexOf at every boundary", () => {
    const map = new MemoryMap({ ranges: [{ base: 0, size: 16 * 4096 }, { base: 32 * 4096, size: 16 * 4096, node: 3 }] });
    expect([0, 15, 16, 31, 32, 47, 48].map((p) => map.pfnValid(p))).toEqual([true, true, false, false, true, true, false]);
    expect([0, 15, 16, 32, 47, 48, -1, 1.5, Number.NaN].map((p) => map.nodeOf(p))).toEqual([0, 0, -1, 3, 3, -1, -1, -1, -1]);
    expect([15, 16, 40].map((p) => map.rangeIndexOf(p))).toEqual([0, -1, 1]);
    expect(map.isContiguousRam(8, 8)).toBe(true);
    expect(map.isContiguousRam(8, 9)).toBe(false);
    expect(map.pfnToAddress(3)).toBe(12288);
    expect(map.addressToPfn(12289)).toBe(3);
  });

  test("1.5 TiB is representable without per-page memory", () => {
    const map = new MemoryMap({ ranges: [{ base: 0, size: 1.5 * TiB }] });
    expect(map.presentPages).toBe(402653184);
    expect(map.pfnValid(402653183)).toBe(true);
    expect(map.pfnValid(402653184)).toBe(false);
  });

  test("uniform builds nodes with holes", () => {
    const map = MemoryMap.uniform(64 * MiB, { nodes: 2, holeBytes: 2 * MiB });
    expect(map.ranges).toEqual([
      { startPfn: 0, endPfn: 8192, node: 0 },
      { startPfn: 8704, endPfn: 16896, node: 1 },
    ]);
    expect(map.describe().split("\n")[1]).toBe("node 1: [mem 0x2200000-0x41fffff] 8192 pages");
  });

  test("other page sizes", () => {
    const map = new MemoryMap({ pageSize: 512, ranges: [{ base: 0, size: 1 << 20 }] });
    expect(map.pageShift).toBe(9);
    expect(map.presentPages).toBe(2048);
  });

  test("bad input is a typed error naming the value", () => {
    const cases: [unknown, string, RegExp][] = [
      [{ ranges: [] }, ErrorCode.InvalidArgument, /at least one/],
      [{ ranges: [{ base: 100, size: 4096 }] }, ErrorCode.NotAligned, /base 100/],
      [{ ranges: [{ base: 0, size: 4097 }] }, ErrorCode.NotAligned, /size 4097/],
      [{ ranges: [{ base: 0, size: 0 }] }, ErrorCode.OutOfRange, /got 0/],
      [{ ranges: [{ base: Number.NaN, size: 4096 }] }, ErrorCode.InvalidArgument, /got NaN/],
      [{ ranges: [{ base: -4096, size: 4096 }] }, ErrorCode.OutOfRange, /got -4096/],
      [{ ranges: [{ base: 0, size: 4096.5 }] }, ErrorCode.InvalidArgument, /4096.5/],
      [{ ranges: [{ base: 0, size: 8192 }, { base: 4096, size: 8192 }] }, ErrorCode.Overlap, /overlaps/],
      [{ pageSize: 3000, ranges: [{ base: 0, size: 4096 }] }, ErrorCode.InvalidArgument, /3000/],
      [{ ranges: [{ base: 2 ** 53 - 4096, size: 8192 }] }, ErrorCode.OutOfRange, /beyond 2\^53/],
      [{ ranges: [{ base: 2 ** 53, size: 4096 }] }, ErrorCode.InvalidArgument, /9007199254740992/],
      [{ ranges: [{ base: 0, size: 4096, node: -1 }] }, ErrorCode.OutOfRange, /node/],
      [null, ErrorCode.InvalidArgument, /object/],
    ];
    for (const [options, code, message] of cases) {
      let error: unknown;
      try {
        new MemoryMap(options as never);
      } catch (e) {
        error = e;
      }
      expect(error, JSON.stringify(options)).toBeInstanceOf(MmkitError);
      expect((error as MmkitError).code).toBe(code);
      expect((error as MmkitError).message).toMatch(message);
    }
    const map = MemoryMap.uniform(MiB);
    expect(codeOf(() => map.requireRam(256))).toBe(ErrorCode.NotRam);
    expect(codeOf(() => map.requireRam(-1))).toBe(ErrorCode.OutOfRange);
    expect(codeOf(() => map.requireRam("3"))).toBe(ErrorCode.InvalidArgument);
  });
});

describe("formatBytes", () => {
  test("keeps significant zeros and trims only decimals", async () => {
    const { formatBytes, MiB: M, KiB } = await import("../src/index.js");
    expect(formatBytes(310 * M + 4 * KiB)).toBe("310 MiB");
    expect(formatBytes(100.2 * M)).toBe("100 MiB");
    expect(formatBytes(1.5 * 1024 ** 4)).toBe("1.5 TiB");
    expect(formatBytes(10.25 * KiB)).toBe("10.3 KiB");
    expect(formatBytes(2048)).toBe("2 KiB");
    expect(formatBytes(1000)).toBe("1000 B");
    expect(formatBytes(1.004 * M)).toBe("1 MiB");
  });
});
