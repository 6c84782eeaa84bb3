/// <reference types="node" />
import { createRequire } from "node:module";
import { Worker } from "node:worker_threads";

// tsx's programmatic loader, as an ES module (its `require` entry cannot load the ESM half).
const TSX_API = createRequire(import.meta.url).resolve("tsx/esm/api").replace(/\.cjs$/, ".mjs");

/**
 * Starts a Node worker thread running a TypeScript file (through tsx, so it can import a package's
 * `src/`): `--import tsx` in `execArgv` does not reach worker threads on Node 20. Resolves with
 * the last message the worker posted, once it exits with code 0; rejects on an error or another
 * exit code. `onMessage` sees every message as it comes.
 *
 * @example
 * ```ts
 * const last = await runTsWorker(new URL("./stress-worker.ts", import.meta.url), { handle, seed: 1 });
 * ```
 */
export function runTsWorker(entry: URL, workerData: unknown, onMessage?: (message: unknown) => void): Promise<unknown> {
  const code = `import(${JSON.stringify(TSX_API)}).then(({ tsImport }) => tsImport(${JSON.stringify(entry.href)}, ${JSON.stringify(entry.href)}))`;
  return new Promise((resolve, reject) => {
    const worker = new Worker(code, { eval: true, workerData });
    let last: unknown;
    worker.on("message", (m: unknown) => {
      last = m;
      onMessage?.(m);
    });
    worker.on("error", reject);
    worker.on("exit", (exitCode) => (exitCode === 0 ? resolve(last) : reject(new Error(`worker ${entry.pathname} exited with code ${exitCode}`))));
  });
}
