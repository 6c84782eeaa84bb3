import { MmkitError } from "@mmkit/physmem";
import { parentPort } from "node:worker_threads";
import { ChunkParser } from "./chunk-parser.js";
import { TraceError } from "./errors.js";
import { TraceEventBatch } from "./event-batch.js";
import { BATCHES_AHEAD, type FromParseThread, type ParseJob, type SentError, type ToParseThread } from "./parse-protocol.js";
import { SyntheticTrace } from "./synth.js";
import { threadCpuSeconds } from "./thread-cpu.js";
import { chunkSourceInput, openTraceInput, type TraceInput } from "./trace-input.js";

/**
 * The trace parse thread (a worker started by `parse-thread.ts`): reads a job's input (a gzip
 * file through its own inflate worker, so the chain is inflate -> parse -> replay, each on its own
 * thread), parses it with a {@link ChunkParser} and posts its events as transferred typed-array
 * columns, a batch once it holds {@link SEND_EVENTS} events (a few chunks' worth) or the input ends.
 * It waits whenever {@link BATCHES_AHEAD} batches are unreturned. One job at a time; the thread
 * stays for the next job.
 */

const port = parentPort!;
/** Events a batch's columns hold room for (2 MiB of columns). */
const BATCH_CAPACITY = 1 << 16;
/**
 * A batch is posted once it holds this many events, not after every 1 MiB chunk (~8k events of
 * ftrace text): each post and its return wake the other thread, and on a busy machine a wake-up
 * often costs the waker its time slice. Half the capacity, so the chunk that fills it (lines of
 * 32 bytes or more) never makes the columns grow.
 */
const SEND_EVENTS = BATCH_CAPACITY / 2;
/** Column sets given back by the main thread, reused for the next batches. */
const spare: ArrayBuffer[][] = [];
let credits = 0;
let wake: (() => void) | null = null;

function post(message: FromParseThread, transfer: ArrayBuffer[] = []): void {
  port.postMessage(message, transfer);
}

function sendable(e: unknown): SentError {
  const base = { message: e instanceof Error ? e.message : String(e), stack: e instanceof Error ? (e.stack ?? "") : "", line: 0, content: "" };
  if (e instanceof TraceError) return { ...base, kind: "trace", code: e.code, line: e.line, content: e.content };
  if (e instanceof MmkitError) return { ...base, kind: "mmkit", code: e.code };
  return { ...base, kind: "error", code: "" };
}

function inputOf(job: ParseJob): TraceInput {
  if ("path" in job.source) return openTraceInput(job.source.path);
  const { name, events, cpus, seed } = job.source.synth;
  return chunkSourceInput({ name, chunks: () => new SyntheticTrace({ events, cpus, seed }).chunks() });
}

async function run(job: ParseJob): Promise<void> {
  credits = BATCHES_AHEAD;
  const cpu0 = threadCpuSeconds();
  const input = inputOf(job);
  const chunks = new ChunkParser(job.parser);
  let batch = new TraceEventBatch(BATCH_CAPACITY);
  let textLeft = job.keepText;
  let busy = 0;
  const send = async (): Promise<void> => {
    if (batch.length === 0) return;
    const columns = batch.columns();
    post({ type: "batch", columns, length: batch.length, texts: batch.texts, bytes: input.ending.bytesOut, lines: chunks.parser.lineNumber, events: chunks.parser.recordCount }, columns);
    batch = new TraceEventBatch(0);
    const reused = spare.pop();
    if (reused !== undefined) batch.adopt(reused, 0, []);
    else batch = new TraceEventBatch(BATCH_CAPACITY);
    credits--;
    // Waiting for the consumer is not parsing: it is left out of busySeconds.
    while (credits <= 0) await new Promise<void>((r) => (wake = r));
  };
  // Events of `batch` the main thread would have been handed by now, parsing there: all of them but
  // those of a chunk whose parsing throws. On an error they go first, then the error, as there.
  let handed = 0;
  let t0 = performance.now();
  try {
    for await (const chunk of input.chunks()) {
      if (textLeft > 0) {
        const part = new Uint8Array(chunk.subarray(0, textLeft));
        textLeft -= part.length;
        post({ type: "text", chunk: part.buffer }, [part.buffer]);
      }
      chunks.feed(chunk, batch);
      busy += performance.now() - t0;
      handed = batch.length;
      if (batch.length >= SEND_EVENTS) {
        await send();
        handed = 0;
      }
      t0 = performance.now();
    }
    if (input.ending.truncated) chunks.parser.streamTruncated("gzip data ends");
    else chunks.end(batch);
  } catch (e) {
    batch.length = handed;
    await send();
    throw e;
  }
  busy += performance.now() - t0;
  await send();
  // A synthetic trace's generator is not reading: left out, as in the main thread.
  // CPU time too (load-independent, unlike busySeconds); a synthetic trace's generator, ~all CPU, is left out.
  const cpuSeconds = threadCpuSeconds() - cpu0 - input.ending.sourceSeconds;
  post({ type: "end", summary: chunks.summary(), ending: input.ending, busySeconds: busy / 1000 - input.ending.sourceSeconds, cpuSeconds });
}

port.on("message", (m: ToParseThread) => {
  if (m.type === "ack") {
    spare.push(m.columns);
    credits++;
    const w = wake;
    wake = null;
    w?.();
    return;
  }
  spare.length = 0;
  run(m.job).catch((e: unknown) => post({ type: "error", error: sendable(e) }));
});
