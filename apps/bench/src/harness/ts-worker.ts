import { createRequire } from "node:module";
import { Worker } from "node:worker_threads";

// tsx's programmatic loader as an ES module (its `require` entry cannot load the ESM half).
const TSX_API = createRequire(import.meta.url).resolve("tsx/esm/api").replace(/\.cjs$/, ".mjs");

/**
 * Starts a worker thread running a TypeScript module of the bench through tsx: `node --import tsx`
 * (how the bench runs) does not reach worker threads on Node 20. The caller owns the worker
 * (messages, `terminate`).
 *
 * @example
 * ```ts
 * const worker = startTsWorker(new URL("../workers/shared-churn.ts", import.meta.url), { index: 0 });
 * ```
 */
export function startTsWorker(entry: URL, workerData: unknown): Worker {
  const code = `import(${JSON.stringify(TSX_API)}).then(({ tsImport }) => tsImport(${JSON.stringify(entry.href)}, ${JSON.stringify(entry.href)}))`;
  return new Worker(code, { eval: true, workerData });
}
