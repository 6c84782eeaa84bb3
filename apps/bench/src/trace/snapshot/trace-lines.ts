import { createReadStream } from "node:fs";
import { createInterface } from "node:readline";
import { createGunzip } from "node:zlib";
import type { TraceRecord } from "../events.js";
import { TraceParser, type TraceParseSummary, type TraceParserOptions } from "../parser.js";
import { isGzipFile } from "../read-file.js";

/**
 * Streams a trace file (plain or gzip) line by line through a {@link TraceParser}, handing each
 * record to `onRecord` together with its raw line, for readers that need a field the record does
 * not keep (the allocation's migratetype, the CPU column). Memory: one line at a time.
 *
 * @example
 * ```ts
 * await streamTraceLines("trace.txt.gz", {}, (record, text) => { if (record.kind === TraceEventKind.Alloc) use(text); });
 * ```
 */
export async function streamTraceLines(path: string, options: TraceParserOptions, onRecord: (record: TraceRecord, text: string) => void): Promise<TraceParseSummary> {
  const parser = new TraceParser(options);
  const file = createReadStream(path, { highWaterMark: 1 << 16 });
  const input = isGzipFile(path) ? file.pipe(createGunzip()) : file;
  const lines = createInterface({ input, crlfDelay: Number.POSITIVE_INFINITY });
  try {
    for await (const text of lines) {
      const r = parser.line(text);
      if (r !== null) onRecord(r, text);
    }
  } finally {
    lines.close();
    file.destroy();
  }
  return parser.summary();
}

/** An allocation's migratetype and CPU as a kernel trace line prints them (`migratetype=1`, `[001]`). */
export interface AllocAttributes {
  /** 0 Unmovable, 1 Movable, 2 Reclaimable; -1 when the line does not say. */
  migratetype: number;
  /** CPU column; -1 when the line has none. */
  cpu: number;
}

/**
 * Reads the migratetype and CPU of an `mm_page_alloc` line. Migratetypes the model lacks are
 * folded as the snapshot's counts are (HighAtomic 3 to Unmovable, CMA and Isolate to Movable).
 *
 * @example
 * ```ts
 * allocAttributes("cat-155 [001] ..... 3.03: mm_page_alloc: page=0 pfn=0x1 order=0 migratetype=1 gfp_flags=X"); // { migratetype: 1, cpu: 1 }
 * ```
 */
export function allocAttributes(text: string): AllocAttributes {
  const mt = /\bmigratetype=(\d+)/.exec(text);
  const cpu = /\[(\d{1,4})\]/.exec(text);
  let migratetype = mt === null ? -1 : Number(mt[1]);
  if (migratetype === 3) migratetype = 0;
  else if (migratetype > 3) migratetype = 1;
  return { migratetype, cpu: cpu === null ? -1 : Number(cpu[1]) };
}
