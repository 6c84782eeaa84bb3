// One slow-consumer run of the `net-rx` suite in a fresh process, so its RSS is its own:
// `node --import tsx slow-consumer-process.ts <path> <port> <bytes> <bytesPerMs> <budget>` prints
// the run's SlowFigures as one JSON line.
import { receiveSlowly, SLOW_PATHS, type SlowPath } from "./slow-consumer.js";

const [path, port, bytes, bytesPerMs, budget] = process.argv.slice(2);
if (!SLOW_PATHS.includes(path as SlowPath)) {
  console.error(`slow-consumer-process: unknown path ${JSON.stringify(path)}`);
  process.exit(2);
}
const figures = await receiveSlowly(path as SlowPath, Number(port), { bytes: Number(bytes), bytesPerMs: Number(bytesPerMs), budget: Number(budget) });
process.stdout.write(`${JSON.stringify(figures)}\n`);
