import net from "node:net";
import { PerformanceObserver } from "node:perf_hooks";
import { buildMemorySystem, type MemorySystem } from "./memory-system.js";
import { FragmentReceiver } from "./receiver.js";

/** One way of receiving a TCP stream in Node. */
export type ReceivePath = "data events" | "data events + copy kept" | "static onread buffer" | "static onread + copy kept" | "net-rx fragments" | "net-rx fragments, adaptive";

export const RECEIVE_PATHS: readonly ReceivePath[] = ["data events", "data events + copy kept", "static onread buffer", "static onread + copy kept", "net-rx fragments", "net-rx fragments, adaptive"];

/** What one path measured over all its rounds. */
export interface PathFigures {
  path: ReceivePath;
  /** Median over rounds. */
  megabytesPerSecond: number;
  /** CPU (user + system) per GiB received, median over rounds, in ms. */
  cpuMsPerGiB: number;
  /** Garbage collections and their total pause, summed over rounds. */
  gcCount: number;
  gcPauseMs: number;
  /** Do the received bytes outlive the read callback without a copy of them? */
  outlivesCallback: boolean;
  /** Reads per round (median). */
  reads: number;
}

/** Sends `bytes` from a server on 127.0.0.1 (one 64 KiB chunk written again and again, with back-pressure); resolves with the port and a closer. */
async function startSender(bytes: number): Promise<{ port: number; close: () => void }> {
  const chunk = new Uint8Array(64 << 10).map((_, i) => i * 31);
  const server = net.createServer((socket) => {
    let sent = 0;
    const pump = (): void => {
      while (sent < bytes) {
        const n = Math.min(chunk.length, bytes - sent);
        sent += n;
        if (!socket.write(n === chunk.length ? chunk : chunk.subarray(0, n))) {
          socket.once("drain", pump);
          return;
        }
      }
      socket.end();
    };
    pump();
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", () => resolve()));
  return { port: (server.address() as net.AddressInfo).port, close: () => server.close() };
}

/**
 * Receives one stream from a sender listening on 127.0.0.1:`port` along `path` (net-rx paths over
 * `memory`: a memory system of that many bytes built for this receive, or one built before and reused),
 * dropping or freeing each chunk as it arrives;
 * resolves with the bytes and reads counted when the sender closes. Cost: the transfer; the Node
 * paths allocate what Node does per read, net-rx none.
 *
 * @example
 * ```ts
 * const { bytes, reads } = await receivePath("static onread buffer", port, 32 << 20);
 * ```
 */
export function receivePath(path: ReceivePath, port: number, memory: number | MemorySystem): Promise<{ bytes: number; reads: number }> {
  return new Promise((resolve, reject) => {
    let bytes = 0;
    let reads = 0;
    let socket: net.Socket;
    // Kept copies are dropped at once (the consumer is done); what is measured is making them.
    let kept: Uint8Array | null = null;
    let finish: () => void = () => resolve({ bytes, reads });
    if (path === "data events" || path === "data events + copy kept") {
      const copy = path === "data events + copy kept";
      socket = net.connect({ port, host: "127.0.0.1" });
      socket.on("data", (b: Buffer) => {
        reads++;
        bytes += b.length;
        if (copy) kept = new Uint8Array(b);
      });
    } else if (path === "static onread buffer" || path === "static onread + copy kept") {
      const copy = path === "static onread + copy kept";
      const buffer = new Uint8Array(64 << 10);
      socket = net.connect({
        port,
        host: "127.0.0.1",
        onread: {
          buffer,
          callback: (nread: number, buf: Uint8Array) => {
            reads++;
            bytes += nread;
            if (copy) kept = buf.slice(0, nread);
            return true;
          },
        },
      });
    } else {
      const { cache } = typeof memory === "number" ? buildMemorySystem({ memoryBytes: memory }) : memory;
      // The consumer frees each fragment as it arrives: the data outlived the callback without a copy, until then.
      const rx = new FragmentReceiver(cache, { fragSize: 2048, adaptive: path === "net-rx fragments, adaptive" }, (address, length) => {
        bytes += length;
        if (address !== -1) cache.free(address);
      });
      socket = net.connect({ port, host: "127.0.0.1", onread: rx.onread });
      finish = () => {
        rx.close();
        reads = rx.stats.reads;
        resolve({ bytes, reads });
      };
    }
    void kept;
    socket.once("error", reject);
    socket.once("close", () => finish());
  });
}

function median(xs: number[]): number {
  const s = xs.slice().sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

/**
 * Receives `bytes` over loopback along every path, `rounds` times each, interleaved (round r runs
 * the paths in an order rotated by r, so a neighbour's load lands on all of them alike): throughput,
 * CPU per GiB, GC count and pause (from `PerformanceObserver` "gc" entries), and whether the data
 * outlives the read callback without a copy.
 *
 * With `sender` the stream comes from a server elsewhere (another process, which must send `bytes`
 * on every connection), so the CPU and GC figures are the receiver's own; without it a server in
 * this process sends. `settle` runs before each measured receive (the bench collects garbage there,
 * so no path is charged what the one before it left).
 *
 * @example
 * ```ts
 * const rows = await compareReceivePaths({ bytes: 256 << 20, rounds: 5 });
 * ```
 */
export async function compareReceivePaths(options: { bytes?: number; rounds?: number; paths?: readonly ReceivePath[]; sender?: { port: number }; settle?: () => void } = {}): Promise<PathFigures[]> {
  const bytes = options.bytes ?? 256 << 20;
  const rounds = options.rounds ?? 5;
  const paths = options.paths ?? RECEIVE_PATHS;
  const samples = new Map<ReceivePath, { mbps: number[]; cpu: number[]; reads: number[]; gcCount: number; gcMs: number }>();
  for (const p of paths) samples.set(p, { mbps: [], cpu: [], reads: [], gcCount: 0, gcMs: 0 });
  // Every GC seen (start and duration), so each receive counts those that started inside it: an
  // entry arrives a turn or more after its GC, and a GC forced by `settle` must not count.
  const gcStarts: number[] = [];
  const gcDurations: number[] = [];
  const observer = new PerformanceObserver((list) => {
    for (const e of list.getEntries()) {
      gcStarts.push(e.startTime);
      gcDurations.push(e.duration);
    }
  });
  observer.observe({ entryTypes: ["gc"] });
  // net-rx's memory systems are built once per path, before the rounds, as a server would build its
  // own once: a receive then pays for reading, not for a fresh 32 MiB arena.
  const systems = new Map<ReceivePath, MemorySystem>();
  for (const p of paths) if (p.startsWith("net-rx")) systems.set(p, buildMemorySystem({ memoryBytes: 32 << 20 }));
  try {
    for (let r = 0; r < rounds; r++) {
      for (let k = 0; k < paths.length; k++) {
        const path = paths[(k + r) % paths.length]!;
        const own = options.sender === undefined ? await startSender(bytes) : null;
        const port = own?.port ?? options.sender!.port;
        options.settle?.();
        const cpu0 = process.cpuUsage();
        const t0 = performance.now();
        const got = await receivePath(path, port, systems.get(path) ?? 32 << 20);
        const t1 = performance.now();
        const cpu = process.cpuUsage(cpu0);
        own?.close();
        // Let the observer deliver this receive's entries.
        await new Promise((resolve) => setTimeout(resolve, 10));
        if (got.bytes !== bytes) throw new Error(`${path}: received ${got.bytes} of ${bytes} bytes`);
        const s = samples.get(path)!;
        s.mbps.push(bytes / 1e6 / ((t1 - t0) / 1000));
        s.cpu.push((cpu.user + cpu.system) / 1000 / (bytes / 2 ** 30));
        s.reads.push(got.reads);
        for (let i = 0; i < gcStarts.length; i++) {
          if (gcStarts[i]! < t0 || gcStarts[i]! > t1) continue;
          s.gcCount++;
          s.gcMs += gcDurations[i]!;
        }
        gcStarts.length = 0;
        gcDurations.length = 0;
      }
    }
  } finally {
    observer.disconnect();
  }
  return paths.map((path) => {
    const s = samples.get(path)!;
    return {
      path,
      megabytesPerSecond: median(s.mbps),
      cpuMsPerGiB: median(s.cpu),
      gcCount: s.gcCount,
      gcPauseMs: s.gcMs,
      outlivesCallback: path !== "static onread buffer",
      reads: median(s.reads),
    };
  });
}
