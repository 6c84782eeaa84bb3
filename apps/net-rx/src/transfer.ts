import net from "node:net";
import type { FragmentCacheStats } from "@mmkit/frag-cache";
import { ByteStream } from "./byte-stream.js";
import { VerifyingConsumer } from "./consumer.js";
import { buildMemorySystem, type MemorySystemOptions } from "./memory-system.js";
import { FragmentReceiver, type ReceiverStats } from "./receiver.js";

/** Options for {@link runTransfer}. */
export interface TransferOptions extends MemorySystemOptions {
  /** Bytes to send (default 64 MiB). */
  bytes?: number;
  /** Bytes per receive fragment, i.e. per socket read (default 2048, a NIC rx buffer). */
  fragSize?: number;
  /** Seed of the byte stream (default 1). */
  seed?: number;
  /** Bytes per write on the sending side (default 64 KiB). */
  writeSize?: number;
  /** Process and free each chunk inside the read callback instead of on a later turn (default false). */
  inlineConsumer?: boolean;
  /** Adapt the fragment size to the reads (see `ReceiverOptions.adaptive`). */
  adaptive?: boolean;
  /** Give up after this many milliseconds (default 60 000). */
  timeoutMs?: number;
}

/** What a transfer did. */
export interface TransferReport {
  bytesSent: number;
  bytesReceived: number;
  /** Stream position of the first wrong byte received, or -1 when every byte arrived intact. */
  firstBadByte: number;
  elapsedMs: number;
  /** Received megabytes (10^6 bytes) per second. */
  megabytesPerSecond: number;
  receiver: ReceiverStats;
  /** The read buffer size at the end (changes only when adaptive). */
  finalFragSize: number;
  /** Largest number of received chunks the consumer held at once. */
  maxQueued: number;
  /** The fragment cache's counters after the consumer freed everything and the cache was drained. */
  cache: FragmentCacheStats;
  /** Pages the buddy allocator had free before and after the transfer. */
  freePagesBefore: number;
  freePagesAfter: number;
}

/**
 * Sends `bytes` of a deterministic stream over TCP on 127.0.0.1 and receives it through a
 * {@link FragmentReceiver}: every read lands in a fresh fragment of a `FragmentCache` over a buddy
 * allocator, a {@link VerifyingConsumer} checks and frees each one, and at the end the cache is
 * drained so every page goes back to the buddy allocator. Loopback only; bounded by `timeoutMs`.
 *
 * @example
 * ```ts
 * const report = await runTransfer({ bytes: 8 << 20 });
 * report.firstBadByte;                                  // -1
 * report.freePagesAfter === report.freePagesBefore;     // true
 * ```
 */
export async function runTransfer(options: TransferOptions = {}): Promise<TransferReport> {
  const total = options.bytes ?? 64 << 20;
  const fragSize = options.fragSize ?? 2048;
  const seed = options.seed ?? 1;
  const writeSize = options.writeSize ?? 64 << 10;
  const { buddy, cache } = buildMemorySystem(options);
  const freePagesBefore = buddy.freePageCount();
  const consumer = new VerifyingConsumer(cache, seed, { inline: options.inlineConsumer === true });
  const receiver = new FragmentReceiver(cache, { fragSize, adaptive: options.adaptive === true }, (address, length, copy) => consumer.push(address, length, copy));

  const server = net.createServer((socket) => {
    // The sender: the same stream, written in chunks, respecting back-pressure.
    const tx = new ByteStream(seed);
    let sent = 0;
    const pump = (): void => {
      while (sent < total) {
        const chunk = new Uint8Array(Math.min(writeSize, total - sent));
        tx.fill(chunk);
        sent += chunk.length;
        if (!socket.write(chunk)) {
          socket.once("drain", pump);
          return;
        }
      }
      socket.end();
    };
    pump();
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve());
  });
  const { port } = server.address() as net.AddressInfo;

  const started = performance.now();
  try {
    await new Promise<void>((resolve, reject) => {
      const socket = net.connect({ port, host: "127.0.0.1", onread: receiver.onread });
      const timer = setTimeout(() => {
        socket.destroy();
        reject(new Error(`net-rx: transfer did not finish within ${options.timeoutMs ?? 60_000} ms`));
      }, options.timeoutMs ?? 60_000);
      socket.once("error", (error) => {
        clearTimeout(timer);
        reject(error);
      });
      socket.once("close", () => {
        clearTimeout(timer);
        resolve();
      });
    });
  } finally {
    receiver.close();
    server.close();
  }
  await consumer.idle();
  const elapsedMs = performance.now() - started;
  cache.drain();
  cache.check();
  return {
    bytesSent: total,
    bytesReceived: consumer.bytes,
    firstBadByte: consumer.firstBadByte,
    elapsedMs,
    megabytesPerSecond: consumer.bytes / 1e6 / (elapsedMs / 1000),
    receiver: { ...receiver.stats },
    finalFragSize: receiver.fragSize,
    maxQueued: consumer.maxQueued,
    cache: cache.stats(),
    freePagesBefore,
    freePagesAfter: buddy.freePageCount(),
  };
}
