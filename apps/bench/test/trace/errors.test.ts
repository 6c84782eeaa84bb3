import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { ErrorCode, MmkitError } from "@mmkit/physmem";
import { describe, expect, test } from "vitest";
import { TraceError, TraceErrorCode, TraceEventKind, TraceParser, parseTraceFile, parseTraceLines, parseTraceText, readTraceText, type TraceParseSummary } from "../../src/trace/index.js";
import { fixture } from "./helpers.js";

function thrown(fn: () => unknown): TraceError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(TraceError);
    return e as TraceError;
  }
  throw new Error("expected a TraceError");
}

function drain(gen: Generator<unknown, TraceParseSummary>): TraceParseSummary {
  for (;;) {
    const n = gen.next();
    if (n.done === true) return n.value;
  }
}

const HEAD = "  cat-155 [001] ...1. 3.031357: ";

describe("malformed and truncated kernel lines", () => {
  const bad: [string, string, string][] = [
    ["missing pfn", `${HEAD}mm_page_free: page=00000000c8ea8e30 order=1`, "mm_page_free has no pfn= field"],
    ["missing order", `${HEAD}mm_page_free: page=00000000c8ea8e30 pfn=0x1bac`, "mm_page_free has no order= field"],
    ["bad hex digit", `${HEAD}mm_page_free: page=0 pfn=0x1bzz order=0`, 'mm_page_free pfn="0x1bzz" is not a number'],
    ["empty value", `${HEAD}mm_page_alloc: page=0 pfn=0x1baa order= migratetype=0 gfp_flags=GFP_KERNEL`, 'mm_page_alloc order="" is not a number'],
    ["negative order", `${HEAD}mm_page_free: page=0 pfn=12 order=-1`, 'mm_page_free order="-1" is not a number'],
    ["order out of range", `${HEAD}mm_page_free: page=0 pfn=12 order=31`, "mm_page_free order=31 is out of range (at most 30)"],
    ["pfn beyond 2^53", `${HEAD}mm_page_free: page=0 pfn=0xffffffffffffff order=0`, "mm_page_free pfn=0xffffffffffffff is out of range"],
    ["alloc cut before gfp_flags", `${HEAD}mm_page_alloc: page=00000000cc7e7e77 pfn=0x1df71 order=0 migra`, "mm_page_alloc has no gfp_flags= field (cut line?)"],
    ["zone_locked cut before migratetype", `${HEAD}mm_page_alloc_zone_locked: page=0 pfn=0x10 order=0`, "mm_page_alloc_zone_locked has no migratetype= field (cut line?)"],
    ["extfrag cut", `${HEAD}mm_page_alloc_extfrag: page=0 pfn=0x10 alloc_order=0 fallback_order=9`, "mm_page_alloc_extfrag has no change_ownership= field (cut line?)"],
    ["event with no body", `${HEAD}mm_page_free:`, "mm_page_free has no pfn= field"],
  ];
  test.each(bad)("%s is an error naming the line and its content", (_name, line, reason) => {
    const parser = new TraceParser();
    parser.line("# tracer: nop");
    const e = thrown(() => parser.line(line));
    expect(e.code).toBe(TraceErrorCode.Malformed);
    expect(e.line).toBe(2);
    expect(e.content).toBe(line);
    expect(e.message.startsWith(`line 2: ${reason}`)).toBe(true);
    expect(e.message).toContain(JSON.stringify(line).slice(0, 40));
  });

  test("the malformed fixture stops at its first bad line (3) in strict mode", () => {
    const e = thrown(() => [...parseTraceText(readTraceText(fixture("malformed.txt")))]);
    expect([e.code, e.line]).toEqual([TraceErrorCode.Malformed, 3]);
    expect(e.message).toMatch(/^line 3: mm_page_free has no pfn= field: " +cat-155/);
  });

  test("lenient mode counts and skips the malformed fixture's three bad lines and keeps the good ones", () => {
    const gen = parseTraceText(readTraceText(fixture("malformed.txt")), { lenient: true });
    const records = [];
    let n = gen.next();
    for (; n.done !== true; n = gen.next()) records.push(n.value);
    expect(records.map((r) => [r.line, r.kind, r.pfn])).toEqual([
      [2, TraceEventKind.Alloc, 0x1c1ce],
      [6, TraceEventKind.Free, 0x1c1ce],
    ]);
    expect(n.value.malformedLines).toBe(3);
    expect(n.value.problems.map((p) => [p.line, p.code])).toEqual([
      [3, TraceErrorCode.Malformed],
      [4, TraceErrorCode.Malformed],
      [5, TraceErrorCode.Malformed],
    ]);
  });

  test("a file cut mid-line is ERR_TRACE_TRUNCATED naming the last line; lenient mode marks the summary", async () => {
    const e = thrown(() => [...parseTraceText(readTraceText(fixture("truncated.txt")))]);
    expect([e.code, e.line]).toEqual([TraceErrorCode.Truncated, 5]);
    expect(e.message).toMatch(/^line 5: the input ends mid-line \(cut file\?\): " +init-1 .*pfn=0x41"$/);
    await expect(parseTraceFile(fixture("truncated.txt"), () => {})).rejects.toMatchObject({ code: TraceErrorCode.Truncated, line: 5 });
    const summary = await parseTraceFile(fixture("truncated.txt"), () => {}, { lenient: true });
    expect([summary.records, summary.malformedLines, summary.truncated]).toEqual([2, 1, true]);
  });

  test("a truncated gzip stream is ERR_TRACE_TRUNCATED (strict) or a truncated summary (lenient)", async () => {
    const dir = mkdtempSync(join(tmpdir(), "mmkit-trace-"));
    const gz = gzipSync(readFileSync(fixture("ftrace-6.1-hex.txt")));
    const whole = join(dir, "whole.gz");
    const cut = join(dir, "cut.gz");
    writeFileSync(whole, gz);
    writeFileSync(cut, gz.subarray(0, Math.floor(gz.length * 0.7)));
    const ok = await parseTraceFile(whole, () => {});
    expect(ok.records).toBe(14);
    await expect(parseTraceFile(cut, () => {})).rejects.toMatchObject({ code: TraceErrorCode.Truncated });
    const lenient = await parseTraceFile(cut, () => {}, { lenient: true });
    expect(lenient.truncated).toBe(true);
    expect(lenient.records).toBeLessThan(14);
  });

  test("a missing file is an input error naming it, not a parse error", async () => {
    const path = fixture("no-such-trace.txt");
    await expect(parseTraceFile(path, () => {})).rejects.toMatchObject({ code: TraceErrorCode.Input, message: `${path}: no such file` });
  });

  test("an unclosed function-graph comment is a cut line", () => {
    const parser = new TraceParser();
    const e = thrown(() => parser.line(" 0)               |  /* mm_page_alloc: page=00000000c7bd0e56 pfn=0x10a5c2 order=0 migr"));
    expect([e.code, e.line]).toEqual([TraceErrorCode.Truncated, 1]);
  });
});

describe("what is never an error", () => {
  test("unknown events are counted by name, with or without a subsystem prefix", () => {
    const summary = drain(
      parseTraceLines([
        "  x-1 [000] 1.0: sched_switch: prev_comm=x prev_pid=1 ==> next_comm=y next_pid=2",
        "  x 1 [000] 1.1: sched:sched_switch: prev_comm=x prev_pid=1",
        "  x-1 [000] 1.2: kmalloc: call_site=ffffffff81234567 ptr=00000000deadbeef bytes_req=8 bytes_alloc=8 gfp_flags=GFP_KERNEL",
        "  x-1 [000] 1.3: mm_page_free: page=0 pfn=1 order=0",
      ]),
    );
    expect(summary.unknownEvents).toEqual({ sched_switch: 2, kmalloc: 1 });
    expect(summary.events.unknown).toBe(3);
    expect(summary.events.free).toBe(1);
  });

  test("blank lines, # comments, CRLF line ends, and a last comment line without a newline", () => {
    const gen = parseTraceText("# tracer: nop\r\n\r\n  x-1 [000] 1.0: mm_page_free: page=0 pfn=0x10 order=0\r\n# end");
    const first = gen.next();
    expect(first.value).toMatchObject({ kind: TraceEventKind.Free, pfn: 16, line: 3 });
    const rest = gen.next();
    expect(rest.done).toBe(true);
    expect((rest.value as TraceParseSummary).lines).toBe(4);
  });
});

describe("parser options are validated", () => {
  const bad: [string, object][] = [
    ["format", { format: "ftrace" }],
    ["lenient", { lenient: 1 }],
    ["pageSize", { pageSize: 3000 }],
    ["maxProblems", { maxProblems: -1 }],
  ];
  test.each(bad)("%s", (name, options) => {
    try {
      new TraceParser(options as never);
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(MmkitError);
      expect((e as MmkitError).code).toBe(ErrorCode.InvalidArgument);
      expect((e as Error).message).toContain(name);
    }
  });

  test("a parser that threw in strict mode is unchanged and keeps going", () => {
    const parser = new TraceParser();
    parser.line("  x-1 [000] 1.0: mm_page_free: page=0 pfn=1 order=0");
    const before = parser.summary();
    expect(() => parser.line("  x-1 [000] 1.0: mm_page_free: page=0 order=0")).toThrow(TraceError);
    const after = parser.summary();
    expect({ ...after, lines: before.lines }).toEqual(before); // only the line counter moved on
    expect(after.lines).toBe(2);
    expect(parser.line("  x-1 [000] 1.0: mm_page_free: page=0 pfn=2 order=0")).toMatchObject({ line: 3, pfn: 2 });
  });
});
