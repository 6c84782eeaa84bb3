import { describe, expect, test } from "vitest";
import { IdTable, TraceError, TraceErrorCode, TraceEventKind as K, TraceParser, parseMmkitLine } from "../../src/trace/index.js";

describe("mmkit line format", () => {
  test("size= rounds up to a power-of-two number of pages, with K/M/G suffixes and the page size option", () => {
    const order = (size: string, pageSize = 4096) => parseMmkitLine(`alloc x size=${size}`, 1, new IdTable(), pageSize)!.order;
    expect([order("1"), order("4096"), order("4097"), order("12K"), order("16K"), order("2M"), order("1G"), order("0x2000")]).toEqual([0, 0, 1, 2, 2, 9, 18, 1]);
    expect(order("64K", 16384)).toBe(2);
  });

  test("trailing comments, tabs and free-form marks", () => {
    const ids = new IdTable();
    expect(parseMmkitLine("\talloc\tbuf-1\torder=3\t# the ring", 4, ids, 4096)).toEqual({ kind: K.Alloc, line: 4, pfn: -1, id: 0, order: 3, count: 1, text: "" });
    expect(parseMmkitLine("mark  snapshot#1 taken # a comment", 5, ids, 4096)).toMatchObject({ kind: K.Marker, text: "snapshot#1 taken" });
    expect(parseMmkitLine("phase  warm up  ", 6, ids, 4096)).toMatchObject({ kind: K.Marker, text: "PHASE warm up" });
    expect(parseMmkitLine("   # only a comment", 7, ids, 4096)).toBeNull();
    expect(ids.live).toBe(1);
  });

  const bad: [string, string][] = [
    ["allocate a order=1", 'unknown op "allocate" (expected alloc, free, phase or mark)'],
    ["alloc order=1", "alloc needs an id before its fields"],
    ["alloc a", "alloc a needs order=<n> or size=<bytes>"],
    ["alloc a order=x", 'order="x" must be an integer in [0, 30]'],
    ["alloc a order=31", 'order="31" must be an integer in [0, 30]'],
    ["alloc a order=", 'order="" must be an integer in [0, 30]'],
    ["alloc a size=0", 'size="0" must be a positive byte count'],
    ["alloc a size=1.5K", 'size="1.5K" must be a positive byte count'],
    ["alloc a size=8T", 'size="8T" must be a positive byte count'],
    ["alloc a size=4096G", "size=4096G needs order 32, above 30"],
    ["alloc a order=1 order=2", 'unexpected "order=2" after alloc a'],
    ["alloc a order=1 extra", 'unexpected "extra" after alloc a'],
    ["free a size=4K", 'unexpected "size=4K" after free a'],
    ["free", "free needs an id before its fields"],
    ["phase", "phase needs a name"],
  ];
  test.each(bad)("%j is an error naming the line", (line, reason) => {
    const ids = new IdTable();
    ids.forAlloc("a");
    try {
      parseMmkitLine(line, 9, ids, line.includes("4096G") ? 1024 : 4096);
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(TraceError);
      expect((e as TraceError).code).toBe(TraceErrorCode.Malformed);
      expect((e as TraceError).line).toBe(9);
      expect((e as Error).message.startsWith(`line 9: ${reason}`)).toBe(true);
      expect((e as Error).message.endsWith(`: ${JSON.stringify(line)}`)).toBe(true);
    }
    expect(ids.live).toBe(1); // a bad line numbers no id and forgets none
  });

  test("auto-detection: the first significant line decides, and a kernel line after it is an error", () => {
    const parser = new TraceParser();
    expect(parser.line("# my trace")).toBeNull();
    expect(parser.format).toBeNull();
    parser.line("phase one");
    expect(parser.format).toBe("mmkit");
    expect(() => parser.line("  x-1 [000] 1.0: mm_page_free: page=0 pfn=1 order=0")).toThrow(/line 3: unknown op "x-1"/);
    const kernel = new TraceParser({ format: "kernel" });
    expect(kernel.line("alloc a order=1")).toBeNull(); // forced kernel format: no event on this line
    expect(kernel.summary().unrecognizedLines).toBe(1);
  });

  test("a last mmkit line without a newline is fine (hand-written files)", () => {
    const parser = new TraceParser();
    expect(parser.line("alloc a order=0", false)).toMatchObject({ kind: K.Alloc, order: 0 });
  });
});
