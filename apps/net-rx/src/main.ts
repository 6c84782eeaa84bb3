// `pnpm --filter @mmkit/net-rx start [--mb N] [--frag-size BYTES] [--seed N] [--inline] [--adaptive] [--help]`: receive
// N MiB over TCP on 127.0.0.1 into fragment-cache buffers and report throughput and cache statistics.
// --inline frees each fragment inside its read callback (then used-up blocks are recycled in place).
import { parseNetRxArgs } from "./command-line.js";
import { runTransfer } from "./transfer.js";

const parsed = parseNetRxArgs(process.argv.slice(2));
if ("exit" in parsed) {
  if (parsed.exit === 0) process.stdout.write(parsed.stdout);
  else process.stderr.write(parsed.stderr);
  process.exit(parsed.exit);
}
const { mb, fragSize, seed, inline, adaptive } = parsed.options;

const r = await runTransfer({ bytes: Math.round(mb * 1024 * 1024), fragSize, seed, inlineConsumer: inline, adaptive });
const c = r.cache;
const lines = [
  `received ${r.bytesReceived} of ${r.bytesSent} bytes over 127.0.0.1 in ${r.elapsedMs.toFixed(0)} ms: ${r.megabytesPerSecond.toFixed(1)} MB/s`,
  `integrity: ${r.firstBadByte < 0 ? "every byte intact" : `first bad byte at stream offset ${r.firstBadByte}`}`,
  `reads: ${r.receiver.reads} into ${fragSize}-byte fragments${adaptive ? ` (adaptive: ${r.receiver.resizes} resizes, ${r.receiver.peakFragSize} at most, ${r.finalFragSize} at the end)` : ""}, ${r.receiver.viewsMade} buffer views made (${(r.bytesReceived / Math.max(1, r.receiver.reads)).toFixed(0)} bytes/read, ${r.receiver.emergencyReads} emergency), consumer held at most ${r.maxQueued}`,
  `fragments: ${c.fragmentsAllocated} allocated, ${c.fragmentsFreed} freed, ${c.liveFragments} live`,
  `blocks: ${c.blocksTaken} taken from buddy, ${c.blocksRecycled} recycled in place (${((c.blocksRecycled / Math.max(1, c.fragmentsAllocated)) * 1000).toFixed(1)} per 1k fragments), ${c.fallbacks} single-page fallbacks, ${c.blocksReturned} returned`,
  `waste: ${c.bytesWastedTail} bytes of block tails, ${c.bytesWastedAlignment} of alignment, ${c.bytesWastedRounding} of rounding to 16 bytes, ${r.receiver.slackBytes} of unfilled read buffers`,
  `buddy free pages: ${r.freePagesBefore} before, ${r.freePagesAfter} after`,
];
console.log(lines.join("\n"));
if (r.firstBadByte >= 0 || r.bytesReceived !== r.bytesSent || c.liveFragments !== 0 || r.freePagesAfter !== r.freePagesBefore) process.exitCode = 1;
