// `pnpm --filter @mmkit/net-rx start [--mb N] [--frag-size BYTES] [--seed N] [--inline]`: receive
// N MiB over TCP on 127.0.0.1 into fragment-cache buffers and report throughput and cache statistics.
// --inline frees each fragment inside its read callback (then used-up blocks are recycled in place).
// --adaptive sizes the read buffers to the reads (from --frag-size, doubling and halving within 256..32768).
import { parseArgs } from "node:util";
import { runTransfer } from "./transfer.js";

const { values } = parseArgs({
  options: {
    mb: { type: "string", default: "64" },
    "frag-size": { type: "string", default: "2048" },
    seed: { type: "string", default: "1" },
    inline: { type: "boolean", default: false },
    adaptive: { type: "boolean", default: false },
  },
});
const mb = Number(values.mb);
const fragSize = Number(values["frag-size"]);
if (!(mb > 0 && mb <= 4096) || !Number.isInteger(fragSize) || fragSize < 1 || fragSize > 32768) {
  console.error("usage: start [--mb 1..4096] [--frag-size 1..32768] [--seed N] [--inline] [--adaptive]");
  process.exit(2);
}

const r = await runTransfer({ bytes: Math.round(mb * 1024 * 1024), fragSize, seed: Number(values.seed), inlineConsumer: values.inline === true, adaptive: values.adaptive === true });
const c = r.cache;
const lines = [
  `received ${r.bytesReceived} of ${r.bytesSent} bytes over 127.0.0.1 in ${r.elapsedMs.toFixed(0)} ms: ${r.megabytesPerSecond.toFixed(1)} MB/s`,
  `integrity: ${r.firstBadByte < 0 ? "every byte intact" : `first bad byte at stream offset ${r.firstBadByte}`}`,
  `reads: ${r.receiver.reads} into ${fragSize}-byte fragments${values.adaptive === true ? ` (adaptive: ${r.receiver.resizes} resizes, ${r.finalFragSize} at the end)` : ""}, ${r.receiver.viewsMade} buffer views made (${(r.bytesReceived / Math.max(1, r.receiver.reads)).toFixed(0)} bytes/read, ${r.receiver.emergencyReads} emergency), consumer held at most ${r.maxQueued}`,
  `fragments: ${c.fragmentsAllocated} allocated, ${c.fragmentsFreed} freed, ${c.liveFragments} live`,
  `blocks: ${c.blocksTaken} taken from buddy, ${c.blocksRecycled} recycled in place (${((c.blocksRecycled / Math.max(1, c.fragmentsAllocated)) * 1000).toFixed(1)} per 1k fragments), ${c.fallbacks} single-page fallbacks, ${c.blocksReturned} returned`,
  `waste: ${c.bytesWastedTail} bytes of block tails, ${c.bytesWastedAlignment} of alignment, ${c.bytesWastedRounding} of rounding to 16 bytes, ${r.receiver.slackBytes} of unfilled read buffers`,
  `buddy free pages: ${r.freePagesBefore} before, ${r.freePagesAfter} after`,
];
console.log(lines.join("\n"));
if (r.firstBadByte >= 0 || r.bytesReceived !== r.bytesSent || c.liveFragments !== 0 || r.freePagesAfter !== r.freePagesBefore) process.exitCode = 1;
