import type { FragmentCache } from "@mmkit/frag-cache";
import { ByteStream } from "./byte-stream.js";

/**
 * The protocol side: receives chunks from the ring, processes them a batch at a time on a later
 * turn of the event loop (as a softirq hands packets to a process), checks every byte against the
 * expected {@link ByteStream}, and frees each fragment when done with it. The queue is two typed
 * arrays (addresses and lengths) that double when full, so queueing a chunk creates no object; only
 * an emergency copy is kept aside.
 *
 * @example
 * ```ts
 * const consumer = new VerifyingConsumer(cache, 42);
 * const rx = new FragmentReceiver(cache, 2048, (address, length, copy) => consumer.push(address, length, copy));
 * await consumer.idle();
 * consumer.firstBadByte;   // -1
 * ```
 */
export class VerifyingConsumer {
  readonly cache: FragmentCache;
  firstBadByte = -1;
  bytes = 0;
  chunks = 0;
  maxQueued = 0;
  readonly #expected: ByteStream;
  #addresses = new Float64Array(256);
  #lengths = new Int32Array(256);
  /** Emergency copies, by queue position (address -1). */
  #copies = new Map<number, Uint8Array>();
  #queued = 0;
  #scheduled = false;
  #waiters: (() => void)[] = [];
  readonly #drainLater = (): void => this.#drain();

  /** True: each chunk is checked and freed inside the read callback (no queue). */
  readonly inline: boolean;

  constructor(cache: FragmentCache, seed: number, options: { inline?: boolean } = {}) {
    this.cache = cache;
    this.#expected = new ByteStream(seed);
    this.inline = options.inline === true;
  }

  /** Takes a chunk the ring delivered: a fragment (`address`, `length`), or a copy when `address` is -1. */
  push(address: number, length: number, copy: Uint8Array | null): void {
    const i = this.#queued;
    if (i === this.#addresses.length) this.#grow();
    this.#addresses[i] = address;
    this.#lengths[i] = length;
    if (copy !== null) this.#copies.set(i, copy);
    this.#queued = i + 1;
    if (this.#queued > this.maxQueued) this.maxQueued = this.#queued;
    if (this.inline) this.#drain();
    else if (!this.#scheduled) {
      this.#scheduled = true;
      setImmediate(this.#drainLater);
    }
  }

  /** Resolves once everything pushed so far is checked and freed. */
  idle(): Promise<void> {
    if (this.#queued === 0 && !this.#scheduled) return Promise.resolve();
    return new Promise((resolve) => this.#waiters.push(resolve));
  }

  #grow(): void {
    const addresses = new Float64Array(this.#addresses.length * 2);
    addresses.set(this.#addresses);
    const lengths = new Int32Array(this.#lengths.length * 2);
    lengths.set(this.#lengths);
    this.#addresses = addresses;
    this.#lengths = lengths;
  }

  #drain(): void {
    this.#scheduled = false;
    const n = this.#queued;
    for (let i = 0; i < n; i++) {
      const address = this.#addresses[i]!;
      const length = this.#lengths[i]!;
      const data = address === -1 ? this.#copies.get(i)! : this.cache.view(address, length);
      const bad = this.#expected.verify(data);
      if (bad >= 0 && this.firstBadByte < 0) this.firstBadByte = bad;
      this.bytes += length;
      this.chunks++;
      if (address !== -1) this.cache.free(address);
    }
    this.#queued = 0;
    this.#copies.clear();
    for (const w of this.#waiters.splice(0)) w();
  }
}
