import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { MiB } from "@mmkit/physmem";
import { describe, expect, test } from "vitest";
import { DEFAULT_TRACE, SYSTEMS, buildSystem, fragmentation } from "../../src/systems/index.js";
import { loadTrace, replayMachineBytes, replayOnSystem } from "../../src/workloads/trace-replay.js";

describe("trace replay through every system", async () => {
  const trace = await loadTrace(DEFAULT_TRACE);

  test("the Linux 6.1 fixture loads with its own accounting", () => {
    expect([trace.parse.events.alloc, trace.parse.events.free, trace.parse.events.freeBatched]).toEqual([12617, 13078, 11712]);
    expect(trace.pageEvents).toBe(12617 + 13078);
    expect(trace.peakLivePages).toBe(2153);
    expect(replayMachineBytes(trace)).toBe(64 * MiB);
  });

  test("a file with no page-allocator events is a typed error naming it, not a failure later on", async () => {
    const dir = mkdtempSync(join(tmpdir(), "mmkit-not-a-trace-"));
    const file = join(dir, "notes.txt");
    writeFileSync(file, "root:x:0:0:root:/root:/bin/bash\n");
    try {
      await expect(loadTrace(file)).rejects.toMatchObject({ code: "ERR_INVALID_ARGUMENT", message: `${file} has no page-allocator events (mm_page_alloc, mm_page_free or mmkit lines): nothing to replay` });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test.each(SYSTEMS.map((s) => [s.name, s] as const))("%s gives the trace's exact accounting, and holds exactly what the trace left live", (_, def) => {
    const system = buildSystem(def, { bytes: replayMachineBytes(trace) });
    const samples: number[] = [];
    const report = replayOnSystem(trace, system, { sampleEvery: 1000, onSample: (p) => samples.push(p.pageEvents, fragmentation(system, 9).unusableFree) });
    expect(report.allocsByOrder).toEqual([12267, 341, 7, 1, 0, 0, 0, 0, 0, 1]);
    expect([report.allocPages, report.freesMatched, report.freesUnmatched, report.freesPartial, report.freesOrderMismatch]).toEqual([13497, 12564, 514, 0, 0]);
    expect([report.liveAllocationsAtEnd, report.livePagesAtEnd, report.peakLivePages, report.sutFailures]).toEqual([53, 83, 2153, 0]);
    expect(samples.length).toBe(2 * Math.floor(trace.pageEvents / 1000));
    expect(samples[0]).toBe(1000);
    // The descriptor table holds the 83 pages still live, and nothing else.
    let described = 0;
    for (let pfn = 0; pfn < system.managedPages; pfn++) if (system.table.get(pfn) >= 0) described++;
    expect(described).toBe(83);
    expect(system.pages.allocs - system.pages.frees).toBe(53);
    system.check();
  });
});
