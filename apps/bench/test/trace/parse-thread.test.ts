import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { describe, expect, test } from "vitest";
import { TraceEventBatch, TraceReplayer, streamTraceBatches, type TraceChunkSource } from "../../src/trace/index.js";
import { stopIdleParseThreads } from "../../src/trace/parse-thread.js";
import type { TraceParseThreading, TraceStreamOptions } from "../../src/trace/read-file.js";
import { SyntheticTrace } from "../../src/trace/synth.js";
import { ReferenceAllocator, fixture } from "./helpers.js";

/** Every event of a stream as one row of its columns, the summary, and what went wrong (or null). */
async function stream(path: string | TraceChunkSource, threading: TraceParseThreading, options: TraceStreamOptions = {}) {
  const rows: string[] = [];
  const replayer = new TraceReplayer(new ReferenceAllocator(1 << 22));
  let error: { name: string; code: unknown; line: unknown; message: string } | null = null;
  let result = null;
  try {
    result = await streamTraceBatches(
      path,
      (b: TraceEventBatch) => {
        for (let i = 0; i < b.length; i++) rows.push(JSON.stringify([b.record(i), b.cpu[i], b.time[i]]));
        replayer.applyBatch(b);
      },
      { ...options, threading },
    );
  } catch (e) {
    const x = e as Error & { code?: unknown; line?: unknown };
    error = { name: x.constructor.name, code: x.code, line: x.line, message: x.message };
  }
  return { rows, error, result, report: replayer.report() };
}

describe("parsing on a parse thread gives what parsing in this thread gives", () => {
  test.each([
    ["the Linux 6.1 fixture (gzip)", "linux-6.1-small/trace.txt.gz"],
    ["a plain ftrace file", "ftrace-6.1-hex.txt"],
    ["trace-cmd report", "trace-cmd-report.txt"],
    ["an mmkit trace", "mmkit-basic.trace"],
  ])("%s: the same events, CPUs, times, summary and accounting", async (_, name) => {
    const inline = await stream(fixture(name), "inline", { keepText: 5000 });
    const threaded = await stream(fixture(name), "thread", { keepText: 5000 });
    expect(threaded.error).toBeNull();
    expect(threaded.result!.threaded).toBe(true);
    expect(inline.result!.threaded).toBe(false);
    expect(threaded.rows).toEqual(inline.rows);
    expect(threaded.result!.parse).toEqual(inline.result!.parse);
    expect(threaded.result!.input).toEqual({ ...inline.result!.input, sourceSeconds: threaded.result!.input.sourceSeconds });
    expect(threaded.result!.text.equals(inline.result!.text)).toBe(true);
    expect(threaded.report).toEqual(inline.report);
  });

  test("the parse thread reports its CPU time (Linux): more than none for 200k lines, not far above its wall-clock busy time", async () => {
    const dir = mkdtempSync(join(tmpdir(), "mmkit-thread-cpu-"));
    const file = join(dir, "synth.txt");
    writeFileSync(file, Buffer.concat([...new SyntheticTrace({ events: 200_000, cpus: 4, seed: 5 }).chunks()]));
    const { result } = await stream(file, "thread");
    const inline = await stream(file, "inline");
    expect(Number.isNaN(inline.result!.parseCpuSeconds)).toBe(true);
    expect(process.platform === "linux" ? result!.parseCpuSeconds > 0 : Number.isNaN(result!.parseCpuSeconds)).toBe(true);
    // Ticks of 10 ms, and the thread's posts (left out of its busy time) are CPU too.
    if (process.platform === "linux") expect(result!.parseCpuSeconds).toBeLessThanOrEqual(result!.parseSeconds * 1.5 + 0.05);
    rmSync(dir, { recursive: true, force: true });
  });

  test("the fixture's exact counts through the thread", async () => {
    const { rows, result, report } = await stream(fixture("linux-6.1-small/trace.txt.gz"), "thread");
    expect(rows.length).toBe(40_646);
    expect(result!.parse.lines).toBe(40_658);
    expect(report.allocsByOrder).toEqual([12267, 341, 7, 1, 0, 0, 0, 0, 0, 1]);
    expect(result!.text.length).toBe(0);
  });

  test("a synthetic trace is made on the parse thread, the same events as made here", async () => {
    const synth = { events: 30_000, cpus: 4, seed: 9 };
    const source: TraceChunkSource = { name: "synth", synth, chunks: () => new SyntheticTrace(synth).chunks() };
    const inline = await stream(source, "inline");
    const threaded = await stream(source, "thread");
    expect(threaded.result!.threaded).toBe(true);
    expect(threaded.rows.length).toBe(30_000);
    expect(threaded.rows).toEqual(inline.rows);
    expect(threaded.report).toEqual(inline.report);
  });

  test("errors arrive as the same class, code, line and message, after the same events", async () => {
    for (const [name, lenient] of [
      ["malformed.txt", false],
      ["malformed.txt", true],
      ["truncated.txt", false],
      ["truncated.txt", true],
    ] as const) {
      const inline = await stream(fixture(name), "inline", { lenient });
      const threaded = await stream(fixture(name), "thread", { lenient });
      expect(threaded.error).toEqual(inline.error);
      expect(threaded.rows).toEqual(inline.rows);
      if (lenient) expect(threaded.result!.parse).toEqual(inline.result!.parse);
      else expect(inline.error?.code).toMatch(/^ERR_TRACE_/);
    }
  });

  test("an error several chunks in (the thread posts a batch per few chunks): the same events first, then the same error", async () => {
    const dir = mkdtempSync(join(tmpdir(), "mmkit-thread-"));
    const text = Buffer.concat([...new SyntheticTrace({ events: 60_000, cpus: 4, seed: 3 }).chunks()]).toString("latin1");
    const at = text.indexOf("\n", Math.floor(text.length * 0.7)) + 1;
    const bad = "  cat-155 [001] ..... 9.031357: mm_page_free: page=00000000c8ea8e30 order=1\n";
    const files = {
      malformed: Buffer.from(text.slice(0, at) + bad + text.slice(at), "latin1"),
      cut: Buffer.from(text.slice(0, -20), "latin1"),
      cutGzip: gzipSync(Buffer.from(text, "latin1")).subarray(0, 450_000),
    };
    for (const [name, bytes] of Object.entries(files)) {
      const file = join(dir, name);
      writeFileSync(file, bytes);
      const inline = await stream(file, "inline");
      const threaded = await stream(file, "thread");
      expect(inline.error?.code).toMatch(/^ERR_TRACE_/);
      expect(threaded.error).toEqual(inline.error);
      // More than one batch's worth was handed on before the error.
      expect(inline.rows.length).toBeGreaterThan(30_000);
      expect(threaded.rows).toEqual(inline.rows);
    }
    rmSync(dir, { recursive: true, force: true });
  });

  test("a cut gzip file and a file that is no gzip stream fail the same way", async () => {
    const dir = mkdtempSync(join(tmpdir(), "mmkit-thread-"));
    const gz = gzipSync(readFileSync(fixture("ftrace-6.1-hex.txt")));
    const cut = join(dir, "cut.gz");
    writeFileSync(cut, gz.subarray(0, Math.floor(gz.length * 0.7)));
    const broken = join(dir, "broken.gz");
    writeFileSync(broken, Buffer.concat([gz.subarray(0, 12), Buffer.alloc(64, 0xff)]));
    for (const file of [cut, broken]) {
      const inline = await stream(file, "inline");
      const threaded = await stream(file, "thread");
      expect(inline.error).not.toBeNull();
      expect(threaded.error).toEqual(inline.error);
      expect(threaded.rows).toEqual(inline.rows);
    }
  });

  test("idle parse threads can be stopped; the next stream starts a new one and reads the same", async () => {
    const first = await stream(fixture("ftrace-6.1-hex.txt"), "thread");
    expect(await stopIdleParseThreads()).toBeGreaterThanOrEqual(1);
    const second = await stream(fixture("ftrace-6.1-hex.txt"), "thread");
    expect(second.error).toBeNull();
    expect(second.rows).toEqual(first.rows);
    expect(second.report).toEqual(first.report);
  });

  test("an error thrown by the consumer stops the stream and reaches the caller; the next stream runs", async () => {
    let calls = 0;
    const failing = streamTraceBatches(
      fixture("linux-6.1-small/trace.txt.gz"),
      () => {
        calls++;
        throw new RangeError("consumer gave up");
      },
      { threading: "thread" },
    );
    await expect(failing).rejects.toThrow("consumer gave up");
    expect(calls).toBe(1);
    const again = await stream(fixture("ftrace-6.1-hex.txt"), "thread");
    expect(again.error).toBeNull();
    expect(again.rows.length).toBeGreaterThan(0);
  });
});
