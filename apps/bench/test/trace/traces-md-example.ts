import { parseTraceText, replayTrace, replayTraceFile, type PageAllocator } from "../../src/trace/index.js";

// Any page allocator fits; here a bump allocator over 1 GiB of 4 KiB pages that never reuses.
let next = 0;
const bump: PageAllocator = {
  allocPages: (order) => (next + 2 ** order <= 262_144 ? (next += 2 ** order) - 2 ** order : -1),
  freePages: () => {},
};

// A kernel trace as `cat /sys/kernel/tracing/trace` prints it (header lines start with #).
const ftrace = `# tracer: nop
  init-1   [000] .....  3.030646: tracing_mark_write: PHASE boot
  init-1   [000] .....  3.030700: mm_page_alloc: page=0000000027007a19 pfn=0x1baa order=1 migratetype=0 gfp_flags=GFP_KERNEL
   cat-155 [001] ...1.  3.031357: mm_page_free: page=00000000c8ea8e30 pfn=0x1bac order=1
  init-1   [000] .....  3.032100: mm_page_free: page=0000000027007a19 pfn=0x1baa order=1
`;
const report = replayTrace(parseTraceText(ftrace), bump);
console.log(report.allocsByOrder); // => [0,1]
console.log(report.freesMatched, report.freesUnmatched); // => 1 1
console.log(report.phases.map((p) => [p.name, p.allocPages, p.peakLivePages])); // => [["boot",2,2]]

// mmkit's own line format, for traces you write or generate.
const mine = replayTrace(parseTraceText("phase warm\nalloc a size=12K\nalloc b order=0\nfree a\n"), bump);
console.log(mine.allocPages, mine.livePagesAtEnd, mine.peakLivePages); // => 5 1 5

// A file, plain or gzip, streamed (here the real Linux 6.1 capture shipped as a fixture).
const { parse, replay } = await replayTraceFile("fixtures/traces/linux-6.1-small/trace.txt.gz", bump);
console.log(parse.events.alloc, parse.events.free, parse.events.freeBatched); // => 12617 13078 11712
console.log(replay.freesMatched, replay.freesUnmatched, replay.peakLivePages); // => 12564 514 2153
