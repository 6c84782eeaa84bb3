// `pnpm --filter @mmkit/net-rx compare [--mb N] [--rounds N]`: receive N MiB over 127.0.0.1 along each
// of Node's plain paths and net-rx's, interleaved, and print throughput, CPU per GiB and GC.
import { parseArgs } from "node:util";
import { compareReceivePaths } from "./compare.js";

const { values } = parseArgs({ options: { mb: { type: "string", default: "256" }, rounds: { type: "string", default: "5" } } });
const mb = Number(values.mb);
const rounds = Number(values.rounds);
if (!(mb > 0 && mb <= 4096) || !(Number.isInteger(rounds) && rounds >= 1 && rounds <= 50)) {
  console.error("usage: compare [--mb 1..4096] [--rounds 1..50]");
  process.exit(2);
}
const rows = await compareReceivePaths({ bytes: Math.round(mb * 1024 * 1024), rounds });
console.log(`${mb} MiB over 127.0.0.1, ${rounds} rounds per path, interleaved; medians (GC summed over the rounds)`);
console.log("path                         MB/s   CPU ms/GiB   reads    GCs  GC pause ms  data outlives the callback without a copy");
for (const r of rows) {
  console.log(
    `${r.path.padEnd(27)} ${r.megabytesPerSecond.toFixed(0).padStart(6)} ${r.cpuMsPerGiB.toFixed(0).padStart(12)} ${String(r.reads).padStart(7)} ${String(r.gcCount).padStart(6)} ${r.gcPauseMs.toFixed(1).padStart(12)}  ${r.outlivesCallback ? (r.path.startsWith("net-rx") ? "yes (bounded: 32 MiB of fragments)" : "yes (a fresh buffer per read)") : "no"}`,
  );
}
