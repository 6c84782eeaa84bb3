import { MmkitError } from "@mmkit/physmem";
import type { Worker } from "node:worker_threads";
import { startTsWorker } from "../harness/ts-worker.js";
import { TraceError, type TraceErrorCode } from "./errors.js";
import { TraceEventBatch } from "./event-batch.js";
import type { FromParseThread, ParseJob, SentError, ToParseThread } from "./parse-protocol.js";
import type { TraceParseSummary } from "./parser.js";
import type { TraceInputEnding } from "./trace-input.js";

/**
 * Parsing on its own thread: a job goes to a parse worker (`parse-worker.ts`), whose event batches
 * come back as typed-array columns and are handed to `onBatch` here while the worker parses the
 * next ones. Parsing and replay overlap, so a replay runs at the pace of the slower of the two
 * instead of their sum. Workers are kept (unreferenced) between jobs: starting one through tsx
 * costs about half a second, paid once per process.
 */

const idle: Worker[] = [];

function acquire(): Worker {
  let worker = idle.pop();
  // A thread that ended while idle (stopped, killed) has threadId -1: never handed out again.
  while (worker !== undefined && worker.threadId === -1) worker = idle.pop();
  worker ??= startTsWorker(new URL("./parse-worker.ts", import.meta.url), null);
  worker.ref();
  return worker;
}

function release(worker: Worker): void {
  worker.removeAllListeners("message");
  worker.removeAllListeners("error");
  worker.removeAllListeners("exit");
  worker.unref();
  idle.push(worker);
}

/**
 * Ends the parse threads kept idle between jobs, giving their memory back (the next job starts a
 * new one), and resolves to how many there were. O(threads).
 *
 * @example
 * ```ts
 * await stopIdleParseThreads(); // 1 after a large trace was streamed
 * ```
 */
export async function stopIdleParseThreads(): Promise<number> {
  const stopping = idle.slice();
  await Promise.all(stopping.map((w) => w.terminate()));
  return stopping.length;
}

/** The error the parse thread sent, made again here: same class, code, message and line. */
function revive(e: SentError): Error {
  let error: Error;
  if (e.kind === "trace") error = new TraceError(e.code as TraceErrorCode, e.line, "", e.content);
  else if (e.kind === "mmkit") error = new MmkitError(e.code, e.message);
  else error = new Error(e.message);
  error.message = e.message;
  if (e.stack !== "") error.stack = e.stack;
  return error;
}

/** What {@link parseOnThread} read. */
export interface ThreadParseResult {
  summary: TraceParseSummary;
  ending: TraceInputEnding;
  /** Seconds the parse thread spent reading and parsing (not waiting for the consumer, not in a synthetic trace's generator). */
  busySeconds: number;
  /** CPU seconds of the parse thread for the job (10 ms ticks; NaN off Linux): reading and parsing, load-independent. */
  cpuSeconds: number;
}

/**
 * Runs `job` on a parse thread, calling `onBatch` with each batch of events (reused: read it, do
 * not keep it), `onText` with the first `job.keepText` bytes of text, and `onProgress` after each
 * batch. Resolves when the input is parsed; rejects with the parse thread's error, or `onBatch`'s
 * (the thread is then stopped).
 *
 * Cost: O(input) on the parse thread; here O(1) per batch plus `onBatch`; memory O(4 batches).
 *
 * @example
 * ```ts
 * await parseOnThread({ source: { path: "big.txt.gz" }, parser: {}, keepText: 0 }, (batch) => replayer.applyBatch(batch));
 * ```
 */
export function parseOnThread(
  job: ParseJob,
  onBatch: (batch: TraceEventBatch) => void,
  onText: (chunk: Buffer) => void = () => undefined,
  onProgress?: (bytes: number, lines: number, events: number) => void,
): Promise<ThreadParseResult> {
  const worker = acquire();
  const batch = new TraceEventBatch(0);
  return new Promise<ThreadParseResult>((resolve, reject) => {
    const fail = (e: unknown): void => {
      worker.removeAllListeners("message");
      void worker.terminate();
      reject(e);
    };
    worker.on("message", (m: FromParseThread) => {
      try {
        if (m.type === "batch") {
          batch.adopt(m.columns, m.length, m.texts);
          onBatch(batch);
          onProgress?.(m.bytes, m.lines, m.events);
          const ack: ToParseThread = { type: "ack", columns: m.columns };
          worker.postMessage(ack, m.columns);
        } else if (m.type === "text") onText(Buffer.from(m.chunk));
        else if (m.type === "end") {
          release(worker);
          resolve({ summary: m.summary, ending: m.ending, busySeconds: m.busySeconds, cpuSeconds: m.cpuSeconds });
        } else {
          release(worker);
          reject(revive(m.error));
        }
      } catch (e) {
        fail(e);
      }
    });
    worker.on("error", fail);
    worker.on("exit", (code) => fail(new Error(`the trace parse thread stopped (exit code ${code})`)));
    const start: ToParseThread = { type: "job", job };
    worker.postMessage(start);
  });
}
