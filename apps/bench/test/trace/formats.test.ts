import { describe, expect, test } from "vitest";
import { TRACE_EVENT_KIND_NAMES, TraceEventKind as K, parseKernelLine, parseTraceText, readTraceText, replayTrace, type TraceParseSummary, type TraceRecord } from "../../src/trace/index.js";
import { RecordingAllocator, fixture } from "./helpers.js";

/** Records of a fixture as compact tuples [line, kind name, pfn, order, text], and the summary. */
function parseFixture(name: string): { rows: (string | number)[][]; summary: TraceParseSummary } {
  const gen = parseTraceText(readTraceText(fixture(name)));
  const rows: (string | number)[][] = [];
  for (;;) {
    const next = gen.next();
    if (next.done === true) return { rows, summary: next.value };
    const r: TraceRecord = next.value;
    rows.push([r.line, TRACE_EVENT_KIND_NAMES[r.kind], r.pfn, r.order, r.text]);
  }
}

// Each fixture is a few hand-written lines in the layout of one tracer and kernel era; the
// expected rows below were checked by hand against the fixture text (line numbers count the
// header lines).
describe("format fixtures", () => {
  test("ftrace, Linux 6.1 layout: hex pfns, hashed pointers, irq-info, a failed allocation, annotations", () => {
    const { rows, summary } = parseFixture("ftrace-6.1-hex.txt");
    expect(rows).toEqual([
      [13, "marker", -1, -1, "PHASE boot"],
      [14, "alloc", 0x1baa, 1, ""],
      [15, "alloc", 0x41dd, 0, ""],
      [16, "free", 0x1bac, 1, ""],
      [17, "zoneLocked", 0x41c0, 0, ""],
      [18, "pcpuDrain", 0x41c2, 0, ""],
      [19, "allocFailed", -1, 9, ""], // page=(null) pfn=0, from a comm with a colon (kworker/u4:1)
      [20, "marker", -1, -1, "PHASE work"],
      [21, "extfrag", 0x3e800, 0, ""],
      [22, "alloc", 0x3e800, 0, ""],
      [23, "freeBatched", 0x41dd, 0, ""],
      [24, "free", 0x41dd, 0, ""],
      [25, "unknown", -1, -1, "sched_switch"],
      [26, "free", 0x1baa, 1, ""],
    ]);
    expect(summary.unknownEvents).toEqual({ sched_switch: 1 });
    expect(summary.overwrittenEvents).toBe(0);
    const report = replayTrace(parseTraceText(readTraceText(fixture("ftrace-6.1-hex.txt"))), new RecordingAllocator());
    expect([report.freesMatched, report.freesUnmatched, report.liveAllocationsAtEnd, report.livePagesAtEnd, report.peakLivePages]).toEqual([2, 1, 1, 1, 4]);
    expect(report.events.allocFailed).toBe(1);
    expect(report.phases.map((p) => [p.name, p.allocs, p.allocPages, p.frees, p.freesUnmatched])).toEqual([
      ["boot", 2, 3, 0, 1],
      ["work", 1, 1, 2, 0],
    ]);
  });

  test("ftrace, Linux 4.9 layout: decimal pfns, raw pointers, 4-column irq-info, cold=, overwritten events, a split allocation", () => {
    const { rows, summary } = parseFixture("ftrace-4.9-decimal.txt");
    expect(rows).toEqual([
      [12, "alloc", 1267029, 0, ""],
      [13, "alloc", 1024, 2, ""],
      [14, "zoneLocked", 1267030, 0, ""],
      [15, "free", 1024, 0, ""],
      [16, "free", 1025, 0, ""],
      [17, "freeBatched", 1267029, 0, ""],
      [18, "free", 1267029, 0, ""],
      [19, "free", 1026, 0, ""],
      [20, "pcpuDrain", 1267032, 0, ""],
      [21, "free", 1027, 0, ""],
    ]);
    expect(summary.overwrittenEvents).toBe(3); // entries-in-buffer/entries-written: 10/13
    // The order-2 block at 1024 is freed page by page (split_page style): four partial frees, and
    // the allocator gets one free of the whole block, with its order, at the last one.
    const sut = new RecordingAllocator();
    const report = replayTrace(parseTraceText(readTraceText(fixture("ftrace-4.9-decimal.txt"))), sut);
    expect(sut.calls).toEqual(["alloc 0 -> 0", "alloc 2 -> 1024", "free 0 0", "free 1024 2"]);
    expect([report.freesMatched, report.freesUnmatched, report.freesPartial, report.freesOrderMismatch]).toEqual([5, 0, 4, 4]);
    expect([report.liveAllocationsAtEnd, report.livePagesAtEnd, report.peakLivePages]).toEqual([0, 0, 5]);
  });

  test("ftrace, Linux 2.6.32 layout: mm_page_free_direct and mm_pagevec_free, no irq-info, cpu= field", () => {
    const { rows } = parseFixture("ftrace-2.6.32-free-direct.txt");
    expect(rows).toEqual([
      [5, "alloc", 186251, 0, ""],
      [6, "alloc", 186240, 3, ""],
      [7, "zoneLocked", 186240, 3, ""],
      [8, "freeBatched", 186251, 0, ""],
      [9, "free", 186251, 0, ""],
      [10, "pcpuDrain", 186251, 0, ""],
      [11, "free", 186240, 3, ""],
      [12, "free", 200000, 0, ""],
    ]);
    const report = replayTrace(parseTraceText(readTraceText(fixture("ftrace-2.6.32-free-direct.txt"))), new RecordingAllocator());
    expect([report.freesMatched, report.freesUnmatched, report.peakLivePages]).toEqual([2, 1, 9]);
  });

  test("trace-cmd report: headers, padded event names, print markers, lost events", () => {
    const { rows, summary } = parseFixture("trace-cmd-report.txt");
    expect(rows).toEqual([
      [4, "alloc", 0xc4b4b, 0, ""],
      [5, "marker", -1, -1, "PHASE net"],
      [6, "alloc", 0xc4b50, 1, ""],
      [7, "lost", -1, -1, "cpu 0"],
      [8, "free", 0xc4b4b, 0, ""],
      [9, "freeBatched", 0xc4b4b, 0, ""],
      [10, "unknown", -1, -1, "sched_wakeup"],
    ]);
    expect(summary.lostEvents).toBe(17);
    expect(summary.unrecognizedLines).toBe(0); // version, cpus= and "CPU 1 is empty" are known headers
  });

  test("perf script: subsystem prefixes, pid/tid, period column, no CPU column, [FAILED TO PARSE] raw fields", () => {
    const { rows, summary } = parseFixture("perf-script.txt");
    expect(rows).toEqual([
      [1, "alloc", 0x135555, 0, ""],
      [2, "alloc", 0x400, 2, ""],
      [3, "free", 0x135555, 0, ""],
      [4, "freeBatched", 0x135555, 0, ""],
      [5, "alloc", 1267100, 1, ""],
      [6, "free", 0x400, 2, ""],
      [7, "unknown", -1, -1, "sched_wakeup"],
    ]);
    expect(summary.unknownEvents).toEqual({ sched_wakeup: 1 });
  });

  test("function-graph comments: events and markers inside /* */, call lines counted as unrecognized", () => {
    const { rows, summary } = parseFixture("function-graph.txt");
    expect(rows).toEqual([
      [7, "zoneLocked", 0x10a5c0, 0, ""],
      [9, "alloc", 0x10a5c2, 0, ""],
      [14, "marker", -1, -1, "PHASE teardown"],
      [16, "free", 0x10a5c2, 0, ""],
      [18, "unknown", -1, -1, "sched_waking"],
      [19, "free", 0x20000, 0, ""], // funcgraph-abstime + funcgraph-proc columns
    ]);
    expect(summary.unrecognizedLines).toBe(9);
    expect(summary.problems.slice(0, 2)).toEqual([
      { line: 5, code: "unrecognized", message: "line 5: not an event line" },
      { line: 6, code: "unrecognized", message: "line 6: not an event line" },
    ]);
  });

  test("mmkit line format: ids, order= and size=, phases, marks, comments", () => {
    const { rows, summary } = parseFixture("mmkit-basic.trace");
    expect(summary.format).toBe("mmkit");
    expect(rows).toEqual([
      [2, "marker", -1, -1, "PHASE setup"],
      [3, "alloc", -1, 0, ""],
      [4, "alloc", -1, 3, ""],
      [5, "alloc", -1, 2, ""],
      [6, "marker", -1, -1, "checkpoint one"],
      [8, "marker", -1, -1, "PHASE churn"],
      [9, "free", -1, -1, ""],
      [10, "alloc", -1, 1, ""],
      [11, "free", -1, 2, ""],
      [12, "free", -1, -1, ""],
      [13, "free", -1, -1, ""],
    ]);
    const ids = [...parseTraceText(readTraceText(fixture("mmkit-basic.trace")))].filter((r) => r.kind !== K.Marker).map((r) => r.id);
    expect(ids).toEqual([0, 1, 2, 0, 3, 1, 4, 2]); // a, b, c, free a, new a, free b, zz (never allocated), free c
    const sut = new RecordingAllocator();
    const report = replayTrace(parseTraceText(readTraceText(fixture("mmkit-basic.trace"))), sut);
    expect(sut.calls).toEqual(["alloc 0 -> 0", "alloc 3 -> 1024", "alloc 2 -> 2048", "free 0 0", "alloc 1 -> 3072", "free 1024 3", "free 2048 2"]);
    expect(report).toMatchObject({
      allocsByOrder: [1, 1, 1, 1],
      freesMatched: 3,
      freesUnmatched: 1,
      freesOrderMismatch: 1,
      liveAllocationsAtEnd: 1,
      livePagesAtEnd: 2,
      peakLivePages: 14,
    });
    expect(report.phases.map((p) => [p.name, p.allocs, p.allocPages, p.frees, p.freesUnmatched, p.freedPages])).toEqual([
      ["setup", 3, 13, 0, 0, 0],
      ["churn", 1, 2, 3, 1, 13],
    ]);
  });
});

describe("single kernel lines", () => {
  const cases: [string, string, number, number, number | string][] = [
    ["trace_pipe without irq-info", "          <idle>-0     [001]  5012.113203: mm_page_alloc: page=0000000011a794e3 pfn=0x1dfbe order=0 migratetype=1 gfp_flags=GFP_HIGHUSER_MOVABLE", K.Alloc, 0x1dfbe, 0],
    ["TGID column", "            bash-1843  (   1843) [000] d..2. 12.5: mm_page_free: page=00000000c8ea8e30 pfn=0x1bac order=1", K.Free, 0x1bac, 1],
    ["raw trace clock (integer timestamp)", "  bash-1843  [000] ....  123456789: mm_page_free: page=ffffea0000000040 pfn=1 order=0", K.Free, 1, 0],
    ["latency format", "    bash-1843    0d..2  123us : mm_page_free: page=ffffea0000000040 pfn=77 order=0", K.Free, 77, 0],
    ["nr_free= and other extra fields are ignored", "  x-1 [000] 1.0: mm_page_alloc_zone_locked: page=0 pfn=0x10 order=2 migratetype=1 percpu_refill=1 nr_free=7", K.ZoneLocked, 16, 2],
    ["perf raw failed allocation (-1UL pfn)", "  perf 1 [0] 1.0: kmem:mm_page_alloc: [FAILED TO PARSE] pfn=18446744073709551615 order=3 gfp_flags=0 migratetype=0", K.AllocFailed, -1, 3],
    ["glibc (nil) NULL pointer", "  perf 1 [0] 1.0: kmem:mm_page_alloc: page=(nil) pfn=0x0 order=0 migratetype=0 gfp_flags=GFP_KERNEL", K.AllocFailed, -1, 0],
  ];
  test.each(cases)("%s", (_name, line, kind, pfn, order) => {
    const r = parseKernelLine(line, 1);
    expect(typeof r).toBe("object");
    expect(r).toMatchObject({ kind, pfn, order, line: 1, count: 1 });
  });
});
