import type { FragmentCache } from "@mmkit/frag-cache";
import { ByteStream } from "./byte-stream.js";
import type { RxChunk } from "./receiver.js";

/**
 * The protocol side: receives chunks from the ring, processes them a batch at a time on a later
 * turn of the event loop (as a softirq hands packets to a process), checks every byte against the
 * expected {@link ByteStream}, and frees each fragment when done with it.
 *
 * @example
 * ```ts
 * const consumer = new VerifyingConsumer(cache, 42);
 * const rx = new FragmentReceiver(cache, 2048, (chunk, copy) => consumer.push(chunk, copy));
 * await consumer.idle();
 * consumer.firstBadByte;   // -1
 * ```
 */
export class VerifyingConsumer {
  readonly cache: FragmentCache;
  /** Stream position of the first byte that did not match, or -1. */
  firstBadByte = -1;
  /** Bytes verified. */
  bytes = 0;
  /** Chunks processed and freed. */
  chunks = 0;
  /** Largest number of chunks waiting at once (fragments held by the consumer). */
  maxQueued = 0;
  readonly #expected: ByteStream;
  #queue: { chunk: RxChunk; copy: Uint8Array | undefined }[] = [];
  #scheduled = false;
  #waiters: (() => void)[] = [];

  /** True: each chunk is processed and freed at once, inside the read callback. */
  readonly inline: boolean;

  constructor(cache: FragmentCache, seed: number, options: { inline?: boolean } = {}) {
    this.cache = cache;
    this.#expected = new ByteStream(seed);
    this.inline = options.inline === true;
  }

  /** Queues a received chunk; it is verified and freed on a later turn (at once when `inline`). */
  push(chunk: RxChunk, copy?: Uint8Array): void {
    this.#queue.push({ chunk, copy });
    if (this.#queue.length > this.maxQueued) this.maxQueued = this.#queue.length;
    if (this.inline) this.#drain();
    else if (!this.#scheduled) {
      this.#scheduled = true;
      setImmediate(() => this.#drain());
    }
  }

  /** Resolves once every queued chunk has been processed. */
  idle(): Promise<void> {
    if (this.#queue.length === 0 && !this.#scheduled) return Promise.resolve();
    return new Promise((resolve) => this.#waiters.push(resolve));
  }

  #drain(): void {
    this.#scheduled = false;
    const queue = this.#queue;
    this.#queue = [];
    for (const { chunk, copy } of queue) {
      const data = copy ?? this.cache.view(chunk.address, chunk.length);
      const bad = this.#expected.verify(data);
      if (bad >= 0 && this.firstBadByte < 0) this.firstBadByte = bad;
      this.bytes += chunk.length;
      this.chunks++;
      if (chunk.address !== -1) this.cache.free(chunk.address);
    }
    if (this.#queue.length === 0) for (const w of this.#waiters.splice(0)) w();
  }
}
