import fc from "fast-check";
import { describe, expect, test } from "vitest";
import { ErrorCode, MmkitError } from "@mmkit/physmem";
import {
  MAX_MEMDESC_HANDLE,
  MemdescType,
  MiscSubtype,
  decodeMisc,
  encodeMemdesc,
  encodeMisc,
  isMemdesc,
  memdescHandle,
  memdescType,
  memdescTypeName,
} from "@mmkit/memdesc-lookup";

describe("the 8-byte memdesc", () => {
  test("type in bits 0-3 over a 16-byte-aligned handle", () => {
    const d = encodeMemdesc(MemdescType.Slab, 0x1230);
    expect(d).toBe(0x1235);
    expect(memdescType(d)).toBe(5);
    expect(memdescHandle(d)).toBe(0x1230);
    expect(memdescTypeName(memdescType(d))).toBe("slab");
    expect(encodeMemdesc(MemdescType.PerCpu, MAX_MEMDESC_HANDLE)).toBe(2 ** 53 - 6);
    expect(memdescType(2 ** 53 - 6)).toBe(10);
  });

  test("round-trips every type over any aligned handle", () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 15 }), fc.integer({ min: 0, max: MAX_MEMDESC_HANDLE / 16 }), (type, slot) => {
        const d = encodeMemdesc(type, slot * 16);
        expect(memdescType(d)).toBe(type);
        expect(memdescHandle(d)).toBe(slot * 16);
        expect(isMemdesc(d)).toBe(true);
      }),
      { numRuns: 300 },
    );
  });

  test("the types of the memdesc plan", () => {
    expect(Object.entries(MemdescType).map(([k, v]) => `${v}:${k}`)).toEqual([
      "0:Misc",
      "1:Buddy",
      "2:File",
      "3:Anon",
      "4:Ksm",
      "5:Slab",
      "6:Movable",
      "7:PageTable",
      "8:NetPool",
      "9:HwPoison",
      "10:PerCpu",
    ]);
    expect(memdescTypeName(7)).toBe("page-table");
    expect(memdescTypeName(12)).toBe("type-12");
  });

  test("misc memdescs carry subtype, mappable bit and order in the word", () => {
    const d = encodeMisc(MiscSubtype.Guard, 2);
    expect(d).toBe((4 << 4) | (2 << 12));
    expect(memdescType(d)).toBe(MemdescType.Misc);
    expect(decodeMisc(d)).toEqual({ subtype: 4, order: 2, mappable: false });
    expect(decodeMisc(encodeMisc(MiscSubtype.ZeroPage, 9, true))).toEqual({ subtype: 1, order: 9, mappable: true });
    expect(encodeMisc(MiscSubtype.Reserved)).toBe(0);
  });

  test("misuse", () => {
    const cases: Array<[() => unknown, string, string]> = [
      [() => encodeMemdesc(2, 0x1238), ErrorCode.NotAligned, "handle 4664 is not 16-byte aligned"],
      [() => encodeMemdesc(16, 0), ErrorCode.OutOfRange, "16"],
      [() => encodeMemdesc(-1, 0), ErrorCode.OutOfRange, "-1"],
      [() => encodeMemdesc(1.5, 0), ErrorCode.InvalidArgument, "1.5"],
      [() => encodeMemdesc(1, 2 ** 53), ErrorCode.OutOfRange, String(2 ** 53)],
      [() => encodeMemdesc(1, -16), ErrorCode.OutOfRange, "-16"],
      [() => encodeMemdesc(1, NaN), ErrorCode.InvalidArgument, "NaN"],
      [() => encodeMisc(128), ErrorCode.OutOfRange, "128"],
      [() => encodeMisc(1, 64), ErrorCode.OutOfRange, "64"],
      [() => decodeMisc(encodeMemdesc(MemdescType.File, 32)), ErrorCode.InvalidArgument, "34"],
    ];
    for (const [fn, code, text] of cases) {
      let caught: unknown;
      try {
        fn();
      } catch (e) {
        caught = e;
      }
      expect(caught).toBeInstanceOf(MmkitError);
      expect((caught as MmkitError).code).toBe(code);
      expect((caught as MmkitError).message).toContain(text);
    }
  });
});
