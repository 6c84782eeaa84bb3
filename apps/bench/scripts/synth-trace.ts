// Writes a synthetic Linux 6.1 ftrace page-allocator trace to standard output (see src/trace/synth.ts):
//   node --import tsx scripts/synth-trace.ts <events> [cpus] [seed] | gzip > synth.txt.gz
//   node --import tsx scripts/synth-trace.ts 10M | pnpm bench --trace -
import { once } from "node:events";
import { parseCount } from "../src/command.js";
import { SyntheticTrace } from "../src/trace/synth.js";

const [events = "", cpus = "4", seed = "1"] = process.argv.slice(2);
let trace: SyntheticTrace;
try {
  trace = new SyntheticTrace({ events: parseCount(events), cpus: parseCount(cpus), seed: parseCount(seed) });
} catch (e) {
  process.stderr.write(`usage: synth-trace.ts <events, e.g. 10M> [cpus] [seed]: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exit(2);
}
for (const chunk of trace.chunks()) if (!process.stdout.write(chunk)) await once(process.stdout, "drain");
