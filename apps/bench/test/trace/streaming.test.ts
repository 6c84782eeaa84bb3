import { chmodSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable } from "node:stream";
import { gzipSync } from "node:zlib";
import { describe, expect, test } from "vitest";
import fc from "fast-check";
import { ChunkParser, TraceEventBatch, TraceEventKind as K, TraceErrorCode, TraceParser, TraceReplayer, kernelLineCpuTime, kernelLineMigratetype, parseTraceText, readTraceText, streamTraceBatches } from "../../src/trace/index.js";
import { SyntheticTrace } from "../../src/trace/synth.js";
import { ReferenceAllocator, fixture } from "./helpers.js";

const TRACE = fixture("linux-6.1-small/trace.txt.gz");

function asStdin(bytes: Buffer, pieces = 7): NodeJS.ReadStream {
  const step = Math.ceil(bytes.length / pieces);
  const parts: Buffer[] = [];
  for (let i = 0; i < bytes.length; i += step) parts.push(bytes.subarray(i, i + step));
  return Readable.from(parts) as unknown as NodeJS.ReadStream;
}

/** Parses `text` through the byte-level ChunkParser fed in chunks of `size` bytes. */
function chunked(text: string, size: number, lenient = false): { batch: TraceEventBatch; parser: ChunkParser } {
  const bytes = Buffer.from(text);
  const parser = new ChunkParser({ lenient });
  const batch = new TraceEventBatch(16);
  for (let i = 0; i < bytes.length; i += size) parser.feed(bytes.subarray(i, i + size), batch);
  parser.end(batch);
  return { batch, parser };
}

describe("streaming the Linux 6.1 fixture through the byte-level parser", () => {
  const text = readTraceText(TRACE);
  const expected = [...parseTraceText(text)].map((r) => JSON.stringify(r));

  test.each([97, 4096, 1 << 20])("chunks of %i bytes give the string parser's records, record for record", (size) => {
    const { batch, parser } = chunked(text, size);
    expect(batch.length).toBe(40_646);
    const got: string[] = [];
    for (let i = 0; i < batch.length; i++) got.push(JSON.stringify(batch.record(i)));
    expect(got).toEqual(expected);
    expect(parser.summary().cpus).toBe(2);
  });

  test("every event carries its CPU and timestamp; page events split over the two CPUs", async () => {
    const perCpu = [0, 0];
    let first = Number.NaN;
    let last = Number.NaN;
    await streamTraceBatches(TRACE, (b) => {
      for (let i = 0; i < b.length; i++) {
        expect(b.cpu[i] === 0 || b.cpu[i] === 1).toBe(true);
        if (b.kind[i] === K.Alloc) perCpu[b.cpu[i]!]!++;
        if (Number.isNaN(first)) first = b.time[i]!;
        last = b.time[i]!;
      }
    });
    expect(perCpu[0]! + perCpu[1]!).toBe(12_617);
    expect(first).toBe(3.029758);
    expect(last).toBeGreaterThan(6.2);
  });

  test("every allocation carries the migratetype its line prints (a regex over the text agrees); other events -1", async () => {
    const got = new Map<number, number>();
    let others = 0;
    await streamTraceBatches(TRACE, (b) => {
      for (let i = 0; i < b.length; i++) {
        if (b.kind[i] === K.Alloc) got.set(b.migratetype[i]!, (got.get(b.migratetype[i]!) ?? 0) + 1);
        else if (b.migratetype[i] === -1) others++;
      }
    });
    const printed = new Map<number, number>();
    for (const m of text.matchAll(/ mm_page_alloc: +page=(?!\(null\))\S+ pfn=\S+ order=\d+ migratetype=(\d+)/g)) printed.set(Number(m[1]), (printed.get(Number(m[1])) ?? 0) + 1);
    expect([...got].sort()).toEqual([...printed].sort());
    expect([...got].sort()).toEqual([
      [0, 3828],
      [1, 8782],
      [2, 7],
    ]);
    expect(others).toBe(40_646 - 12_617);
  });

  test("the replayer on batches gives the per-record replay's accounting, with per-CPU counts", async () => {
    const byRecord = new TraceReplayer(new ReferenceAllocator(262_144));
    for (const r of parseTraceText(text)) byRecord.apply(r);
    // Two CPU fronts over one allocator (as buddy.cpu(i) are), counting what goes through each.
    const shared = new ReferenceAllocator(262_144);
    const fronts = [0, 1].map(() => ({
      allocCalls: 0,
      allocPages(order: number): number {
        this.allocCalls++;
        return shared.allocPages(order);
      },
      freePages: (pfn: number, order: number): void => shared.freePages(pfn, order),
    }));
    const byBatch = new TraceReplayer(new ReferenceAllocator(262_144), { fronts });
    await streamTraceBatches(TRACE, (b) => byBatch.applyBatch(b));
    byBatch.check();
    const a = byRecord.report();
    const b = byBatch.report();
    expect({ ...b, markers: b.markers.map((m) => m.text), perCpu: null }).toEqual({ ...a, markers: a.markers.map((m) => m.text), perCpu: null });
    expect(b.perCpu.allocs[0]! + b.perCpu.allocs[1]!).toBe(12_617);
    expect(b.perCpu.frees[0]! + b.perCpu.frees[1]!).toBe(13_078);
    // Each CPU's allocations went through its own front.
    expect([fronts[0]!.allocCalls, fronts[1]!.allocCalls]).toEqual(b.perCpu.allocs);
    expect(b.markers[0]).toEqual({ line: 13, text: "SNAPSHOT_BEFORE begin", time: 3.029758 });
  });
});

describe("inputs: standard input, gzip by magic bytes, bad input", () => {
  const plain = readFileSync(fixture("ftrace-6.1-hex.txt"));

  test("standard input, plain and gzip, gives the file's events", async () => {
    const fromFile = await streamTraceBatches(fixture("ftrace-6.1-hex.txt"), () => {});
    const fromStdin = await streamTraceBatches("-", () => {}, { stdin: asStdin(plain) });
    const fromGzipStdin = await streamTraceBatches("-", () => {}, { stdin: asStdin(gzipSync(plain)) });
    expect(fromStdin.parse).toEqual(fromFile.parse);
    expect(fromGzipStdin.parse).toEqual(fromFile.parse);
    expect([fromStdin.input.gzip, fromGzipStdin.input.gzip]).toEqual([false, true]);
    expect(fromGzipStdin.input.bytesOut).toBe(plain.length);
  });

  test("a terminal, an empty file, a directory and an empty stdin are input errors naming the input", async () => {
    const dir = mkdtempSync(join(tmpdir(), "mmkit-input-"));
    const empty = join(dir, "empty.txt");
    writeFileSync(empty, "");
    mkdirSync(join(dir, "sub"));
    const tty = Object.assign(Readable.from([]), { isTTY: true }) as unknown as NodeJS.ReadStream;
    await expect(streamTraceBatches("-", () => {}, { stdin: tty })).rejects.toMatchObject({ code: TraceErrorCode.Input, message: expect.stringMatching(/^standard input: is a terminal/) });
    await expect(streamTraceBatches(empty, () => {})).rejects.toMatchObject({ code: TraceErrorCode.Input, message: `${empty}: is empty` });
    await expect(streamTraceBatches(join(dir, "sub"), () => {})).rejects.toMatchObject({ code: TraceErrorCode.Input, message: `${join(dir, "sub")}: is a directory, not a trace file` });
    await expect(streamTraceBatches("-", () => {}, { stdin: asStdin(Buffer.alloc(0)) })).rejects.toMatchObject({ code: TraceErrorCode.Input, message: "standard input: is empty" });
    if (process.getuid?.() !== 0) {
      const locked = join(dir, "locked.txt");
      writeFileSync(locked, plain);
      chmodSync(locked, 0);
      await expect(streamTraceBatches(locked, () => {})).rejects.toMatchObject({ code: TraceErrorCode.Input });
    }
  });

  test("a cut gzip stream says after which line the data ends", async () => {
    const dir = mkdtempSync(join(tmpdir(), "mmkit-input-"));
    const cut = join(dir, "cut.gz");
    const gz = gzipSync(plain);
    writeFileSync(cut, gz.subarray(0, Math.floor(gz.length * 0.7)));
    const e = (await streamTraceBatches(cut, () => {}).then(
      () => new Error("no error"),
      (x: unknown) => x as Error,
    )) as Error & { code?: string; line?: number };
    expect(e.code).toBe(TraceErrorCode.Truncated);
    expect(e.message).toBe(`line ${e.line}: gzip data ends after line ${e.line}`);
  });

  test("bytes that are not text in an event line are an error naming line and column; lenient counts them", () => {
    const good = "  cat-155 [001] ..... 3.031357: mm_page_free: page=00000000c8ea8e30 pfn=0x1bac order=1\n";
    const bad = "  cat-155 [001] ..... 3.031358: mm_page_free: page=00000000c8ea8e30 pfn=0x1b\u0000c order=1\n";
    const text = `${good}${bad}${good}`;
    let error: (Error & { code?: string; line?: number }) | undefined;
    try {
      chunked(text, 4096);
    } catch (e) {
      error = e as Error;
    }
    expect([error?.code, error?.line]).toEqual([TraceErrorCode.NotText, 2]);
    expect(error?.message).toMatch(/^line 2: bytes that are not text \(column 77\)/);
    const { batch, parser } = chunked(text, 4096, true);
    expect(batch.length).toBe(2);
    expect([parser.summary().nonTextLines, parser.summary().lines]).toEqual([1, 3]);
    // Invalid UTF-8 is not text either.
    const latin = Buffer.concat([Buffer.from(good), Buffer.from(good.replace("cat", "c\xe9t"), "latin1")]);
    const p2 = new ChunkParser({ lenient: true });
    p2.feed(latin, new TraceEventBatch(4));
    expect(p2.summary().nonTextLines).toBe(1);
  });
});

describe("the synthetic trace generator", () => {
  test("is deterministic, parses without a malformed line and has the fixture's shape", () => {
    const text = (seed: number): string => Buffer.concat([...new SyntheticTrace({ events: 20_000, cpus: 4, seed }).chunks()]).toString("latin1");
    const a = text(7);
    expect(text(7)).toBe(a);
    expect(text(8)).not.toBe(a);
    const { batch, parser } = chunked(a, 1 << 16);
    const summary = parser.summary();
    expect(batch.length).toBe(20_000);
    expect([summary.cpus, summary.malformedLines, summary.unrecognizedLines]).toEqual([4, 0, 0]);
    const replayer = new TraceReplayer(new ReferenceAllocator(1 << 24));
    replayer.applyBatch(batch);
    replayer.check();
    const r = replayer.report();
    const allocs = r.allocsByOrder.reduce((x, y) => x + y, 0);
    expect(r.allocsByOrder[0]! / allocs).toBeGreaterThan(0.95);
    expect(r.allocsByOrder[1]! / allocs).toBeGreaterThan(0.015);
    expect(r.freesUnmatched / r.events.free).toBeGreaterThan(0.02);
    expect(r.events.freeBatched / r.events.free).toBeGreaterThan(0.7);
    expect(r.events.zoneLocked).toBeGreaterThan(0);
    expect(r.perCpu.allocs.length).toBe(4);
    expect(r.perCpu.allocs.every((n) => n > allocs / 8)).toBe(true);
    expect(r.phases.length).toBeGreaterThan(5);
  });
});

describe("the byte-level fast path reads exactly what the string parser reads", () => {
  const FIXTURES = ["ftrace-6.1-hex.txt", "ftrace-4.9-decimal.txt", "ftrace-2.6.32-free-direct.txt", "trace-cmd-report.txt", "perf-script.txt", "function-graph.txt", "mmkit-basic.trace"];
  test.each(FIXTURES)("%s: the same records and summary, streamed", async (name) => {
    const text = readTraceText(fixture(name));
    const gen = parseTraceText(text);
    const records: string[] = [];
    let n = gen.next();
    for (; n.done !== true; n = gen.next()) records.push(JSON.stringify(n.value));
    const streamed: string[] = [];
    const { parse } = await streamTraceBatches(fixture(name), (b) => {
      for (let i = 0; i < b.length; i++) streamed.push(JSON.stringify(b.record(i)));
    });
    expect(streamed).toEqual(records);
    expect({ ...parse, cpus: null, nonTextLines: 0 }).toEqual({ ...n.value, cpus: null, nonTextLines: 0 });
  });

  test("model-based: any edit of a real line gives the same record, CPU and time, or the same error, on both paths", () => {
    const lines = readTraceText(fixture("ftrace-6.1-hex.txt"))
      .split("\n")
      .filter((l) => l.includes(": mm_page_"));
    const outcome = (fn: () => unknown): string => {
      try {
        return JSON.stringify(fn());
      } catch (e) {
        return `error ${(e as Error).message}`;
      }
    };
    fc.assert(
      fc.property(fc.nat(lines.length - 1), fc.array(fc.tuple(fc.nat(200), fc.constantFrom("del", "ins", "set"), fc.constantFrom(" ", "0", "9", "x", "f", ":", ".", "[", "]", "=", "-", "(", ")", "\t", "a")), { minLength: 1, maxLength: 3 }), (which, edits) => {
        let line = lines[which]!;
        for (const [at, op, ch] of edits) {
          const i = at % (line.length + 1);
          line = op === "del" ? line.slice(0, i) + line.slice(i + 1) : op === "ins" ? line.slice(0, i) + ch + line.slice(i) : line.slice(0, i) + ch + line.slice(i + 1);
        }
        const slow = outcome(() => {
          const parser = new TraceParser({ format: "kernel" });
          const r = parser.line(line);
          return r === null ? null : { r, ...kernelLineCpuTime(line), migratetype: r.kind === K.Alloc ? kernelLineMigratetype(line) : -1 };
        });
        const fast = outcome(() => {
          const chunks = new ChunkParser({ format: "kernel" });
          const batch = new TraceEventBatch(4);
          chunks.feed(Buffer.from(`${line}\n`), batch);
          return batch.length === 0 ? null : { r: batch.record(0), cpu: batch.cpu[0], time: batch.time[0], migratetype: batch.migratetype[0] };
        });
        expect(fast).toBe(slow);
      }),
      { numRuns: Number(process.env.MMKIT_FUZZ_RUNS ?? 3000) },
    );
  });

  test("every single-character edit and every cut of each fast-path event line reads the same on both paths (the word compares' edges)", () => {
    const lines = readTraceText(fixture("ftrace-6.1-hex.txt"))
      .split("\n")
      .filter((l) => / mm_page_(alloc|free|free_batched|pcpu_drain|alloc_zone_locked): /.test(l));
    // Every fast-path kind, plus a padded trace-cmd name and a decimal pfn.
    lines.push("bash-1843 [000] 5012.113301: mm_page_free_batched:        page=0xffffea0003a0c000 pfn=1267029 order=0");
    // perf script (a padded event column, the kmem: subsystem), trace-cmd's 0x pointers, a failed allocation printed 0x0.
    lines.push(...readTraceText(fixture("perf-script.txt")).split("\n").slice(0, 3));
    lines.push("          <idle>-0     [000]  5012.113203: mm_page_alloc:        page=0xffffea0000c1d2c0 pfn=0xc4b4b order=0 migratetype=0 gfp_flags=GFP_ATOMIC");
    lines.push("bash-1843 [000] 5012.113301: mm_page_alloc: page=0x0 pfn=0 order=9 migratetype=1 gfp_flags=GFP_TRANSHUGE");
    // Migratetypes past the column's range (127), and past 2^53 (-1, as the slow path's number reading).
    lines.push("  init-1 [000] ..... 3.030646: mm_page_alloc: page=0000000027007a19 pfn=0x1baa order=1 migratetype=300 gfp_flags=GFP_KERNEL");
    lines.push("  init-1 [000] ..... 3.030646: mm_page_alloc: page=0000000027007a19 pfn=0x1baa order=1 migratetype=99999999999999999 gfp_flags=GFP_KERNEL");
    expect(new Set(lines.map((l) => /[ :](mm_page_\w+):/.exec(l)![1])).size).toBe(5);
    const read = (line: string, newline: boolean): string => {
      let slow: string;
      try {
        const parser = new TraceParser({ format: "kernel" });
        const r = parser.line(line, newline);
        slow = JSON.stringify(r === null ? null : { r, ...kernelLineCpuTime(line), migratetype: r.kind === K.Alloc ? kernelLineMigratetype(line) : -1 });
      } catch (e) {
        slow = `error ${(e as Error).message}`;
      }
      let fast: string;
      try {
        const chunks = new ChunkParser({ format: "kernel" });
        const batch = new TraceEventBatch(4);
        // Alone in its chunk: a compare that runs past the line runs past the buffer.
        chunks.feed(Buffer.from(newline ? `${line}\n` : line), batch);
        chunks.end(batch);
        fast = JSON.stringify(batch.length === 0 ? null : { r: batch.record(0), cpu: batch.cpu[0], time: batch.time[0], migratetype: batch.migratetype[0] });
      } catch (e) {
        fast = `error ${(e as Error).message}`;
      }
      return fast === slow ? "" : `${JSON.stringify(line)}: fast ${fast} slow ${slow}`;
    };
    const differences: string[] = [];
    let cases = 0;
    for (const line of lines) {
      for (let i = 0; i <= line.length; i++) {
        for (const cut of [true, false]) {
          cases++;
          const d = read(line.slice(0, i), cut);
          if (d !== "") differences.push(d);
        }
        if (i === line.length) break;
        for (const ch of [" ", "\t", ":", "=", "_", "0", "9", "a", "x", "c", "d", "e", "X", "\u0001", "\u00e9"]) {
          cases++;
          const d = read(line.slice(0, i) + ch + line.slice(i + 1), true);
          if (d !== "") differences.push(d);
        }
        cases++;
        const d = read(line.slice(0, i) + line.slice(i + 1), true);
        if (d !== "") differences.push(d);
      }
    }
    expect(cases).toBeGreaterThan(15_000);
    expect(differences.slice(0, 5)).toEqual([]);
  });

  test("long timestamps (past 2^53 as an integer) and control bytes in the page pointer read as the string parser reads them", () => {
    const lines = [
      "  cat-155 [001] ..... 3.030646: mm_page_free: page=00000000c9b0a5a1 pfn=0x1bac order=1",
      "  cat-155 [001] ..... 123456789.123456: mm_page_free: page=00000000c9b0a5a1 pfn=0x1bac order=1",
      "  cat-155 [001] ..... 1234567890.123456: mm_page_free: page=00000000c9b0a5a1 pfn=0x1bac order=1",
      "  cat-155 [001] ..... 12345678901.1234567: mm_page_free: page=00000000c9b0a5a1 pfn=0x1bac order=1",
      "  cat-155 [001] ..... 98765432109876.54321: mm_page_free: page=00000000c9b0a5a1 pfn=0x1bac order=1",
      "  cat-155 [001] ..... 3.030646: mm_page_free: page=00000000\u0001c9b0a5a1 pfn=0x1bac order=1",
      "  cat-155 [001] ..... 3.030646: mm_page_free: page=0000\u007f0000c9b0a5a1 pfn=0x1bac order=1",
    ];
    const parser = new TraceParser({ format: "kernel" });
    const slow = lines.map((line) => JSON.stringify({ r: parser.line(line), ...kernelLineCpuTime(line) }));
    const chunks = new ChunkParser({ format: "kernel" });
    const batch = new TraceEventBatch(4);
    chunks.feed(Buffer.from(`${lines.join("\n")}\n`), batch);
    const fast = lines.map((_, i) => JSON.stringify({ r: batch.record(i), cpu: batch.cpu[i], time: batch.time[i] }));
    expect(fast).toEqual(slow);
    expect(batch.time[4]).toBe(98765432109876.54321);
    expect(chunks.summary()).toEqual(parser.summary());
  });

  test("model-based: runs of edited lines in one chunk (the fast path remembers columns from line to line) read as line by line", () => {
    const lines = readTraceText(fixture("ftrace-6.1-hex.txt"))
      .split("\n")
      .filter((l) => l.includes(": "));
    const edit = fc.tuple(fc.nat(200), fc.constantFrom("del", "ins", "set"), fc.constantFrom(" ", "0", "1", ":", ".", "[", "]", "=", "\t", "a", ": ", "1.5: ", "[7]"));
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.nat(lines.length - 1), fc.array(edit, { maxLength: 2 })), { minLength: 1, maxLength: 6 }), (picks) => {
        const edited = picks.map(([which, edits]) => {
          let line = lines[which]!;
          for (const [at, op, ch] of edits) {
            const i = at % (line.length + 1);
            line = op === "del" ? line.slice(0, i) + line.slice(i + 1) : op === "ins" ? line.slice(0, i) + ch + line.slice(i) : line.slice(0, i) + ch + line.slice(i + 1);
          }
          return line;
        });
        const slow: string[] = [];
        const parser = new TraceParser({ format: "kernel", lenient: true });
        for (const line of edited) {
          const r = parser.line(line);
          if (r !== null) slow.push(JSON.stringify({ r, ...kernelLineCpuTime(line), migratetype: r.kind === K.Alloc ? kernelLineMigratetype(line) : -1 }));
        }
        const chunks = new ChunkParser({ format: "kernel", lenient: true });
        const batch = new TraceEventBatch(4);
        chunks.feed(Buffer.from(`${edited.join("\n")}\n`), batch);
        const fast: string[] = [];
        for (let i = 0; i < batch.length; i++) fast.push(JSON.stringify({ r: batch.record(i), cpu: batch.cpu[i], time: batch.time[i], migratetype: batch.migratetype[i] }));
        expect(fast).toEqual(slow);
        expect(chunks.summary()).toEqual(parser.summary());
      }),
      { numRuns: Number(process.env.MMKIT_FUZZ_RUNS ?? 3000) },
    );
  });
});

describe("input that is not line-shaped", () => {
  test("a line of more than 1 MiB is not text: strict throws naming it, lenient skips to the next newline; memory does not follow it", () => {
    const good = "  cat-155 [001] ..... 3.031357: mm_page_free: page=00000000c8ea8e30 pfn=0x1bac order=1\n";
    const strict = new ChunkParser();
    const batch = new TraceEventBatch(4);
    strict.feed(Buffer.from(good), batch);
    expect(() => {
      for (let i = 0; i < 3; i++) strict.feed(Buffer.alloc(512 * 1024, 0x41), batch);
    }).toThrow(/^line 2: a line longer than 1048576 bytes \(not a text trace\?\)/);
    const lenient = new ChunkParser({ lenient: true });
    const kept = new TraceEventBatch(4);
    lenient.feed(Buffer.from(good), kept);
    for (let i = 0; i < 8; i++) lenient.feed(Buffer.alloc(512 * 1024, 0x41), kept);
    lenient.feed(Buffer.from(`AAAA\n${good}`), kept);
    lenient.end(kept);
    expect(kept.length).toBe(2);
    expect([lenient.summary().nonTextLines, lenient.summary().lines]).toEqual([1, 3]);
  });
});
