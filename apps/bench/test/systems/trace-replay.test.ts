import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { Readable } from "node:stream";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { MiB } from "@mmkit/physmem";
import { describe, expect, test } from "vitest";
import { DEFAULT_TRACE, SYSTEMS, buildSystem, systemNamed, type MemorySystem } from "../../src/systems/index.js";
import { fixture } from "../trace/helpers.js";
import { SAMPLED_ORDERS, SAMPLE_METRICS, replayMachineBytes, replayOnSystems, scanTrace, traceSpec, type LockstepResult, type SystemReplay } from "../../src/workloads/trace-replay.js";

/** Every system of `got` ended as in `want`: the same report and samples; each passes its check(). */
function expectSameReplays(got: LockstepResult, want: LockstepResult): void {
  const width = SAMPLE_METRICS.length + SAMPLED_ORDERS;
  const series = (r: SystemReplay) => [Array.from(r.samples.x.subarray(0, r.samples.length)), Array.from(r.samples.values.subarray(0, r.samples.length * width))];
  expect(got.replays.length).toBe(want.replays.length);
  got.replays.forEach((r, i) => {
    expect(r.report).toEqual(want.replays[i]!.report);
    expect(series(r)).toEqual(series(want.replays[i]!));
    r.system.check();
  });
}

describe("trace replay through every system, streamed", async () => {
  const spec = traceSpec(DEFAULT_TRACE);
  const scan = await scanTrace(spec, 10_000);

  test("the scan of the Linux 6.1 fixture gives its own accounting, CPUs, time span and window", () => {
    const e = scan.parse.events;
    expect([e.alloc, e.free, e.freeBatched]).toEqual([12617, 13078, 11712]);
    expect(scan.pageEvents).toBe(12617 + 13078);
    expect(scan.peakLivePages).toBe(2153);
    expect(scan.cpus).toBe(2);
    expect(replayMachineBytes(scan)).toBe(64 * MiB);
    expect(scan.window.length).toBe(10_000);
    expect(scan.firstTime).toBe(3.029758);
    expect(scan.lastTime).toBeGreaterThan(scan.firstTime);
    expect([scan.accounting.freesUnmatched, scan.accounting.allocsOverLive]).toEqual([514, 0]);
  });

  test("a scan and a lockstep replay with the parsing on a parse thread give what they give in this thread", async () => {
    const threaded = await scanTrace(spec, 10_000, { threading: "thread" });
    expect(threaded.threaded).toBe(true);
    expect(scan.threaded).toBe(false);
    expect(threaded.accounting).toEqual(scan.accounting);
    expect(threaded.parse).toEqual(scan.parse);
    expect([threaded.cpus, threaded.firstTime, threaded.lastTime, threaded.window.length, threaded.text.equals(scan.text)]).toEqual([scan.cpus, scan.firstTime, scan.lastTime, scan.window.length, true]);
    const bytes = replayMachineBytes(scan);
    const defs = ["classic", "potad+memdesc8"].map((n) => systemNamed(n)!);
    const run = (threading: "thread" | "inline") => replayOnSystems(spec, (cpus) => defs.map((d) => buildSystem(d, { bytes, cpus })), { scan, samples: 12, threading });
    const [a, b] = [await run("inline"), await run("thread")];
    expect([a.threaded, b.threaded]).toEqual([false, true]);
    expectSameReplays(b, a);
  });

  test("a trace whose events all fit the scan's window is read once: the systems replay the window, exactly as they replay a second reading", async () => {
    const dir = mkdtempSync(join(tmpdir(), "mmkit-read-once-"));
    const file = join(dir, "trace.txt.gz");
    writeFileSync(file, readFileSync(DEFAULT_TRACE));
    try {
      const copy = traceSpec(file);
      const [held, partial] = [await scanTrace(copy, 50_000), await scanTrace(copy, 10_000)];
      expect([held.window.length, held.events, partial.window.length]).toEqual([40_646, 40_646, 10_000]);
      const defs = ["classic", "potad+memdesc8"].map((n) => systemNamed(n)!);
      const run = (s: typeof held) => replayOnSystems(copy, (cpus) => defs.map((d) => buildSystem(d, { bytes: replayMachineBytes(s), cpus })), { scan: s, samples: 12 });
      const reread = await run(partial);
      // Gone from disk: only a replay that does not read the file again can still run.
      rmSync(file);
      const once = await run(held);
      expect([once.fromWindow, reread.fromWindow]).toEqual([true, false]);
      expect(once.parse).toEqual(reread.parse);
      expect(once.readParseSeconds).toBe(held.parseSeconds);
      await expect(run(partial)).rejects.toMatchObject({ code: "ERR_TRACE_INPUT" });
      expectSameReplays(once, reread);
      expect(once.replays[0]!.report!.allocsByOrder).toEqual([12267, 341, 7, 1, 0, 0, 0, 0, 0, 1]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test("a file with no page-allocator events is a typed error naming it, not a failure later on", async () => {
    const dir = mkdtempSync(join(tmpdir(), "mmkit-not-a-trace-"));
    const file = join(dir, "notes.txt");
    writeFileSync(file, "root:x:0:0:root:/root:/bin/bash\n");
    try {
      await expect(scanTrace(traceSpec(file), 100)).rejects.toMatchObject({ code: "ERR_INVALID_ARGUMENT", message: `${file} has no page-allocator events (mm_page_alloc, mm_page_free or mmkit lines): nothing to replay` });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test("every system gives the trace's exact accounting through its CPU fronts, holds exactly what the trace left live, and is sampled over trace time", async () => {
    const prepared: string[] = [];
    const finished: string[] = [];
    const { replays } = await replayOnSystems(spec, (cpus) => SYSTEMS.map((d) => buildSystem(d, { bytes: replayMachineBytes(scan), cpus })), {
      scan,
      samples: 20,
      hooks: { prepare: (s) => void prepared.push(s.name), finish: (s, r) => void finished.push(`${s.name}:${r.livePages}`) },
    });
    expect(prepared).toEqual(SYSTEMS.map((s) => s.name));
    expect(finished).toEqual(SYSTEMS.map((s) => `${s.name}:83`));
    for (const r of replays) {
      const report = r.report!;
      expect(r.error).toBeNull();
      expect(report.allocsByOrder).toEqual([12267, 341, 7, 1, 0, 0, 0, 0, 0, 1]);
      expect([report.allocPages, report.freesMatched, report.freesUnmatched, report.freesPartial, report.freesOrderMismatch]).toEqual([13497, 12564, 514, 0, 0]);
      expect([report.liveAllocationsAtEnd, report.livePagesAtEnd, report.peakLivePages, report.sutFailures]).toEqual([53, 83, 2153, 0]);
      expect(report.perCpu.allocs.reduce((a, b) => a + b, 0)).toBe(12617);
      expect(report.perCpu.allocs.length).toBe(2);
      // The buddy systems have a front per traced CPU; POTAD has none.
      expect(r.system.pages.fronts.length).toBe(r.system.definition.perCpuLists ? 2 : 0);
      // The descriptor table holds the 83 pages still live, and nothing else but (in memdesc) the
      // pages of the slabs their memdescs live in: 11 pages in as many slabs.
      const md = r.system.memdescSlabs;
      const slabPages = md === null ? 0 : md.figures().slabBytes / r.system.pageSize;
      const slabs = md === null ? 0 : md.slab.stats().caches.reduce((n, c) => n + c.slabs, 0);
      expect([r.system.name, slabPages, slabs]).toEqual([r.system.name, md === null ? 0 : 11, md === null ? 0 : 11]);
      let described = 0;
      for (let pfn = 0; pfn < r.system.managedPages; pfn++) if (r.system.table.get(pfn) >= 0) described++;
      expect(described).toBe(83 + slabPages);
      expect(r.system.pages.allocs - r.system.pages.frees).toBe(53 + slabs);
      r.system.check();
      // Samples at the start, at every 1/20 of the time span that has events (an idle stretch changes nothing), and at the end.
      expect(r.samples.length).toBe(20);
      expect(r.samples.x[0]).toBe(scan.firstTime);
      expect(r.samples.x[r.samples.length - 1]).toBe(scan.lastTime);
      expect(r.samples.value(0, SAMPLE_METRICS.indexOf("live pages"))).toBe(0);
      expect(r.samples.value(r.samples.length - 1, SAMPLE_METRICS.indexOf("live pages"))).toBe(83);
    }
    // Per-CPU lists are replayed, not flattened: classic ends with pages on both CPUs' lists.
    const classic = replays.find((r) => r.system.name === "classic")!.system;
    expect(classic.buddy!.perCpuPageCount()).toBeGreaterThan(0);
  });

  test("an allocation a system cannot serve is counted for it and the replay goes on", async () => {
    const dir = mkdtempSync(join(tmpdir(), "mmkit-replay-"));
    const file = join(dir, "big.trace");
    writeFileSync(file, "alloc a order=0\nalloc big order=12\nalloc huge order=20\nfree a\nfree big\nalloc b order=1\n");
    const defs = [systemNamed("classic")!, systemNamed("memdesc")!];
    let systems: MemorySystem[] = [];
    const { replays } = await replayOnSystems(traceSpec(file), (cpus) => (systems = defs.map((d) => buildSystem(d, { bytes: 64 * MiB, cpus }))));
    expect(systems.length).toBe(2);
    const [classic, memdesc] = replays.map((r) => r.report!);
    // classic's buddy stops at order 10: both large orders fail there; POTAD's 64 MiB space serves order 12, not 20.
    expect([classic!.sutFailures, classic!.sutOrderTooLarge, classic!.sutFailuresByOrder[12], classic!.sutFailuresByOrder[20]]).toEqual([2, 2, 1, 1]);
    expect([memdesc!.sutFailures, memdesc!.sutFailuresByOrder[12] ?? 0, memdesc!.sutFailuresByOrder[20]]).toEqual([1, 0, 1]);
    for (const r of replays) {
      expect(r.report!.allocsByOrder).toEqual([1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1]);
      expect(r.report!.liveAllocationsAtEnd).toBe(2);
      r.system.check();
    }
  });
});

describe("replays read once, and a system that breaks", () => {
  test("standard input is replayed in one pass: systems built from the header's CPUs, samples by page events, the same accounting", async () => {
    const text = readFileSync(fixture("ftrace-6.1-hex.txt"));
    const stdin = Readable.from([text.subarray(0, 500), text.subarray(500)]) as unknown as NodeJS.ReadStream;
    let cpusSeen = 0;
    const { replays, pageEvents } = await replayOnSystems(traceSpec("-"), (cpus) => {
      cpusSeen = cpus;
      return [buildSystem(systemNamed("classic")!, { bytes: 32 * MiB, cpus })];
    }, { stdin, samples: 4 });
    const fromFile = await scanTrace(traceSpec(fixture("ftrace-6.1-hex.txt")), 100);
    expect(cpusSeen).toBe(fromFile.cpus);
    const report = replays[0]!.report!;
    expect([report.allocsByOrder, report.freesMatched, report.freesUnmatched, report.livePagesAtEnd]).toEqual([fromFile.accounting.allocsByOrder, fromFile.accounting.freesMatched, fromFile.accounting.freesUnmatched, fromFile.accounting.livePagesAtEnd]);
    // x = page events replayed: the first sample at 0, the last at the end.
    const s = replays[0]!.samples;
    expect([s.x[0], s.x[s.length - 1]]).toEqual([0, pageEvents]);
  });

  test("a system whose allocator throws is dropped with its error; the others replay to the end", async () => {
    let calls = 0;
    const broken = {
      name: "breaks",
      create: () => ({
        allocPages(order: number): number {
          if (++calls > 100) throw new Error("corrupted free list");
          return (calls - 1) * 512; // a 512-page slot each: every order up to 9 fits the 256 MiB machine
        },
        freePages(): void {},
      }),
    };
    const spec = traceSpec(DEFAULT_TRACE);
    const defs = [{ ...systemNamed("classic")!, name: "breaks", pageAllocator: broken, perCpuLists: false }, systemNamed("memdesc")!];
    const { replays } = await replayOnSystems(spec, (cpus) => defs.map((d) => buildSystem(d, { bytes: 256 * MiB, cpus })));
    expect(replays[0]!.error).toMatch(/^line \d+: the allocator threw on allocPages\(0\): corrupted free list$/);
    expect(replays[0]!.report).toBeNull();
    expect(replays[1]!.error).toBeNull();
    expect(replays[1]!.report!.allocsByOrder).toEqual([12267, 341, 7, 1, 0, 0, 0, 0, 0, 1]);
  });
});
