import { describe, expect, test } from "vitest";
import { TraceEventKind, TraceParser, TraceReplayer, parseTraceFile, parseTraceText, readTraceText, replayTraceFile, type ReplayProgress } from "../../src/trace/index.js";
import { ReferenceAllocator, fixture } from "./helpers.js";

// The real capture: Linux 6.1, 2 vCPUs, 1 GiB (fixtures/traces/linux-6.1-small/README.md).
const TRACE = fixture("linux-6.1-small/trace.txt.gz");
const text = readTraceText(TRACE);

describe("the Linux 6.1 sample trace", () => {
  test("parses to the README's exact event counts", async () => {
    const byOrder = new Array<number>(11).fill(0);
    const summary = await parseTraceFile(TRACE, (r) => {
      if (r.kind === TraceEventKind.Alloc) byOrder[r.order]!++;
    });
    expect(summary.format).toBe("kernel");
    expect(summary.lines).toBe(12 + 40_646);
    expect(summary.records).toBe(40_646);
    expect(summary.events).toEqual({
      alloc: 12_617,
      allocFailed: 0,
      free: 13_078,
      freeBatched: 11_712,
      pcpuDrain: 0,
      zoneLocked: 3_229,
      extfrag: 1,
      marker: 9,
      unknown: 0,
      lost: 0,
    });
    expect(summary.unknownEvents).toEqual({});
    expect(summary.unrecognizedLines).toBe(0);
    expect(summary.overwrittenEvents).toBe(0);
    expect(summary.truncated).toBe(false);
    // Orders 0, 1, 2, 3 and 9, as the README says.
    expect(byOrder).toEqual([12_267, 341, 7, 1, 0, 0, 0, 0, 0, 1, 0]);
  });

  test("the streaming file reader and the in-memory parser agree record for record", async () => {
    const streamed: string[] = [];
    await parseTraceFile(TRACE, (r) => streamed.push(JSON.stringify(r)));
    const inMemory = [...parseTraceText(text)].map((r) => JSON.stringify(r));
    expect(streamed.length).toBe(40_646);
    expect(streamed).toEqual(inMemory);
  });

  test("replays onto a reference allocator with exact accounting", async () => {
    // Expected numbers derived independently of src/trace with test/trace/accounting.awk:
    //   zcat fixtures/traces/linux-6.1-small/trace.txt.gz | awk -f test/trace/accounting.awk
    // (it matches mm_page_free to mm_page_alloc by pfn in a plain awk array, sums 2^order for live
    // pages and splits counts at "PHASE <name>" markers), which printed:
    //   matched 12564 unmatched 514 liveAllocs 53 livePages 83 peak 2153
    //   phase (none) 416 436 400 22 / small-procs 4709 4899 4703 27 / small-files 4109 4253 4084 433
    //   small-dd 2101 2103 2101 8 / small-awk 991 1503 990 4 / small-drop 291 303 286 20
    //   (allocs, alloc pages, matched frees, unmatched frees per phase)
    const sut = new ReferenceAllocator(262_144); // 1 GiB of 4 KiB pages
    const { parse, replay } = await replayTraceFile(TRACE, sut);
    expect(parse.records).toBe(40_646);
    expect(replay.events.alloc).toBe(12_617);
    expect(replay.events.free).toBe(13_078);
    expect(replay.allocsByOrder).toEqual([12_267, 341, 7, 1, 0, 0, 0, 0, 0, 1]);
    expect(replay.allocPages).toBe(13_497);
    expect(replay.freesMatched).toBe(12_564);
    expect(replay.freesUnmatched).toBe(514);
    expect(replay.freesMatched + replay.freesUnmatched).toBe(replay.events.free);
    expect(replay.freesOrderMismatch).toBe(0);
    expect(replay.freesPartial).toBe(0);
    expect(replay.allocsOverLive).toBe(0);
    expect(replay.liveAllocationsAtEnd).toBe(53);
    expect(replay.livePagesAtEnd).toBe(83);
    expect(replay.peakLivePages).toBe(2_153);
    expect(replay.sutFailures).toBe(0);
    expect(replay.phases.map((p) => [p.name, p.allocs, p.allocPages, p.frees, p.freesUnmatched])).toEqual([
      ["", 416, 436, 400, 22],
      ["small-procs", 4709, 4899, 4703, 27],
      ["small-files", 4109, 4253, 4084, 433],
      ["small-dd", 2101, 2103, 2101, 8],
      ["small-awk", 991, 1503, 990, 4],
      ["small-drop", 291, 303, 286, 20],
    ]);
    expect(replay.phases.map((p) => p.line)).toEqual([0, 1216, 14893, 29484, 36863, 39803]);
    expect(replay.markers.map((m) => m.text)).toEqual([
      "SNAPSHOT_BEFORE begin",
      "WORKLOAD_START wl=small",
      "PHASE small-procs",
      "PHASE small-files",
      "PHASE small-dd",
      "PHASE small-awk",
      "PHASE small-drop",
      "WORKLOAD_END wl=small",
      "SNAPSHOT_AFTER end",
    ]);
    // Every allocation reached the allocator; every matched free gave back exactly its block.
    expect(sut.allocCalls).toBe(12_617);
    expect(sut.freeCalls).toBe(12_564);
    expect(sut.liveBlocks).toBe(53);
    expect(sut.livePages).toBe(83);
  });

  test("check() holds throughout, and the hooks fire on schedule", () => {
    const samples: ReplayProgress[] = [];
    const phases: string[] = [];
    const replayer = new TraceReplayer(new ReferenceAllocator(262_144), {
      sampleEvery: 5_000,
      onSample: (p) => samples.push(p),
      onPhase: (name, p) => phases.push(`${name}@${p.line}`),
    });
    let n = 0;
    for (const r of parseTraceText(text)) {
      replayer.apply(r);
      if (++n % 2_000 === 0) replayer.check();
    }
    replayer.check();
    // 12,617 allocations + 13,078 frees = 25,695 page events: samples at 5,000 ... 25,000.
    expect(samples.map((s) => s.pageEvents)).toEqual([5_000, 10_000, 15_000, 20_000, 25_000]);
    expect(samples.every((s) => s.livePages <= s.peakLivePages && s.peakLivePages <= 2_153)).toBe(true);
    expect(phases).toEqual(["small-procs@1216", "small-files@14893", "small-dd@29484", "small-awk@36863", "small-drop@39803"]);
  });

  test("a small machine fails allocations; the trace's accounting does not change", () => {
    // 1,024 pages cannot hold the trace's peak of 2,153 live pages.
    const sut = new ReferenceAllocator(1_024);
    const replayer = new TraceReplayer(sut);
    for (const r of parseTraceText(text)) replayer.apply(r);
    replayer.check();
    const report = replayer.report();
    expect(report.sutFailures).toBe(sut.failures);
    expect(report.sutFailures).toBeGreaterThan(0);
    expect(report.sutFailuresByOrder.reduce((a, b) => a + b, 0)).toBe(report.sutFailures);
    // Frees of the failed allocations never reach the allocator.
    expect(sut.freeCalls).toBe(12_564 - report.freesOfFailedAllocs);
    expect([report.freesMatched, report.freesUnmatched, report.peakLivePages, report.livePagesAtEnd]).toEqual([12_564, 514, 2_153, 83]);
  });

  test("TraceParser.line fed one line at a time gives the same records", () => {
    const parser = new TraceParser();
    let records = 0;
    for (const line of text.split("\n")) if (parser.line(line) !== null) records++;
    expect(records).toBe(40_646);
  });
});
