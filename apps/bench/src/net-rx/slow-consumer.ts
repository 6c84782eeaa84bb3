import { spawn } from "node:child_process";
import net from "node:net";
import { PerformanceObserver } from "node:perf_hooks";
import { fileURLToPath } from "node:url";
import { ByteStream, FragmentReceiver, buildMemorySystem } from "@mmkit/net-rx";
import { SENDER_SEED } from "./sender.js";

const EMPTY = new Uint8Array(0);

/** The receive paths of the slow-consumer run. */
export const SLOW_PATHS = ["data events, queued", "data events, paused at the budget", "static onread buffer, views kept (no copy)", "net-rx fragments, paused when the arena is full"] as const;
export type SlowPath = (typeof SLOW_PATHS)[number];

/** What a slow-consumer run measured. */
export interface SlowFigures {
  path: SlowPath;
  bytes: number;
  elapsedMs: number;
  /** Most bytes received and not yet consumed at once. */
  peakQueuedBytes: number;
  /** Highest resident set size sampled (every consumer tick), and at the start. */
  peakRssBytes: number;
  startRssBytes: number;
  /** Highest `process.memoryUsage().arrayBuffers` sampled (Buffers and typed arrays outside the JS heap), and at the start. */
  peakArrayBufferBytes: number;
  startArrayBufferBytes: number;
  /** Chunks whose bytes were not the stream's when the consumer got to them, and the first wrong stream position (-1: none). */
  corruptChunks: number;
  firstWrongByte: number;
  /** Bytes the receive path copied to keep the data (0 on every path here). */
  bytesCopied: number;
  gcCount: number;
  gcPauseMs: number;
  /** net-rx: reads that found the arena empty and went to the emergency buffer (0 when pausing works). */
  emergencyReads: number;
  /** net-rx: bytes of the arena behind the fragments. */
  arenaBytes: number;
}

/** Options of {@link receiveSlowly}. */
export interface SlowOptions {
  /** Bytes the sender sends (every one is verified). */
  bytes: number;
  /** Bytes the consumer gets through per millisecond. */
  bytesPerMs: number;
  /** What the paths that bound their memory hold at most: queued bytes, or net-rx's arena. */
  budget: number;
}

/**
 * Receives a ByteStream from the sender at 127.0.0.1:`port` along `path` while a slow consumer
 * (a timer every 2 ms that gets through `bytesPerMs` bytes per millisecond elapsed) verifies each
 * chunk long after its read callback returned, and then lets it go. It shows what each path does
 * with memory when the consumer lags (queue everything; pause the socket at a byte budget; or
 * net-rx: reads land in fragments of a fixed arena and the socket pauses when the arena is nearly
 * full, so TCP pushes back on the sender) and whether the data outlives the callback intact without
 * a copy (a static onread buffer's views do not: the next read overwrites them). Samples RSS and
 * array-buffer memory every tick, counts GCs. Run it in a fresh process for a clean RSS figure.
 *
 * @example
 * ```ts
 * const f = await receiveSlowly("net-rx fragments, paused when the arena is full", port, { bytes: 32 << 20, bytesPerMs: 64_000, budget: 4 << 20 });
 * f.corruptChunks;   // 0
 * ```
 */
export async function receiveSlowly(path: SlowPath, port: number, options: SlowOptions): Promise<SlowFigures> {
  const { bytes, bytesPerMs, budget } = options;
  const expected = new ByteStream(SENDER_SEED);
  const start = process.memoryUsage();
  const f: SlowFigures = { path, bytes: 0, elapsedMs: 0, peakQueuedBytes: 0, peakRssBytes: start.rss, startRssBytes: start.rss, peakArrayBufferBytes: start.arrayBuffers, startArrayBufferBytes: start.arrayBuffers, corruptChunks: 0, firstWrongByte: -1, bytesCopied: 0, gcCount: 0, gcPauseMs: 0, emergencyReads: 0, arenaBytes: 0 };
  // The queue: chunks as views (Node paths) or fragment addresses (net-rx), with their lengths.
  const views: Uint8Array[] = [];
  const addresses: number[] = [];
  const lengths: number[] = [];
  let head = 0;
  let queued = 0;
  let paused = false;
  let socket: net.Socket;
  // The chunk's bytes for the consumer, and letting it go after (dropping the view, or freeing the fragment).
  let release: (i: number) => Uint8Array = (i) => views[i]!;
  let finishChunk = (i: number): void => {
    views[i] = EMPTY;
  };
  let pauseNow = (): boolean => false;
  let resumeNow = (): boolean => false;
  let closeReceiver = (): void => {};
  const enqueue = (view: Uint8Array | null, address: number, length: number): void => {
    if (view !== null) views.push(view);
    addresses.push(address);
    lengths.push(length);
    queued += length;
    f.bytes += length;
    if (queued > f.peakQueuedBytes) f.peakQueuedBytes = queued;
  };

  const observer = new PerformanceObserver((list) => {
    for (const e of list.getEntries()) {
      f.gcCount++;
      f.gcPauseMs += e.duration;
    }
  });
  observer.observe({ entryTypes: ["gc"] });
  const started = performance.now();
  if (path === "net-rx fragments, paused when the arena is full") {
    const { buddy, cache } = buildMemorySystem({ memoryBytes: budget });
    f.arenaBytes = budget;
    const pages = buddy.freePageCount();
    // Pause while a quarter of the arena is free (well above the buddy allocator's watermarks, so a
    // read never finds the arena empty); resume at half.
    pauseNow = () => buddy.freePageCount() < pages / 4;
    resumeNow = () => buddy.freePageCount() >= pages / 2;
    // An emergency read (the arena was empty after all) comes as a copy: queued as a view, counted.
    const rx = new FragmentReceiver(cache, { adaptive: true }, (address, length, copy) => {
      if (copy !== null) f.bytesCopied += length;
      enqueue(copy ?? EMPTY, address, length);
    });
    release = (i) => (addresses[i] === -1 ? views[i]! : cache.view(addresses[i]!, lengths[i]!));
    finishChunk = (i) => {
      if (addresses[i] !== -1) cache.free(addresses[i]!);
      views[i] = EMPTY;
    };
    closeReceiver = () => {
      rx.close();
      f.emergencyReads = rx.stats.emergencyReads;
    };
    socket = net.connect({
      port,
      host: "127.0.0.1",
      onread: {
        buffer: rx.onread.buffer,
        callback: (nread, buf) => {
          rx.onread.callback(nread, buf);
          // Paused, the socket stops reading: the kernel's buffers fill and TCP stops the sender.
          if (pauseNow()) {
            paused = true;
            socket.pause();
          }
          return true;
        },
      },
    });
  } else if (path === "static onread buffer, views kept (no copy)") {
    const buffer = new Uint8Array(64 << 10);
    pauseNow = () => queued >= budget;
    resumeNow = () => queued < budget / 2;
    socket = net.connect({
      port,
      host: "127.0.0.1",
      onread: {
        buffer,
        callback: (nread, buf) => {
          enqueue(buf.subarray(0, nread), -1, nread);
          if (pauseNow()) {
            paused = true;
            socket.pause();
          }
          return true;
        },
      },
    });
  } else {
    const bounded = path === "data events, paused at the budget";
    pauseNow = () => bounded && queued >= budget;
    resumeNow = () => queued < budget / 2;
    socket = net.connect({ port, host: "127.0.0.1" });
    socket.on("data", (b: Buffer) => {
      enqueue(b, -1, b.length);
      if (pauseNow()) {
        paused = true;
        socket.pause();
      }
    });
  }

  await new Promise<void>((resolve, reject) => {
    let closed = false;
    let last = performance.now();
    const tick = (): void => {
      const now = performance.now();
      let allowance = (now - last) * bytesPerMs;
      last = now;
      while (allowance > 0 && head < lengths.length) {
        const data = release(head);
        const bad = expected.verify(data);
        if (bad >= 0) {
          f.corruptChunks++;
          if (f.firstWrongByte < 0) f.firstWrongByte = bad;
        }
        finishChunk(head);
        allowance -= lengths[head]!;
        queued -= lengths[head]!;
        head++;
      }
      // Drop what was consumed from the front of the queue now and then (cheap amortised).
      if (head > 4096) {
        views.splice(0, Math.min(head, views.length));
        addresses.splice(0, head);
        lengths.splice(0, head);
        head = 0;
      }
      const m = process.memoryUsage();
      if (m.rss > f.peakRssBytes) f.peakRssBytes = m.rss;
      if (m.arrayBuffers > f.peakArrayBufferBytes) f.peakArrayBufferBytes = m.arrayBuffers;
      if (paused && resumeNow()) {
        paused = false;
        socket.resume();
      }
      if (closed && head === lengths.length) {
        clearInterval(timer);
        resolve();
      }
    };
    const timer = setInterval(tick, 2);
    socket.once("error", (e) => {
      clearInterval(timer);
      reject(e);
    });
    socket.once("close", () => {
      closeReceiver();
      closed = true;
    });
  });
  f.elapsedMs = performance.now() - started;
  await new Promise((resolve) => setImmediate(resolve));
  observer.disconnect();
  if (f.bytes !== bytes) throw new Error(`${path}: received ${f.bytes} of ${bytes} bytes`);
  return f;
}

const PROCESS_SCRIPT = fileURLToPath(new URL("./slow-consumer-process.ts", import.meta.url));
// apps/bench, where `tsx` resolves from.
const BENCH_DIR = fileURLToPath(new URL("../..", import.meta.url));

/**
 * {@link receiveSlowly} in a fresh Node process (slow-consumer-process.ts), so the RSS and
 * array-buffer figures are this path's alone and no earlier path's garbage is collected on its time.
 *
 * @example
 * ```ts
 * const f = await receiveSlowlyInProcess("data events, queued", sender.port, { bytes: 32 << 20, bytesPerMs: 32_000, budget: 4 << 20 });
 * ```
 */
export function receiveSlowlyInProcess(path: SlowPath, port: number, options: SlowOptions): Promise<SlowFigures> {
  const args = [PROCESS_SCRIPT, path, String(port), String(options.bytes), String(options.bytesPerMs), String(options.budget)];
  const child = spawn(process.execPath, ["--import", "tsx", ...args], { cwd: BENCH_DIR, stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  let err = "";
  child.stdout.setEncoding("utf8").on("data", (t: string) => (out += t));
  child.stderr.setEncoding("utf8").on("data", (t: string) => (err += t));
  return new Promise((resolve, reject) => {
    child.once("error", reject);
    child.once("exit", (code) => {
      if (code === 0) resolve(JSON.parse(out) as SlowFigures);
      else reject(new Error(`net-rx slow consumer (${path}) exited with ${code}: ${err.trim().split("\n").slice(-3).join(" ")}`));
    });
  });
}
